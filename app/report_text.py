"""The report page's words for a course's learner records: answer summaries, the progress chart's
geometry and description, the summary, page and erasure sentences, the CSV export.

Demo-only (the host library does not ship it); pure (no browser), so the wording is tested on
CPython. The statuses, evidence and progress bands it builds on are the core's
(coursewire/core/roster.py), shared with the server's summary.
"""

from app import csvsafe, present
from coursewire.core.roster import BANDS, STATUS_TEXT, band_label, last_activity, status_text
from coursewire.core.vocabulary import is_int


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


def answers_summary(answers, total=None):
    """ "No answers" or e.g. "3 answers · 2 correct · 2 attempts". `total`: how many the record
    holds when `answers` are only its newest ones (the records API's answers_total)."""
    given, correct, highest = answer_counts(answers)
    if is_int(total) and total > len(answers):
        return "%s answers and events; the newest %d shown" % (present.grouped(total), len(answers))
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


def bands_text(bands):
    """The chart's accessible description: every band and its count, in words."""
    return (
        "; ".join(
            "%s: %s learner%s" % (band["label"], present.grouped(band["count"]), "" if band["count"] == 1 else "s")
            for band in bands
        )
        + "."
    )


def summary_of(value):
    """The records summary (GET /api/records/summary) as the page draws it: {"learners",
    "statuses": {status: n}, "bands"}, or None when `value` is not one (rendering never raises
    on what the server sent)."""
    if not isinstance(value, dict):
        return None
    learners, statuses, given = value.get("learners"), value.get("statuses"), value.get("bands")
    if (
        not _count(learners)
        or not isinstance(statuses, dict)
        or not isinstance(given, list)
        or len(given) != len(BANDS)
    ):
        return None
    counts = {}
    for status in STATUS_TEXT:
        counts[status] = statuses.get(status, 0)
        if not _count(counts[status]):
            return None
    bands = []
    for (low, high), band in zip(BANDS, given):
        if not isinstance(band, dict) or not _count(band.get("count")):
            return None
        bands.append({"low": low, "high": high, "label": band_label(low, high), "count": band["count"]})
    return {"learners": learners, "statuses": counts, "bands": bands}


def _count(value):
    return is_int(value) and value >= 0


def page_text(first, shown, total):
    """ "Learners 101–200 of 10,000" for a page whose first learner is number `first` (from 1)."""
    if shown <= 0:
        return "No learners on this page"
    last = first + shown - 1
    text = (
        "Learner %s" % present.grouped(first)
        if shown == 1
        else "Learners %s–%s" % (present.grouped(first), present.grouped(last))
    )
    return text + (" of %s" % present.grouped(total) if isinstance(total, int) and total >= last else "")


# Horizontal bars (labels stay readable on a phone): the chart's coordinate system, in SVG units.
CHART_WIDTH = 360
CHART_ROW = 20
CHART_BAR = 13
CHART_LABEL_WIDTH = 76
CHART_COUNT_ROOM = 34  # at least; more when the largest count is longer (count_room)
CHART_DIGIT = 9.5  # the width of one digit or separator of a count at the chart's 14-unit bold type


def chart_height(bands):
    return len(bands) * CHART_ROW + 4


def count_room(bands):
    """Room right of the bars for the counts: the longest count's text always fits ("10,000"
    was clipped to "100" at the chart's edge)."""
    longest = max([len(present.grouped(band["count"])) for band in bands] + [1])
    return max(CHART_COUNT_ROOM, 8 + longest * CHART_DIGIT)


def chart_bars(bands):
    """Where each band's bar and texts go: [{"label", "count", "text", "x", "y", "width", "height",
    "label_x", "text_y", "count_x"}]; the longest bar spans the plot, the others in proportion."""
    plot = CHART_WIDTH - CHART_LABEL_WIDTH - count_room(bands)
    most = max([band["count"] for band in bands] + [1])
    bars = []
    for index, band in enumerate(bands):
        top = 2 + index * CHART_ROW + (CHART_ROW - CHART_BAR) / 2
        width = plot * band["count"] / most
        bars.append(
            {
                "label": band["label"],
                "count": band["count"],
                "text": present.grouped(band["count"]),
                "x": CHART_LABEL_WIDTH,
                "y": top,
                "width": width,
                "height": CHART_BAR,
                "label_x": CHART_LABEL_WIDTH - 6,
                "text_y": top + CHART_BAR - 2,
                "count_x": CHART_LABEL_WIDTH + width + 5,
            }
        )
    return bars


# -- erasure --

ERASED_PARTS = (
    ("records", "record"),
    ("reported_events", "reported event"),
    ("quiz_answers", "quiz answer"),
    ("quiz_screens", "quiz screen"),
    ("webhook_deliveries", "webhook delivery"),
)
COASSEMBLE_ERASURE = {
    "erased": "Coassemble confirmed it erased the learner.",
    "not found": "Coassemble holds nothing about the learner.",
    "not configured": "Coassemble was not asked: this server has no Coassemble API key.",
}


def erasure_text(learner, answer):
    """What an erasure (DELETE /api/learners/<id>) removed, here and at Coassemble, in words."""
    removed = answer.get("removed") if isinstance(answer, dict) else None
    removed = removed if isinstance(removed, dict) else {}
    parts = []
    for key, word in ERASED_PARTS:
        count = removed.get(key)
        if _count(count) and count:
            plural = "webhook deliveries" if key == "webhook_deliveries" else word + "s"
            parts.append("%s %s" % (present.grouped(count), word if count == 1 else plural))
    text = "Erased %s: %s removed here." % (learner, ", ".join(parts) if parts else "nothing was")
    if not parts:
        text = "Erased %s: nothing was held here." % learner
    coassemble = answer.get("coassemble") if isinstance(answer, dict) else None
    if coassemble in COASSEMBLE_ERASURE:
        return text + " " + COASSEMBLE_ERASURE[coassemble]
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, str) and error:  # the server's sentence says what failed and how to retry
        return text + " Coassemble did not confirm it: " + present.preview(error, 300)
    return text + " Coassemble did not confirm it: retry with coursewire erase."


# -- the CSV export --

CSV_COLUMNS = (
    "Learner",
    "Progress (%)",
    "Status",
    "Reported started (UTC)",
    "Reported completed (UTC)",
    "Verified commenced (UTC)",
    "Verified completed (UTC)",
    "Last activity (UTC)",
    "Answers",
    "Correct",
    "Highest attempt",
    "Answer log",
)


def csv_row(record):
    answers = record.get("answers") or []
    given, correct, highest = answer_counts(answers)
    return [
        record.get("learner"),
        record.get("progress"),
        status_text(record.get("status")),
        record.get("reported_started_at"),
        record.get("reported_completed_at"),
        record.get("verified_commenced_at"),
        record.get("verified_completed_at"),
        last_activity(record),
        given,
        correct,
        highest or "",
        "; ".join(answer_line(answer) for answer in answers),
    ]


def roster_csv(records):
    """The table as CSV: one row per learner (in the given order), answers summarised, every cell
    formula-safe (csvsafe)."""
    return csvsafe.csv_text([list(CSV_COLUMNS)] + [csv_row(record) for record in records])
