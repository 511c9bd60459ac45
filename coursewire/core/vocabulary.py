"""The event vocabulary: the value checks and the constants that the page's core and the host's
server must agree on. One owner: the server imports these (coursewire/server/evidence.py, ids.py,
reports.py), never copies them, so the page and the server cannot drift apart
(tests/tooling/test_one_vocabulary.py checks the server holds no copy).

Pure and small: runs on CPython, Pyodide and MicroPython.
"""

# A learner record's status, from the strongest evidence present (the server decides it,
# coursewire/server/evidence.py; the report page words it, roster.py).
NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED_REPORTED = "completed_reported"  # the browser says so; no webhook yet
COMPLETED_VERIFIED = "completed_verified"  # Coassemble's signed course.completed
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETED_REPORTED, COMPLETED_VERIFIED)

# The quiz events, as the page's quiz log and the server's answers name them.
QUIZ_EVENTS = {"screen:answer": "answer", "screen:failed": "failed", "screen:retry": "retry"}

# The record's lists that grow: bounded in the page's reducer (course.py), stored in chunks
# (store.py).
RECORD_LISTS = ("screens", "feedback_history", "quiz")

# What the server's record columns hold: an event past these is refused alone. Attempts are
# INTEGER columns, 32 bits on PostgreSQL; a screen id is part of a primary key, and a PostgreSQL
# index entry holds at most ~2,700 bytes (4 per character here).
MAX_ATTEMPT = 2**31 - 1
MAX_SCREEN_ID_CHARS = 512

# A course id: a number or a short slug (it ends up in URLs, storage keys and database keys).
MAX_COURSE_CHARS = 128
COURSE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"

# A page session's id (the outbox's, which the server keys reported events by): nothing to escape.
SESSION_MIN_CHARS = 8
SESSION_MAX_CHARS = 64
SESSION_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def is_int(value):
    """True for an int that is not a bool (Python counts True and False as ints)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_digits(text):
    # Not str.isdigit(): CPython accepts other scripts' digits there, MicroPython does not.
    return text != "" and all(c in "0123456789" for c in text)


def as_id(value):
    """An identifier as a string (numbers become strings, so it can be a JSON key), or None."""
    if isinstance(value, str):
        return value if value else None
    if is_int(value):
        return str(value)
    return None


def as_text(value):
    return value if isinstance(value, str) else None


def clamp_percent(percent):
    """A progress percentage as a record keeps it: between 0 and 100."""
    return max(0, min(100, percent))


def course_id(value):
    """The course id `value` names (a string), or None when it is not one: a whole number from 0,
    or 1 to MAX_COURSE_CHARS of COURSE_CHARS."""
    if is_int(value) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_COURSE_CHARS:
        return None
    for char in value:
        if char not in COURSE_CHARS:
            return None
    return value


def is_session_id(value):
    return (
        isinstance(value, str)
        and SESSION_MIN_CHARS <= len(value) <= SESSION_MAX_CHARS
        and all(c in SESSION_CHARS for c in value)
    )
