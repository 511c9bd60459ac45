"""What the host page knows about one embedded course player or course builder.

Each state is a reducer: `apply(event, now)` folds one parsed Event in and returns what
changed, so the UI redraws only those parts. Handlers are looked up by event name in a
table (one small method per event), the way h11 keeps its transitions as data.

`now` is an ISO-8601 string from the caller: the core never reads a clock, which keeps
replays identical on CPython, Pyodide and MicroPython.

`to_dict` / `from_dict` keep what outlives a page load. The session, and the screen on
show, belong to one mounted iframe and are not saved: a restored state waits for the new
iframe's session:ready exactly like a fresh one.
"""

from .protocol import Event, as_id, as_percent, is_number, json_copy, json_type
from .rules import DEFAULT_RULES, is_met, validate_rules

RECORD_VERSION = 1

# Logs grow with time spent on the page, so they keep only their newest entries. The quiz log is
# the learner's record: its cap is far above any real course (a few dozen answers) and keeps the
# stored record well inside localStorage's ~5 MB, so in practice no answer is ever dropped.
QUIZ_LOG_CAP = 5000
FEEDBACK_HISTORY_CAP = 50
BUILDER_ERRORS_CAP = 50


class CourseState:
    """A learner's run through one course, as the course player reports it."""

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
        self._unlock()

    @property
    def status(self):
        if self.completed:
            return "Completed"
        if self.started:
            return "In progress"
        return "Not started"

    def apply(self, event, now):
        """Fold one parsed message in. Returns {part: True, "quiz": [new entries], "unlocks": [ids]}."""
        if not _usable(event):
            return {}
        status = self.status
        changes = {}
        if event.name in self._SCREEN_HANDLERS:
            self._apply_screen(self._SCREEN_HANDLERS[event.name], event.data, now, changes)
        elif event.name in self._HANDLERS:
            self._HANDLERS[event.name](self, event.data, now, changes)
        if self.status != status:
            changes["status"] = True
        if changes:
            unlocked = self._unlock()
            if unlocked:
                changes["unlocks"] = unlocked
        return changes

    def clear_quiz(self):
        """Empty the quiz log (sequence numbers keep counting). Returns {"quiz": []} if it had entries."""
        if not self.quiz:
            return {}
        self.quiz = []
        return {"quiz": []}

    def _unlock(self):
        # An unlocked step stays unlocked, whatever happens next.
        newly = [r["id"] for r in self.rules if r["id"] not in self.unlocked and is_met(r, self)]
        self.unlocked.extend(newly)
        return newly

    # -- session and course events: handler(self, data, now, changes) --

    def _session_ready(self, data, now, changes):
        self._set_session("ready", None, changes)

    def _session_error(self, data, now, changes):
        self._set_session("error", _message(data), changes)

    def _session_expired(self, data, now, changes):
        self._set_session("expired", None, changes)

    def _set_session(self, session, error, changes):
        if self.session != session or self.session_error != error:
            self.session = session
            self.session_error = error
            changes["session"] = True

    def _course_start(self, data, now, changes):
        self._start(now)

    def _start(self, now):
        # Progress or completion without a course:start still means the learner started.
        if not self.started:
            self.started = True
            self.started_at = now

    def _course_progress(self, data, now, changes):
        percent = as_percent(data.get("progress"))
        if percent is not None:
            self._raise_progress(percent, now, changes)

    def _raise_progress(self, percent, now, changes):
        # Progress only ever increases (Coassemble says so; a stale message must not undo it).
        percent = max(0, min(100, percent))
        if percent > self.progress:
            self.progress = percent
            self._start(now)
            changes["progress"] = True

    def _course_completed(self, data, now, changes):
        if not self.completed:
            self.completed = True
            self.completed_at = now
            self._start(now)
            self._raise_progress(100, now, changes)

    def _course_feedback(self, data, now, changes):
        # Feedback may be given more than once: keep the latest and a history.
        self.feedback = data
        _append_capped(self.feedback_history, {"data": data, "time": now}, FEEDBACK_HISTORY_CAP)
        changes["feedback"] = True

    _HANDLERS = {
        "session:ready": _session_ready,
        "session:error": _session_error,
        "session:expired": _session_expired,
        "course:start": _course_start,
        "course:progress": _course_progress,
        "course:completed": _course_completed,
        "course:feedback": _course_feedback,
    }

    # -- screen events: handler(self, screen or None, data, now, changes) --

    def _apply_screen(self, handler, data, now, changes):
        screen_id = as_id(data.get("id"))
        screen = self.screens.get(screen_id) if screen_id is not None else None
        before = dict(screen) if screen is not None else None
        shown = self.current_screen
        if screen is None and screen_id is not None:
            # Messages can arrive out of order (a screen:complete before its screen:start).
            screen = _new_screen(screen_id)
            self.screens[screen_id] = screen
            self.screen_order.append(screen_id)
        if screen is not None:
            _learn_screen(screen, data)
        handler(self, screen, data, now, changes)
        if screen != before or self.current_screen != shown:
            changes["screens"] = True

    def _screen_start(self, screen, data, now, changes):
        if screen is not None:
            screen["started"] = True
            self.current_screen = screen["id"]

    def _screen_end(self, screen, data, now, changes):
        if screen is not None:
            screen["ended"] = True
            if self.current_screen == screen["id"]:
                self.current_screen = None

    def _screen_complete(self, screen, data, now, changes):
        if screen is not None:
            screen["completed"] = True
            if screen["answered"] and not screen["failed"]:
                screen["passed"] = True

    def _screen_answer(self, screen, data, now, changes):
        attempt = _attempt(screen, data, 0)
        correct = data.get("correct")
        if screen is not None and correct is not False:
            # Credit for the attempt; passing itself waits for the screen's completion (a scored
            # quiz asks several questions and can still be failed), see app/rules.py.
            screen["answered"] = True
        self._log_quiz("answer", screen, data, attempt, now, changes)

    def _screen_failed(self, screen, data, now, changes):
        attempt = _attempt(screen, data, 0)
        if screen is not None:
            screen["failed"] = True
        self._log_quiz("failed", screen, data, attempt, now, changes)

    def _screen_retry(self, screen, data, now, changes):
        attempt = _attempt(screen, data, 1)
        if screen is not None:
            screen["answered"] = False
            screen["failed"] = False
        self._log_quiz("retry", screen, data, attempt, now, changes)

    def _log_quiz(self, kind, screen, data, attempt, now, changes):
        self.quiz_seq += 1
        correct = data.get("correct")
        score = data.get("score")
        entry = {
            "seq": self.quiz_seq,
            "event": kind,
            "screen": screen["id"] if screen is not None else None,
            "title": screen["title"] if screen is not None else _text(data.get("title")),
            "question": data.get("question"),
            "answer": data.get("answer"),
            "correct": correct if isinstance(correct, bool) else None,
            "score": score if is_number(score) else None,
            "attempt": attempt,
            "time": now,
        }
        _append_capped(self.quiz, entry, QUIZ_LOG_CAP)
        changes["quiz"] = [entry]

    _SCREEN_HANDLERS = {
        "screen:start": _screen_start,
        "screen:end": _screen_end,
        "screen:complete": _screen_complete,
        "screen:answer": _screen_answer,
        "screen:failed": _screen_failed,
        "screen:retry": _screen_retry,
    }

    # -- persistence --

    def to_dict(self):
        return {
            "version": RECORD_VERSION,
            "kind": "course",
            "started": self.started,
            "started_at": self.started_at,
            "progress": self.progress,
            "completed": self.completed,
            "completed_at": self.completed_at,
            "feedback": self.feedback,
            "feedback_history": [dict(item) for item in self.feedback_history],
            "screens": {key: dict(screen) for key, screen in self.screens.items()},
            "screen_order": list(self.screen_order),
            # Entries are never changed once logged, so the record may share them (a save
            # during a long session must not copy thousands of them).
            "quiz": list(self.quiz),
            "quiz_seq": self.quiz_seq,
            "unlocked": list(self.unlocked),
        }

    @classmethod
    def from_dict(cls, record, rules=None):
        """Return (state, None), or (a fresh state, reason) when the record cannot be used."""
        reason = _check_header(record, "course")
        if reason is None:
            state = cls(rules)
            reason = state._restore(record)
            if reason is None:
                state._unlock()  # the page's rules may have changed since the record was saved
                return state, None
        return cls(rules), reason

    def _restore(self, record):
        top, reason = _read(record, _COURSE_FIELDS, "")
        if reason is not None:
            return reason
        history, reason = _read_list(top["feedback_history"], _FEEDBACK_FIELDS, "feedback_history")
        if reason is not None:
            return reason
        quiz, reason = _read_list(top["quiz"], _QUIZ_FIELDS, "quiz")
        if reason is not None:
            return reason
        if any(entry["seq"] > top["quiz_seq"] for entry in quiz):
            return "corrupt record: quiz_seq is behind the quiz log"
        screens, reason = _read_screens(top["screens"], top["screen_order"])
        if reason is not None:
            return reason
        if not _is_id_list(top["unlocked"]):
            return "corrupt record: unlocked is not a list of distinct strings"
        for name in ("started", "started_at", "progress", "completed", "completed_at", "feedback", "quiz_seq"):
            setattr(self, name, top[name])
        self.feedback_history = history
        self.quiz = quiz
        self.screens = screens
        self.screen_order = list(top["screen_order"])
        self.unlocked = list(top["unlocked"])
        return None


