"""One course's learner records (GET /api/records) as staff read them: status words, the two kinds
of completion evidence kept apart, answer summaries, progress bands and their chart, the CSV.

Pure (no browser, no clock): the report page (app/report_view.py) draws what this computes, and
the wording is tested on CPython. A record is one item of the records API's "records" list.

Reported and verified evidence never share a word or a mark: a completion the browser reported
(a page's console can forge it) reads "Reported complete" with a hollow mark, one Coassemble's
signed webhook verified reads "Verified complete" with a check mark.
"""

from coursewire.core import csvsafe, present

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED_REPORTED = "completed_reported"
COMPLETED_VERIFIED = "completed_verified"

STATUS_TEXT = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    COMPLETED_REPORTED: "Completed (reported by the browser, not verified)",
    COMPLETED_VERIFIED: "Completed (verified by Coassemble)",
}

REPORTED_MARK = "\u25cc"  # ◌ dotted circle: claimed, not proven
VERIFIED_MARK = "\u2714"  # ✔ heavy check mark: proven by a signed webhook

MAX_COURSE_CHARS = 128
_COURSE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"


def course_param(text):
    """The course id in `text` (the page's ?course=), or None when the server would refuse it
    (the same rule as coursewire/server/ids.py)."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_COURSE_CHARS:
        return None
    for char in text:
        if char not in _COURSE_CHARS:
            return None
    return text


def status_text(status):
    return STATUS_TEXT.get(status, str(status))


def reported_evidence(record):
    """What the learner's browser reported: {"state": "completed" | "started" | "none", "mark",
    "text", "time"} (time: the ISO time of that evidence, or None)."""
    if record.get("reported_completed_at"):
        return {"state": "completed", "mark": REPORTED_MARK, "text": "Reported complete",
                "time": record["reported_completed_at"]}
    if record.get("reported_started_at"):
        return {"state": "started", "mark": "", "text": "Reported started", "time": record["reported_started_at"]}
    return {"state": "none", "mark": "", "text": "Nothing reported", "time": None}


def verified_evidence(record):
    """What Coassemble's signed webhooks verified, in the same shape as reported_evidence."""
    if record.get("verified_completed_at"):
        return {"state": "completed", "mark": VERIFIED_MARK, "text": "Verified complete",
                "time": record["verified_completed_at"]}
    if record.get("verified_commenced_at"):
        return {"state": "started", "mark": "", "text": "Verified started", "time": record["verified_commenced_at"]}
    return {"state": "none", "mark": "", "text": "Not verified", "time": None}


def last_activity(record):
    """The latest ISO time of any evidence (the server keeps one spelling, so text order is time
    order), or None."""
    times = [record.get(name) for name in ("last_event_at", "verified_commenced_at", "verified_completed_at")]
    times = [t for t in times if isinstance(t, str) and t]
    return max(times) if times else None


def quiz_entry(answer):
    """A records-API answer as present.py's quiz entry (the same fields; `event` defaults to answer)."""
    entry = dict(answer)
    entry["event"] = answer.get("event") or "answer"
    return entry


def answer_counts(answers):
    """(answers given, of them correct, the highest attempt) for a learner's answers list."""
    given = correct = highest = 0
    for answer in answers:
        attempt = answer.get("attempt")
        if isinstance(attempt, int) and attempt > highest:
            highest = attempt
        if answer.get("event") == "answer":
            given += 1
            if answer.get("correct") is True:
                correct += 1
    return given, correct, highest


def answers_summary(answers):
    """"No answers" or e.g. "3 answers · 2 correct · 2 attempts"."""
    given, correct, highest = answer_counts(answers)
    if not given:
        return "No answers"
    text = "%d answer%s · %d correct" % (given, "" if given == 1 else "s", correct)
    if highest > 1:
        text += " · %d attempts" % highest
    return text


