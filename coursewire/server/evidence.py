"""How evidence changes a learner's record: pure rules, no I/O (the store applies them in a
transaction).

A record holds two kinds of evidence, never mixed:
- *reported* by the browser (through a report token): progress, quiz answers, started and
  completed times. A page's console can forge these, so they are shown as reported.
- *verified* by Coassemble's signed webhooks: commenced and completed times.
A reported completion never sets the verified one.

A record is a dict with the columns of the `records` table (see store/migrations.py).
"""


# Record statuses, from the strongest evidence present.
NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED_REPORTED = "completed_reported"  # the browser says so; no webhook yet
COMPLETED_VERIFIED = "completed_verified"  # Coassemble's signed course.completed

# What a record's columns hold, decided here once for both backends (so both give one answer):
# an event past a bound is refused alone (`unstorable`), never an overflow in the database.
# Attempts are INTEGER columns, 32 bits on PostgreSQL (64 on SQLite); a screen id is part of a
# primary key, and a PostgreSQL index entry holds at most ~2,700 bytes (4 per character here).
MAX_ATTEMPT = 2 ** 31 - 1
MAX_SCREEN_ID_CHARS = 512

QUIZ_EVENTS = {"screen:answer": "answer", "screen:failed": "failed", "screen:retry": "retry"}  # as the page logs them


def new_record(course, learner):
    return {
        "course": course, "learner": learner, "progress": 0,
        "reported_started_at": None, "reported_completed_at": None,
        "verified_commenced_at": None, "verified_completed_at": None,
        "last_event_at": None, "reported_events": 0,
        "verified_score": None, "verified_passed": None, "verified_progress": None,
    }


def status(record):
    if record["verified_completed_at"]:
        return COMPLETED_VERIFIED
    if record["reported_completed_at"]:
        return COMPLETED_REPORTED
    if record["progress"] > 0 or record["reported_started_at"] or record["verified_commenced_at"]:
        return IN_PROGRESS
    return NOT_STARTED


def _earliest(current, time):
    return time if current is None or time < current else current


def _latest(current, time):
    return time if current is None or time > current else current


class ReportedEvent:
    """One browser event, already validated: the page's (session, seq), the parsed wire event's
    name and data, and when it happened (the stored spelling, never later than its receipt)."""

    __slots__ = ("seq", "name", "data", "time")

    def __init__(self, seq, name, data, time):
        self.seq = seq
        self.name = name
        self.data = data
        self.time = time

    def __repr__(self):
        return "ReportedEvent(%d, %r, %r, %r)" % (self.seq, self.name, self.data, self.time)


def unstorable(screens, event):
    """Why `event` cannot be kept in a record whose screens are `screens` (one sentence, naming
    the field), or None. Checked before apply_reported, which then cannot overflow a column."""
    if not event.name.startswith("screen:"):
        return None
    data = event.data
    screen_id = _as_id(data.get("id"))
    if screen_id is not None and len(screen_id) > MAX_SCREEN_ID_CHARS:
        return "data.id (the screen) must be at most %d characters." % MAX_SCREEN_ID_CHARS
    if event.name in QUIZ_EVENTS and _attempt(screens.get(screen_id), event) > MAX_ATTEMPT:
        return "data.attempt must be at most %d (counting retries)." % MAX_ATTEMPT
    return None


def _attempt(screen, event):
    # An answer's attempt is the payload's own number when usable, else the screen's current
    # attempt (a retry starts the next one).
    given = event.data.get("attempt")
    if isinstance(given, int) and not isinstance(given, bool) and given > 0:
        return given
    return (screen["attempt"] if screen is not None else 1) + (1 if QUIZ_EVENTS[event.name] == "retry" else 0)


def apply_reported(record, screens, event):
    """Fold one new browser event into `record` (changed in place).

    `screens` maps a screen id to {"title", "attempt"} for this record and is updated in place
    (the caller stores the ones it saw change). Returns the quiz entry to store, or None.
    """
    time = event.time
    record["reported_events"] += 1
    record["last_event_at"] = _latest(record["last_event_at"], time)
    name, data = event.name, event.data
    if name == "course:start":
        record["reported_started_at"] = _earliest(record["reported_started_at"], time)
    elif name == "course:progress":
        _raise_progress(record, data.get("progress"), time)
    elif name == "course:completed":
        record["reported_completed_at"] = _earliest(record["reported_completed_at"], time)
        _raise_progress(record, 100, time)
    elif name.startswith("screen:"):
        return _apply_screen(record, screens, event)
    return None