class BuilderState:
    """One authoring session in the course builder."""

    def __init__(self):
        self.session = "waiting"
        self.expired = False
        self.errors = []
        self.error_count = 0
        self.course_id = None
        self.course_title = None
        self.draft_saved_at = None
        self.revision = 0
        self.back_requested = 0

    @property
    def session_error(self):
        """The latest error's message while the session is in error (as CourseState has it)."""
        if self.session == "error" and self.errors:
            return self.errors[-1]["message"]
        return None

    def apply(self, event, now):
        """Fold one parsed message in. Returns {part: True} for each changed part."""
        if not _usable(event) or event.name not in self._HANDLERS:
            return {}
        changes = {}
        self._HANDLERS[event.name](self, event.data, now, changes)
        return changes

    def _session_ready(self, data, now, changes):
        # Also the remount after an expired URL: the new iframe is ready again.
        self.expired = False
        self._set_session("ready", changes)

    def _session_error(self, data, now, changes):
        shown = self.session_error
        _append_capped(self.errors, {"message": _message(data), "time": now}, BUILDER_ERRORS_CAP)
        self.error_count += 1
        changes["errors"] = True
        self._set_session("error", changes)
        if self.session_error != shown:
            changes["session"] = True  # the pill shows the latest message, even if already in error

    def _session_expired(self, data, now, changes):
        self.expired = True
        self._set_session("expired", changes)

    def _set_session(self, session, changes):
        if self.session != session:
            self.session = session
            changes["session"] = True

    def _course_saved(self, data, now, changes):
        # course:created and course:updated both mean the builder saved a draft.
        course_id = as_id(data.get("id"))
        title = _text(data.get("title"))
        if course_id is not None and course_id != self.course_id:
            self.course_id = course_id
            changes["course"] = True
        if title is not None and title != self.course_title:
            self.course_title = title
            changes["course"] = True
        self.revision += 1
        self.draft_saved_at = now
        changes["draft"] = True

    def _back(self, data, now, changes):
        self.back_requested += 1
        changes["back"] = True

    _HANDLERS = {
        "session:ready": _session_ready,
        "session:error": _session_error,
        "session:expired": _session_expired,
        "course:created": _course_saved,
        "course:updated": _course_saved,
        "back": _back,
    }

    def to_dict(self):
        return {
            "version": RECORD_VERSION,
            "kind": "builder",
            "errors": [dict(error) for error in self.errors],
            "error_count": self.error_count,
            "course_id": self.course_id,
            "course_title": self.course_title,
            "draft_saved_at": self.draft_saved_at,
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, record):
        """Return (state, None), or (a fresh state, reason) when the record cannot be used."""
        reason = _check_header(record, "builder")
        if reason is None:
            top, reason = _read(record, _BUILDER_FIELDS, "")
        if reason is None:
            errors, reason = _read_list(top["errors"], _ERROR_FIELDS, "errors")
        if reason is not None:
            return cls(), reason
        state = cls()
        for name in ("error_count", "course_id", "course_title", "draft_saved_at", "revision"):
            setattr(state, name, top[name])
        state.errors = errors
        return state, None


