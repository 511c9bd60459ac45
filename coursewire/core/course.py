"""What the host page knows about one learner's run through an embedded course player.

`CourseState.apply(event, now)` folds one parsed Event in and returns what changed (a change set,
see changes.py), so the UI redraws only those parts. Handlers are looked up by event name in a
table (one small method per event), the way h11 keeps its transitions as data. Reducers read only
`event.fields`, which wire.py validated when the Event was built.

`now` is an ISO-8601 string from the caller: the core never reads a clock, which keeps replays
identical on CPython, Pyodide and MicroPython. The persisted form is in records.py. The session,
and the screen on show, belong to one mounted iframe and are not saved: a restored state waits
for the new iframe's session:ready exactly like a fresh one.
"""

from coursewire.core import changes as C
from coursewire.core.rules import DEFAULT_RULES, is_met, validate_rules
from coursewire.core.state import State
from coursewire.core.vocabulary import RECORD_LISTS, clamp_percent
from coursewire.core.wire import Event

# Every collection in the record is bounded, so the stored record (and the cost of restoring it)
# cannot grow without end. The bounds are far above any real course (a few dozen screens and
# answers). A bound reached keeps everything recorded so far: what comes after is not added to
# this browser's record, counted in `unrecorded`, and the page says so once (BOUND_NOTICES). The
# host's server still receives every event (core/outbox.py).
QUIZ_LOG_CAP = 5000
FEEDBACK_HISTORY_CAP = 50
SCREENS_CAP = 5000
BOUNDED = RECORD_LISTS  # the record's growing lists, as record fields
CAPS = {"screens": SCREENS_CAP, "feedback_history": FEEDBACK_HISTORY_CAP, "quiz": QUIZ_LOG_CAP}
BOUND_NOTICES = {
    "screens": "This course reported more than %d different screens; the record keeps the first %d, "
    "and later screens are not tracked in this browser." % (SCREENS_CAP, SCREENS_CAP),
    "feedback_history": "The feedback history is full (%d entries); later ratings update the latest "
    "feedback only." % FEEDBACK_HISTORY_CAP,
    "quiz": "The quiz log is full (%d entries); later answers are not added to this browser's record "
    "(the host's server still receives them)." % QUIZ_LOG_CAP,
}

STATUS_NOT_STARTED = "Not started"
STATUS_IN_PROGRESS = "In progress"
STATUS_COMPLETED = "Completed"