def _raise_progress(record, percent, time):
    # Progress only ever increases: a stale or replayed message must not undo it. The wire parser
    # has already made it an integer; clamping is ours (as in the page's reducer).
    if not isinstance(percent, int) or isinstance(percent, bool):
        return
    percent = max(0, min(100, percent))
    if percent > record["progress"]:
        record["progress"] = percent
    if percent > 0:
        record["reported_started_at"] = _earliest(record["reported_started_at"], time)


def _apply_screen(record, screens, event):
    # The same bookkeeping as the page's reducer (coursewire core state): a screen's title is
    # learnt from any of its events; an answer's attempt is _attempt's.
    data = event.data
    screen_id = _as_id(data.get("id"))
    screen = None
    if screen_id is not None:
        screen = screens.setdefault(screen_id, {"title": None, "attempt": 1, "changed": True})
        title = data.get("title")
        if isinstance(title, str) and title != screen["title"]:
            screen["title"] = title
            screen["changed"] = True
    quiz_event = QUIZ_EVENTS.get(event.name)
    if quiz_event is None:
        return None
    attempt = _attempt(screen, event)
    if screen is not None and screen["attempt"] != attempt:
        screen["attempt"] = attempt
        screen["changed"] = True
    correct, score = data.get("correct"), data.get("score")
    return {
        "seq": event.seq,
        "event": quiz_event,
        "screen": screen_id,
        "title": screen["title"] if screen is not None else _text(data.get("title")),
        "question": data.get("question"),
        "answer": data.get("answer"),
        "correct": correct if isinstance(correct, bool) else None,
        "score": score if _is_number(score) else None,
        "attempt": attempt,
        "time": event.time,
    }


def apply_verified(record, event_type, occurred_at):
    """Fold a verified webhook (course.commenced / course.completed) into `record`. Deliveries can
    arrive in any order and be retried, so each time is the earliest seen."""
    if event_type == "course.commenced":
        record["verified_commenced_at"] = _earliest(record["verified_commenced_at"], occurred_at)
    elif event_type == "course.completed":
        record["verified_completed_at"] = _earliest(record["verified_completed_at"], occurred_at)
    else:
        raise ValueError("not a learner event: %r" % (event_type,))


def apply_tracking(record, tracking, score_text):
    """Fold Coassemble's tracking of this learner (trackings.Tracking) into `record`; returns
    "new" (its completion newly verified), "changed", or "unchanged". Times are the earliest
    seen, from webhooks and trackings alike (they describe the same completion); score, passed
    and progress are Coassemble's current values (a missing one does not erase a known one;
    progress never goes down). `score_text` is the score as stored (JSON), or None."""
    before = dict(record)
    if tracking.commenced is not None:
        record["verified_commenced_at"] = _earliest(record["verified_commenced_at"], tracking.commenced)
    if tracking.completed is not None:
        record["verified_completed_at"] = _earliest(record["verified_completed_at"], tracking.completed)
        record["verified_commenced_at"] = _earliest(record["verified_commenced_at"], tracking.completed)
    if score_text is not None:
        record["verified_score"] = score_text
    if tracking.passed is not None:
        record["verified_passed"] = int(tracking.passed)
    if tracking.progress is not None and (record["verified_progress"] is None
                                          or tracking.progress > record["verified_progress"]):
        record["verified_progress"] = tracking.progress
    if record == before:
        return "unchanged"
    return "new" if before["verified_completed_at"] is None and record["verified_completed_at"] else "changed"


def _as_id(value):
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _text(value):
    return value if isinstance(value, str) else None


def _is_number(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value == value and value not in (float("inf"), float("-inf"))


LEARNER_EVENTS = ("course.commenced", "course.completed")
APPLIED_DELIVERIES = ("course.created",) + LEARNER_EVENTS


class VerifiedDelivery:
    """One webhook delivery whose signature and timestamp have been checked.

    `event_type` is the body's signed `type`; `course` / `learner` / `course_title` are read
    from it for the types we apply (None otherwise); `occurred_at` is the stored spelling of
    `occurredAt` (or of the signed timestamp when that is missing); `body` is the raw text.
    """

    __slots__ = ("delivery", "event_type", "course", "learner", "course_title", "occurred_at",
                 "signed_at", "received_at", "body")

    def __init__(self, delivery, event_type, course, learner, course_title, occurred_at, signed_at,
                 received_at, body):
        self.delivery = delivery
        self.event_type = event_type
        self.course = course
        self.learner = learner
        self.course_title = course_title
        self.occurred_at = occurred_at
        self.signed_at = signed_at
        self.received_at = received_at
        self.body = body

    @property
    def applies(self):
        return self.event_type in APPLIED_DELIVERIES