def state_for(kind, rules=None):
    """A fresh state for an embed of `kind`: "player" or "builder"."""
    if kind == "player":
        return CourseState(rules)
    if kind == "builder":
        return BuilderState()
    raise ValueError("unknown embed kind %r (expected 'player' or 'builder')" % (kind,))


def restore_state(kind, record, rules=None):
    """(state, reason) from a stored record of an embed of `kind`; see from_dict."""
    if kind == "player":
        return CourseState.from_dict(record, rules)
    return BuilderState.from_dict(record)


# -- helpers for reading payloads --


def _usable(event):
    # parse_message only makes Events with a dict of data; anything else is ignored.
    return isinstance(event, Event) and isinstance(event.data, dict)


def _append_capped(items, item, cap):
    items.append(item)
    if len(items) > cap:
        del items[: len(items) - cap]


def _text(value):
    return value if isinstance(value, str) else None


def _message(data):
    return _text(data.get("message"))


def _new_screen(screen_id):
    return {
        "id": screen_id,
        "title": None,
        "index": None,
        "type": None,
        "started": False,
        "ended": False,
        "completed": False,
        # Quiz bookkeeping (see app/rules.py): the current attempt number; whether it has an
        # answer not marked incorrect; whether a screen:failed came; whether it was ever passed.
        "attempt": 1,
        "answered": False,
        "failed": False,
        "passed": False,
    }


