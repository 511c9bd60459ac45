"""State as words for people: table cells, status phrases, CSV and JSON exports.

Pure (no browser), so the wording is tested on CPython and identical on both runtimes. Values
from the iframe can be any JSON value; they become plain text here and are inserted as text by
the UI, never as HTML.
"""

import json

QUIZ_COLUMNS = ("Time", "Screen", "Question", "Answer", "Result", "Attempt")

SESSION_TEXT = {
    "waiting": "Connecting…",
    "ready": "Session ready",
    "error": "Session error",
    "expired": "Session expired",
}


def text_of(value):
    """Any JSON value as one line of text; None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    try:
        return json.dumps(value)
    except Exception:
        return str(value)


def result_of(entry):
    """One word for a quiz entry: correct / incorrect / failed / retry / answered."""
    if entry["event"] != "answer":
        return entry["event"]
    if entry.get("correct") is True:
        return "correct"
    if entry.get("correct") is False:
        return "incorrect"
    return "answered"


def result_text(entry):
    word = result_of(entry)
    score = entry.get("score")
    if word == "failed" and score is not None:
        return "failed (score %s)" % text_of(score)
    return word


def screen_text(entry):
    return text_of(entry.get("title") or entry.get("screen"))


def quiz_cells(entry):
    """The table row of one quiz entry, in QUIZ_COLUMNS order (time as ISO, the UI localises)."""
    return [
        entry.get("time") or "",
        screen_text(entry),
        text_of(entry.get("question")),
        text_of(entry.get("answer")) if entry["event"] == "answer" else "—",
        result_text(entry),
        text_of(entry.get("attempt")),
    ]


def _csv_field(text):
    # RFC 4180 quoting, plus a leading apostrophe against spreadsheet formula injection.
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def quiz_csv(entries):
    """The quiz log as CSV text, oldest first (the order answers were given)."""
    lines = [",".join(QUIZ_COLUMNS)]
    for entry in entries:
        lines.append(",".join(_csv_field(cell) for cell in quiz_cells(entry)))
    return "\r\n".join(lines) + "\r\n"


def quiz_json(entries):
    """The quiz log as a JSON document, oldest first, every recorded field kept."""
    return json.dumps({"quiz": entries})


def progress_text(progress, status):
    return "%d percent, %s" % (progress, status.lower())


def feedback_text(feedback):
    if not feedback:
        return "No feedback yet"
    rating = feedback.get("rating")
    value = feedback.get("value")
    if rating is not None and value is not None and text_of(value) != text_of(rating):
        return "Feedback: %s (%s)" % (text_of(value), text_of(rating))
    return "Feedback: %s" % text_of(value if value is not None else rating if rating is not None else feedback)


def draft_text(saved_clock, revision):
    """saved_clock: the local HH:MM:SS of the last save, or None."""
    if not saved_clock:
        return "No draft saved yet"
    return "Draft saved at %s (revision %d)" % (saved_clock, revision)
