"""One course's learner records (GET /api/records) as staff read them: status words, the two kinds
of completion evidence kept apart, progress bands (the server's summary counts the same bands).
Answer summaries, the chart, the CSV and the other words of the report page: app/report_text.py.

Pure (no browser, no clock), tested on CPython. A record is one item of the records API's "records" list.

Reported and verified evidence never share a word or a mark: a completion the browser reported
(a page's console can forge it) reads "Reported complete" with a hollow mark, one Coassemble's
signed webhook verified reads "Verified complete" with a check mark.
"""

from coursewire.core import vocabulary
from coursewire.core.vocabulary import COMPLETED_REPORTED, COMPLETED_VERIFIED, IN_PROGRESS, NOT_STARTED, is_int

STATUS_TEXT = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    COMPLETED_REPORTED: "Completed (reported by the browser, not verified)",
    COMPLETED_VERIFIED: "Completed (verified by Coassemble)",
}

REPORTED_MARK = "\u25cc"  # ◌ dotted circle: claimed, not proven
VERIFIED_MARK = "\u2714"  # ✔ heavy check mark: proven by a signed webhook


def course_param(text):
    """The course id in `text` (the page's ?course=), or None when the server would refuse it
    (the vocabulary's rule, which coursewire/server/ids.py applies)."""
    return vocabulary.course_id(text) if isinstance(text, str) else None


def status_text(status):
    return STATUS_TEXT.get(status, str(status))


def reported_evidence(record):
    """What the learner's browser reported: {"state": "completed" | "started" | "none", "mark",
    "text", "time"} (time: the ISO time of that evidence, or None)."""
    if record.get("reported_completed_at"):
        return {
            "state": "completed",
            "mark": REPORTED_MARK,
            "text": "Reported complete",
            "time": record["reported_completed_at"],
        }
    if record.get("reported_started_at"):
        return {"state": "started", "mark": "", "text": "Reported started", "time": record["reported_started_at"]}
    if record.get("verified_completed_at"):
        # Coassemble's word settles it; "Nothing reported" beside it read as "not started".
        return {"state": "none", "mark": "", "text": "No browser report", "time": None}
    return {"state": "none", "mark": "", "text": "Nothing reported", "time": None}


def verified_evidence(record):
    """What Coassemble's signed webhooks verified, in the same shape as reported_evidence."""
    if record.get("verified_completed_at"):
        return {
            "state": "completed",
            "mark": VERIFIED_MARK,
            "text": "Verified complete",
            "time": record["verified_completed_at"],
        }
    if record.get("verified_commenced_at"):
        return {"state": "started", "mark": "", "text": "Verified started", "time": record["verified_commenced_at"]}
    return {"state": "none", "mark": "", "text": "Not verified", "time": None}


def _percent(value):
    if not is_int(value):
        return None
    return max(0, min(100, value))


def progress_evidence(record):
    """The progress a learner's row shows: {"percent", "source": "verified" | "reported", "text",
    "reported"}. Coassemble's word wins: a verified completion is 100 %, its `verified_progress`
    (when the record has one) comes next, else the browser's reported progress. `reported` is the
    browser's own figure when it says something else, to show beside it (else None)."""
    reported = _percent(record.get("progress")) or 0
    if record.get("verified_completed_at"):
        percent = 100
    else:
        percent = _percent(record.get("verified_progress"))
    if percent is None:
        return {"percent": reported, "source": "reported", "text": "%d%%" % reported, "reported": None}
    return {
        "percent": percent,
        "source": "verified",
        "text": "%d%% Verified by Coassemble" % percent,
        "reported": reported if reported not in (0, percent) else None,
    }


def last_activity(record):
    """The latest ISO time of any evidence (the server keeps one spelling, so text order is time
    order), or None."""
    times = [record.get(name) for name in ("last_event_at", "verified_commenced_at", "verified_completed_at")]
    times = [t for t in times if isinstance(t, str) and t]
    return max(times) if times else None


# -- the progress distribution --

BANDS = [(low, low + 9) for low in range(0, 100, 10)] + [(100, 100)]


def band_label(low, high):
    return "%d%%" % low if low == high else "%d–%d%%" % (low, high)


def progress_bands(records):
    """Learners per progress band: [{"low", "high", "label", "count"}] for 0–9 % … 90–99 %, 100 %;
    a verified completion is in the 100 % band whatever the browser reported (as the server's
    summary counts it)."""
    bands = [{"low": low, "high": high, "label": band_label(low, high), "count": 0} for low, high in BANDS]
    for record in records:
        progress = 100 if record.get("verified_completed_at") else record.get("progress")
        if not is_int(progress):
            continue
        progress = max(0, min(100, progress))
        bands[min(progress // 10, 10)]["count"] += 1
    return bands