def _learn_screen(screen, data):
    # Screen payloads are not published: take each descriptive field only when it looks right.
    title = data.get("title")
    if isinstance(title, str):
        screen["title"] = title
    index = data.get("index")
    if isinstance(index, int) and not isinstance(index, bool):
        screen["index"] = index
    kind = data.get("type")
    if isinstance(kind, str):
        screen["type"] = kind


def _attempt(screen, data, step):
    """The attempt a quiz event belongs to: the payload's own number if usable, else derived.

    `step` is 1 for screen:retry, which starts the next attempt. Without a screen to
    remember attempts on, counting starts again from 1.
    """
    given = data.get("attempt")
    if isinstance(given, int) and not isinstance(given, bool) and given > 0:
        attempt = given
    else:
        attempt = (screen["attempt"] if screen is not None else 1) + step
    if screen is not None:
        screen["attempt"] = attempt
    return attempt


# -- reading saved records: every field is checked, since storage can hold anything --

_INVALID = object()


def _bool(value):
    return value if isinstance(value, bool) else _INVALID


def _text_or_none(value):
    return value if value is None or isinstance(value, str) else _INVALID


def _string(value):
    return value if isinstance(value, str) else _INVALID


def _int_at_least(low):
    def read(value):
        if isinstance(value, int) and not isinstance(value, bool) and value >= low:
            return value
        return _INVALID

    return read


def _int_or_none(value):
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return _INVALID


def _percent(value):
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100:
        return value
    return _INVALID


def _number_or_none(value):
    return value if value is None or is_number(value) else _INVALID


def _bool_or_none(value):
    return value if value is None or isinstance(value, bool) else _INVALID


def _json(value):
    copy, reason = json_copy(value)
    return _INVALID if reason is not None else copy


def _object(value):
    return _json(value) if isinstance(value, dict) else _INVALID


def _object_or_none(value):
    return None if value is None else _object(value)


def _list(value):
    return value if isinstance(value, list) else _INVALID


def _dict(value):
    return value if isinstance(value, dict) else _INVALID


def _quiz_event(value):
    return value if value in ("answer", "failed", "retry") else _INVALID