class CourseState(State):
    """A learner's run through one course, as the course player reports it."""

    FRAME_FIELDS = ("session", "session_error")

    def __init__(self, rules=None):
        self.rules, self.rule_errors = validate_rules(DEFAULT_RULES if rules is None else rules)
        self.session = "waiting"
        self.session_error = None
        self.started = False
        self.started_at = None
        self.progress = 0
        self.completed = False
        self.completed_at = None
        self.feedback = None
        self.feedback_history = []
        self.screens = {}
        self.screen_order = []
        self.current_screen = None
        self.quiz = []
        self.quiz_seq = 0
        self.unlocked = []
        # What a bound kept out of the record, per bounded list (BOUNDED).
        self.unrecorded = {name: 0 for name in BOUNDED}
        self._position = {}  # screen id -> position in screen_order
        self.unlock()

    @property
    def status(self):
        if self.completed:
            return STATUS_COMPLETED
        if self.started:
            return STATUS_IN_PROGRESS
        return STATUS_NOT_STARTED

    def apply(self, event, now):
        """Fold one parsed message in. Returns a change set (QUIZ and UNLOCKS list what is new)."""
        if not isinstance(event, Event):
            return {}
        status = self.status
        changes = {}
        fields = event.fields
        if event.name in self._SCREEN_HANDLERS:
            self._apply_screen(self._SCREEN_HANDLERS[event.name], fields, now, changes)
        elif event.name in self._HANDLERS:
            self._HANDLERS[event.name](self, event, now, changes)
        if self.status != status:
            changes[C.STATUS] = True
        if changes:
            unlocked = self.unlock()
            if unlocked:
                changes[C.UNLOCKS] = unlocked
        return changes

    @property
    def full(self):
        """The bounded lists that reached their bound (and kept something out)."""
        return [name for name in BOUNDED if self.unrecorded[name]]

    def set_screens(self, screens, order):
        """Take a restored screen table (screen_order's ids, each in `screens`)."""
        self.screens = screens
        self.screen_order = order
        self._position = {screen_id: i for i, screen_id in enumerate(order)}

    def clear_quiz(self):
        """Empty the quiz log (sequence numbers keep counting). Returns {QUIZ: []} if it had entries."""
        if not self.quiz:
            return {}
        self.quiz = []
        self.unrecorded["quiz"] = 0  # room again: the bound's notice would say so anew
        return {C.QUIZ: []}

    def unlock(self):
        """Unlock every step whose rule now holds; returns their ids. A step stays unlocked."""
        newly = [r["id"] for r in self.rules if r["id"] not in self.unlocked and is_met(r, self)]
        self.unlocked.extend(newly)
        return newly

    # -- session and course events: handler(self, event, now, changes) --

    def _session_ready(self, event, now, changes):
        self._set_session("ready", None, changes)

    def _session_error(self, event, now, changes):
        self._set_session("error", event.fields.get("message"), changes)

    def _session_expired(self, event, now, changes):
        self._set_session("expired", None, changes)

    def _set_session(self, session, error, changes):
        if self.session != session or self.session_error != error:
            self.session = session
            self.session_error = error
            changes[C.SESSION] = True

    def _course_start(self, event, now, changes):
        self._start(now)

    def _start(self, now):
        # Progress or completion without a course:start still means the learner started.
        if not self.started:
            self.started = True
            self.started_at = now

    def _course_progress(self, event, now, changes):
        self._raise_progress(event.fields["progress"], now, changes)

    def _raise_progress(self, percent, now, changes):
        # Progress only ever increases (Coassemble says so; a stale message must not undo it).
        percent = clamp_percent(percent)
        if percent > self.progress:
            self.progress = percent
            self._start(now)
            changes[C.PROGRESS] = True

    def _course_completed(self, event, now, changes):
        if not self.completed:
            self.completed = True
            self.completed_at = now
            self._start(now)
            self._raise_progress(100, now, changes)

    def _course_feedback(self, event, now, changes):
        # Feedback may be given more than once: keep the latest and a history.
        self.feedback = event.data
        self._append("feedback_history", self.feedback_history, {"data": event.data, "time": now}, changes)
        changes[C.FEEDBACK] = True

    def _append(self, name, items, item, changes):
        """Append to a bounded list; past its bound, count it and say so (once). True if kept."""
        if len(items) < CAPS[name]:
            items.append(item)
            return True
        if not self.unrecorded[name]:
            changes[C.NOTICES] = True
        self.unrecorded[name] += 1
        return False

    _HANDLERS = {
        "session:ready": _session_ready,
        "session:error": _session_error,
        "session:expired": _session_expired,
        "course:start": _course_start,
        "course:progress": _course_progress,
        "course:completed": _course_completed,
        "course:feedback": _course_feedback,
    }

    # -- screen events: handler(self, screen or None, fields, now, changes) --

    def _apply_screen(self, handler, fields, now, changes):
        screen_id = fields["id"]
        screen = self.screens.get(screen_id) if screen_id is not None else None
        before = dict(screen) if screen is not None else None
        shown = self.current_screen
        if screen is None and screen_id is not None:
            # Messages can arrive out of order (a screen:complete before its screen:start).
            screen = new_screen(screen_id)
            if self._append("screens", self.screen_order, screen_id, changes):
                self.screens[screen_id] = screen
                self._position[screen_id] = len(self.screen_order) - 1
            else:
                screen = None  # past the bound: not tracked (its quiz events are still logged)
        if screen is not None:
            for field in ("title", "index", "type"):  # what the payload tells, when it tells it
                if fields[field] is not None:
                    screen[field] = fields[field]
        handler(self, screen, fields, now, changes)
        if screen != before:
            changes[C.SCREENS] = True
            if before is not None:  # changed in place (a new one is found by the list's length)
                changes[C.SCREENS_EDITED] = [self._position[screen_id]]
        elif self.current_screen != shown:
            changes[C.SCREENS] = True

    def _screen_start(self, screen, fields, now, changes):
        if screen is not None:
            screen["started"] = True
            self.current_screen = screen["id"]

    def _screen_end(self, screen, fields, now, changes):
        if screen is not None:
            screen["ended"] = True
            if self.current_screen == screen["id"]:
                self.current_screen = None

    def _screen_complete(self, screen, fields, now, changes):
        if screen is not None:
            screen["completed"] = True
            if screen["answered"] and not screen["failed"]:
                screen["passed"] = True

    def _screen_answer(self, screen, fields, now, changes):
        attempt = _attempt(screen, fields, "answer")
        if screen is not None and fields["correct"] is not False:
            # Credit for the attempt; passing itself waits for the screen's completion (a scored
            # quiz asks several questions and can still be failed), see rules.py.
            screen["answered"] = True
        self._log_quiz("answer", screen, fields, attempt, now, changes)

    def _screen_failed(self, screen, fields, now, changes):
        attempt = _attempt(screen, fields, "failed")
        if screen is not None:
            screen["failed"] = True
        self._log_quiz("failed", screen, fields, attempt, now, changes)

    def _screen_retry(self, screen, fields, now, changes):
        attempt = _attempt(screen, fields, "retry")
        if screen is not None:
            screen["answered"] = False
            screen["failed"] = False
        self._log_quiz("retry", screen, fields, attempt, now, changes)

    def _log_quiz(self, quiz_event, screen, fields, attempt, now, changes):
        self.quiz_seq += 1
        entry = quiz_entry(self.quiz_seq, quiz_event, screen, fields, attempt, now)
        if self._append("quiz", self.quiz, entry, changes):
            changes[C.QUIZ] = [entry]

    _SCREEN_HANDLERS = {
        "screen:start": _screen_start,
        "screen:end": _screen_end,
        "screen:complete": _screen_complete,
        "screen:answer": _screen_answer,
        "screen:failed": _screen_failed,
        "screen:retry": _screen_retry,
    }


