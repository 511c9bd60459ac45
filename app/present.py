"""State as words for people: table cells, status phrases, CSV and JSON exports.

Pure (no browser), so the wording is tested on CPython and identical on both runtimes. Values
from the iframe can be any JSON value; they become plain text here and are inserted as text by
the UI, never as HTML.
"""

import json

from app import csvsafe

QUIZ_COLUMNS = ("Time", "Screen", "Question", "Answer", "Result", "Attempt")
# How much of one value from the course a page shows. A course can send 64,000 characters in one
# field, and 64,000 without a space took Chromium 5-8 s to lay out in the quiz table; the record
# and the exports keep every character, the page shows this much and says how long the rest is.
SHOWN_CHARS = 300


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


def preview(text, limit=SHOWN_CHARS):
    """`text` as a page shows it: whole when it has at most `limit` characters, else its first
    `limit` and a note of its full length (the record and the exports keep all of it)."""
    if len(text) <= limit:
        return text
    return "%s… [%s characters in all; the exports hold the full text]" % (text[:limit], grouped(len(text)))


def shown(value, limit=SHOWN_CHARS):
    """Any JSON value from the course as bounded text for the page: text_of, then preview."""
    return preview(text_of(value), limit)


def grouped(number):
    """An integer with thousands separators: 64000 -> "64,000" (MicroPython's format has no ",")."""
    digits = str(abs(number))
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return ("-" if number < 0 else "") + ",".join([digits] + groups)


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
    """One quiz entry's cells, whole, in QUIZ_COLUMNS order (time as ISO, the UI localises): what
    the exports write. The table shows them through shown_cells."""
    return [
        entry.get("time") or "",
        screen_text(entry),
        text_of(entry.get("question")),
        text_of(entry.get("answer")) if entry["event"] == "answer" else "—",
        result_text(entry),
        text_of(entry.get("attempt")),
    ]


def shown_cells(entry, limit=SHOWN_CHARS):
    """The quiz table's row of one entry: quiz_cells, each bounded by preview."""
    return [preview(text, limit) for text in quiz_cells(entry)]


def quiz_csv(entries):
    """The quiz log as CSV text, oldest first (the order answers were given), every cell whole
    and formula-safe (csvsafe: the one implementation of OWASP's CSV-injection guidance)."""
    return csvsafe.csv_text([list(QUIZ_COLUMNS)] + [quiz_cells(entry) for entry in entries])


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
        return "Feedback: %s (%s)" % (shown(value), shown(rating))
    return "Feedback: %s" % shown(value if value is not None else rating if rating is not None else feedback)


def draft_text(saved_clock, revision):
    """saved_clock: the local HH:MM:SS of the last save, or None."""
    if not saved_clock:
        return "No draft saved yet"
    return "Draft saved at %s (revision %d)" % (saved_clock, revision)