# (field, reader, what a valid value is): readers return a clean copy or _INVALID.
_COURSE_FIELDS = (
    ("started", _bool, "a boolean"),
    ("started_at", _text_or_none, "a string or null"),
    ("progress", _percent, "an integer from 0 to 100"),
    ("completed", _bool, "a boolean"),
    ("completed_at", _text_or_none, "a string or null"),
    ("feedback", _object_or_none, "an object or null"),
    ("feedback_history", _list, "a list"),
    ("screens", _dict, "an object"),
    ("screen_order", _list, "a list"),
    ("quiz", _list, "a list"),
    ("quiz_seq", _int_at_least(0), "a non-negative integer"),
    ("unlocked", _list, "a list"),
)
_FEEDBACK_FIELDS = (
    ("data", _object, "an object"),
    ("time", _string, "a string"),
)
_SCREEN_FIELDS = (
    ("id", _string, "a string"),
    ("title", _text_or_none, "a string or null"),
    ("index", _int_or_none, "an integer or null"),
    ("type", _text_or_none, "a string or null"),
    ("started", _bool, "a boolean"),
    ("ended", _bool, "a boolean"),
    ("completed", _bool, "a boolean"),
    ("attempt", _int_at_least(1), "a positive integer"),
    ("answered", _bool, "a boolean"),
    ("failed", _bool, "a boolean"),
    ("passed", _bool, "a boolean"),
)
_QUIZ_FIELDS = (
    ("seq", _int_at_least(1), "a positive integer"),
    ("event", _quiz_event, "answer, failed or retry"),
    ("screen", _text_or_none, "a string or null"),
    ("title", _text_or_none, "a string or null"),
    ("question", _json, "JSON"),
    ("answer", _json, "JSON"),
    ("correct", _bool_or_none, "a boolean or null"),
    ("score", _number_or_none, "a number or null"),
    ("attempt", _int_at_least(1), "a positive integer"),
    ("time", _string, "a string"),
)
_BUILDER_FIELDS = (
    ("errors", _list, "a list"),
    ("error_count", _int_at_least(0), "a non-negative integer"),
    ("course_id", _text_or_none, "a string or null"),
    ("course_title", _text_or_none, "a string or null"),
    ("draft_saved_at", _text_or_none, "a string or null"),
    ("revision", _int_at_least(0), "a non-negative integer"),
)
_ERROR_FIELDS = (
    ("message", _text_or_none, "a string or null"),
    ("time", _string, "a string"),
)


def _check_header(record, kind):
    if not isinstance(record, dict) or "version" not in record:
        return "not a %s record" % kind
    version = record["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        return "unknown version (%s)" % json_type(version)
    if version != RECORD_VERSION:
        return "unknown version %d" % version
    if record.get("kind") != kind:
        return "not a %s record" % kind
    return None


def _read(record, fields, where):
    """Return (a dict of the clean fields, None), or (None, "corrupt record: ...")."""
    if not isinstance(record, dict):
        return None, "corrupt record: %s is not an object" % where
    clean = {}
    for name, reader, expected in fields:
        path = where + "." + name if where else name
        if name not in record:
            return None, "corrupt record: %s is missing" % path
        value = reader(record[name])
        if value is _INVALID:
            return None, "corrupt record: %s is not %s" % (path, expected)
        clean[name] = value
    return clean, None


def _read_list(items, fields, where):
    clean = []
    for number, item in enumerate(items):
        item, reason = _read(item, fields, "%s[%d]" % (where, number))
        if reason is not None:
            return None, reason
        clean.append(item)
    return clean, None


def _read_screens(screens, order):
    # The UI walks screen_order and looks each id up in screens: they must agree exactly.
    if not _is_id_list(order) or len(order) != len(screens) or any(key not in screens for key in order):
        return None, "corrupt record: screen_order does not match screens"
    clean = {}
    for key in order:
        screen, reason = _read(screens[key], _SCREEN_FIELDS, "screens[%r]" % key)
        if reason is not None:
            return None, reason
        if screen["id"] != key:
            return None, "corrupt record: screens[%r] has id %r" % (key, screen["id"])
        clean[key] = screen
    return clean, None


def _is_id_list(value):
    if not isinstance(value, list):
        return False
    seen = {}
    for item in value:
        if not isinstance(item, str) or item in seen:
            return False
        seen[item] = True
    return True