def new_screen(screen_id):
    """A screen the course has mentioned, with nothing known about it yet."""
    return {
        "id": screen_id,
        "title": None,
        "index": None,
        "type": None,
        "started": False,
        "ended": False,
        "completed": False,
        # Quiz bookkeeping (see rules.py): the current attempt number; whether it has an answer
        # not marked incorrect; whether a screen:failed came; whether it was ever passed.
        "attempt": 1,
        "answered": False,
        "failed": False,
        "passed": False,
    }


# The quiz bookkeeping below is shared with the host's server (coursewire/server/evidence.py),
# which keeps the same log of answers: pure functions of a screen ({"title", "attempt", ...} or
# None) and the event's checked fields (wire.FIELDS).


def quiz_attempt(screen, fields, quiz_event):
    """The attempt a quiz event ("answer", "failed" or "retry") belongs to: the payload's own
    number if usable, else derived.

    A retry starts the next attempt. Without a screen to remember attempts on, counting starts
    again from 1.
    """
    attempt = fields["attempt"]
    if attempt is None:
        attempt = (screen["attempt"] if screen is not None else 1) + (1 if quiz_event == "retry" else 0)
    return attempt


def quiz_entry(seq, quiz_event, screen, fields, attempt, time):
    """One entry of the quiz log. `screen` is the screen the event names (None when untracked)."""
    return {
        "seq": seq,
        "event": quiz_event,  # answer, failed or retry
        "screen": fields["id"],
        "title": screen["title"] if screen is not None else fields["title"],
        "question": fields.get("question"),
        "answer": fields.get("answer"),
        "correct": fields.get("correct"),
        "score": fields.get("score"),
        "attempt": attempt,
        "time": time,
    }


def _attempt(screen, fields, quiz_event):
    attempt = quiz_attempt(screen, fields, quiz_event)
    if screen is not None:
        screen["attempt"] = attempt
    return attempt