def answer_line(answer):
    """One answer as a line of text: screen — answer — result — attempt N."""
    cells = present.quiz_cells(quiz_entry(answer))
    _, screen, _, given, result, attempt = cells
    parts = [screen] + ([given] if given != "—" else []) + [result, "attempt " + attempt]
    return " — ".join(parts)


# -- the progress distribution --

BANDS = [(low, low + 9) for low in range(0, 100, 10)] + [(100, 100)]


def band_label(low, high):
    return "%d%%" % low if low == high else "%d–%d%%" % (low, high)


def progress_bands(records):
    """Learners per progress band: [{"low", "high", "label", "count"}] for 0–9 % … 90–99 %, 100 %."""
    bands = [{"low": low, "high": high, "label": band_label(low, high), "count": 0} for low, high in BANDS]
    for record in records:
        progress = record.get("progress")
        if not isinstance(progress, int) or isinstance(progress, bool):
            continue
        progress = max(0, min(100, progress))
        bands[min(progress // 10, 10)]["count"] += 1
    return bands


def bands_text(bands):
    """The chart's accessible description: every band and its count, in words."""
    return "; ".join("%s: %d learner%s" % (band["label"], band["count"], "" if band["count"] == 1 else "s")
                     for band in bands) + "."


# Horizontal bars (labels stay readable on a phone): the chart's coordinate system, in SVG units.
CHART_WIDTH = 360
CHART_ROW = 20
CHART_BAR = 13
CHART_LABEL_WIDTH = 76
CHART_COUNT_ROOM = 34


def chart_height(bands):
    return len(bands) * CHART_ROW + 4


def chart_bars(bands):
    """Where each band's bar and texts go: [{"label", "count", "x", "y", "width", "height",
    "label_x", "text_y", "count_x"}]; the longest bar spans the plot, the others in proportion."""
    plot = CHART_WIDTH - CHART_LABEL_WIDTH - CHART_COUNT_ROOM
    most = max([band["count"] for band in bands] + [1])
    bars = []
    for index, band in enumerate(bands):
        top = 2 + index * CHART_ROW + (CHART_ROW - CHART_BAR) / 2
        width = plot * band["count"] / most
        bars.append({
            "label": band["label"], "count": band["count"],
            "x": CHART_LABEL_WIDTH, "y": top, "width": width, "height": CHART_BAR,
            "label_x": CHART_LABEL_WIDTH - 6, "text_y": top + CHART_BAR - 2,
            "count_x": CHART_LABEL_WIDTH + width + 5,
        })
    return bars


# -- the CSV export --

CSV_COLUMNS = ("Learner", "Progress (%)", "Status", "Reported started (UTC)", "Reported completed (UTC)",
               "Verified commenced (UTC)", "Verified completed (UTC)", "Last activity (UTC)", "Answers",
               "Correct", "Highest attempt", "Answer log")


def csv_row(record):
    answers = record.get("answers") or []
    given, correct, highest = answer_counts(answers)
    return [
        record.get("learner"), record.get("progress"), status_text(record.get("status")),
        record.get("reported_started_at"), record.get("reported_completed_at"),
        record.get("verified_commenced_at"), record.get("verified_completed_at"), last_activity(record),
        given, correct, highest or "", "; ".join(answer_line(answer) for answer in answers),
    ]


def roster_csv(records):
    """The table as CSV: one row per learner (in the given order), answers summarised, every cell
    formula-safe (csvsafe)."""
    return csvsafe.csv_text([list(CSV_COLUMNS)] + [csv_row(record) for record in records])


def merge(by_learner, changed):
    """Fold the records of a poll into `by_learner` (learner -> record, changed in place); returns
    the learners whose record changed, in table order (code-point order, as the server sorts)."""
    updated = []
    for record in changed:
        learner = record.get("learner")
        if isinstance(learner, str) and by_learner.get(learner) != record:
            by_learner[learner] = record
            updated.append(learner)
    return sorted(updated)
