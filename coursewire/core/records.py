"""The persisted record of an embed: what outlives a page load, in both directions.

`record_of(state)` is the JSON-ready dict that is stored (store.py lays it out in chunks);
`restore(product, record, rules)` reads one back, of this version or an earlier one. Storage can hold anything (an older page, a corrupt write, a learner editing it in the
console), so every field is validated on the way in exactly as a message field would be, times
included: a record that fails is refused with a reason (the caller sets it aside and starts
fresh), never half-applied, and nothing a restored state holds can make rendering raise.

A stored record is the learner's own claim (informational, like everything the browser says):
the verified record lives on the host's server (coursewire.server).
"""

from coursewire.core.builder import BuilderState
from coursewire.core.course import BOUNDED, CAPS, SCREENS_CAP, CourseState
from coursewire.core.jsonsafe import is_number, json_copy, json_type
from coursewire.core.vocabulary import is_digits, is_int

# 2: the course record counts what its bounds kept out ("unrecorded"), and store.py keeps screens
# and feedback in chunks like the quiz log. Version 1 records are read (a learner's record
# survives the upgrade) and saved again as version 2.
RECORD_VERSION = 2
READABLE_VERSIONS = (1, 2)
PRODUCTS = ("player", "builder")  # what an embed holds: Coassemble's course player or course builder


def state_for(product, rules=None):
    """A fresh state for an embed of `product`: "player" or "builder"."""
    if product == "player":
        return CourseState(rules)
    if product == "builder":
        return BuilderState()
    raise ValueError("unknown product %r (expected 'player' or 'builder')" % (product,))


def record_of(state, shared=False):
    """The JSON-ready record of a CourseState or BuilderState.

    shared=True hands out the state's own lists and screen table instead of copies, for a caller
    that only reads them at once (the store, which writes only what changed: copying thousands of
    screens per save is the cost that must not grow with the record).
    """
    if isinstance(state, CourseState):
        return {
            "version": RECORD_VERSION,
            "kind": "course",
            "started": state.started,
            "started_at": state.started_at,
            "progress": state.progress,
            "completed": state.completed,
            "completed_at": state.completed_at,
            "feedback": state.feedback,
            "feedback_history": state.feedback_history if shared else [dict(item) for item in state.feedback_history],
            "screens": state.screens if shared else {key: dict(screen) for key, screen in state.screens.items()},
            "screen_order": state.screen_order if shared else list(state.screen_order),
            # Entries are never changed once logged, so even a copy may share them.
            "quiz": state.quiz if shared else list(state.quiz),
            "quiz_seq": state.quiz_seq,
            "unlocked": list(state.unlocked),
            "unrecorded": dict(state.unrecorded),
        }
    return {
        "version": RECORD_VERSION,
        "kind": "builder",
        "errors": [dict(error) for error in state.errors],
        "error_count": state.error_count,
        "course_id": state.course_id,
        "course_title": state.course_title,
        "draft_saved_at": state.draft_saved_at,
        "revision": state.revision,
    }


def restore(product, record, rules=None):
    """(state, None) from a stored record of an embed of `product`, or (a fresh state, reason)."""
    if product == "player":
        reason = _check_header(record, "course")
        if reason is None:
            state = CourseState(rules)
            reason = _restore_course(state, record)
            if reason is None:
                state.unlock()  # the page's rules may have changed since the record was saved
                return state, None
        return CourseState(rules), reason
    reason = _check_header(record, "builder")
    if reason is None:
        state = BuilderState()
        reason = _restore_builder(state, record)
        if reason is None:
            return state, None
    return BuilderState(), reason


def _restore_course(state, record):
    top, reason = _read(record, _COURSE_FIELDS, "")
    if reason is not None:
        return reason
    unrecorded, reason = _read_unrecorded(record.get("unrecorded"))
    if reason is not None:
        return reason
    # No version ever stored more than these bounds (screens had none before version 2): a longer
    # list was not written by Coursewire, and validating 100,000 entries would stall the page.
    for name in ("feedback_history", "quiz"):
        if len(top[name]) > CAPS[name]:
            return "corrupt record: %s holds more than %d entries" % (name, CAPS[name])
    history, reason = _read_list(top["feedback_history"], _FEEDBACK_FIELDS, "feedback_history")
    if reason is not None:
        return reason
    quiz, reason = _read_list(top["quiz"], _QUIZ_FIELDS, "quiz")
    if reason is not None:
        return reason
    if any(entry["seq"] > top["quiz_seq"] for entry in quiz):
        return "corrupt record: quiz_seq is behind the quiz log"
    order = top["screen_order"]
    screens, reason = _read_screens(top["screens"], order)
    if reason is not None:
        return reason
    if len(order) > SCREENS_CAP:
        # A version 1 record of a course that reported screens without end: the record keeps the
        # first SCREENS_CAP, like a live one, and the page says how many it left out.
        unrecorded["screens"] += len(order) - SCREENS_CAP
        order = order[:SCREENS_CAP]
    if not _is_id_list(top["unlocked"]):
        return "corrupt record: unlocked is not a list of distinct strings"
    for name in ("started", "started_at", "progress", "completed", "completed_at", "feedback", "quiz_seq"):
        setattr(state, name, top[name])
    state.feedback_history = history
    state.quiz = quiz
    state.set_screens(screens, list(order))
    state.unlocked = list(top["unlocked"])
    state.unrecorded = unrecorded
    return None


def _read_unrecorded(value):
    """A version 2 record's counts of what the bounds kept out; absent (version 1): none."""
    counts = {name: 0 for name in BOUNDED}
    if value is None:
        return counts, None
    if not isinstance(value, dict):
        return None, "corrupt record: unrecorded is not an object"
    for name in BOUNDED:
        count = value.get(name, 0)
        if not is_int(count) or count < 0:
            return None, "corrupt record: unrecorded.%s is not a non-negative integer" % name
        counts[name] = count
    return counts, None


def _restore_builder(state, record):
    top, reason = _read(record, _BUILDER_FIELDS, "")
    if reason is None:
        errors, reason = _read_list(top["errors"], _ERROR_FIELDS, "errors")
    if reason is not None:
        return reason
    for name in ("error_count", "course_id", "course_title", "draft_saved_at", "revision"):
        setattr(state, name, top[name])
    state.errors = errors
    return None


# -- readers: each returns a clean value or _INVALID --

_INVALID = object()


def is_iso_time(value):
    """True for the UTC times Coursewire writes (Date.prototype.toISOString):
    YYYY-MM-DDTHH:MM:SS.sssZ, the fraction optional. Checked field by field, since a record
    holding "not a date" once stopped the page when it was shown as a local time."""
    if not isinstance(value, str) or len(value) not in (20, 24) or value[-1] != "Z":
        return False
    if value[4] != "-" or value[7] != "-" or value[10] != "T" or value[13] != ":" or value[16] != ":":
        return False
    if len(value) == 24 and (value[19] != "." or not is_digits(value[20:23])):
        return False
    parts = (value[0:4], value[5:7], value[8:10], value[11:13], value[14:16], value[17:19])
    if not all(is_digits(part) for part in parts):
        return False
    year, month, day, hour, minute, second = [int(part) for part in parts]
    return year >= 1970 and 1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60


def _time(value):
    return value if is_iso_time(value) else _INVALID


def _time_or_none(value):
    return None if value is None else _time(value)


def _bool(value):
    return value if isinstance(value, bool) else _INVALID


def _text_or_none(value):
    return value if value is None or isinstance(value, str) else _INVALID


def _string(value):
    return value if isinstance(value, str) else _INVALID


def _int_at_least(low):
    def read(value):
        if is_int(value) and value >= low:
            return value
        return _INVALID

    return read


def _int_or_none(value):
    if value is None or (is_int(value)):
        return value
    return _INVALID


def _percent(value):
    if is_int(value) and 0 <= value <= 100:
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
    ("started_at", _time_or_none, "a time or null"),
    ("progress", _percent, "an integer from 0 to 100"),
    ("completed", _bool, "a boolean"),
    ("completed_at", _time_or_none, "a time or null"),
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
    ("time", _time, "a time"),
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
    ("time", _time, "a time"),
)
_BUILDER_FIELDS = (
    ("errors", _list, "a list"),
    ("error_count", _int_at_least(0), "a non-negative integer"),
    ("course_id", _text_or_none, "a string or null"),
    ("course_title", _text_or_none, "a string or null"),
    ("draft_saved_at", _time_or_none, "a time or null"),
    ("revision", _int_at_least(0), "a non-negative integer"),
)
_ERROR_FIELDS = (
    ("message", _text_or_none, "a string or null"),
    ("time", _time, "a time"),
)


def _check_header(record, kind):
    if not isinstance(record, dict) or "version" not in record:
        return "not a %s record" % kind
    version = record["version"]
    if not is_int(version):
        return "unknown version (%s)" % json_type(version)
    if version not in READABLE_VERSIONS:
        return "unknown version %d" % version
    if record.get("kind") != kind:
        return "not a %s record" % kind
    return None


def _read(record, fields, where, *args):
    """Return (a dict of the clean fields, None), or (None, "corrupt record: ...").

    `where % args` names the record in a reason; it is formatted only when there is one, since a
    large record is thousands of these calls (start-up time on MicroPython)."""
    if not isinstance(record, dict):
        return None, "corrupt record: %s is not an object" % (where % args)
    clean = {}
    for name, reader, expected in fields:
        if name not in record:
            return None, "corrupt record: %s is missing" % _path(where % args, name)
        value = reader(record[name])
        if value is _INVALID:
            return None, "corrupt record: %s is not %s" % (_path(where % args, name), expected)
        clean[name] = value
    return clean, None


def _path(where, name):
    return where + "." + name if where else name


def _read_list(items, fields, where):
    clean = []
    for number, item in enumerate(items):
        item, reason = _read(item, fields, "%s[%d]", where, number)
        if reason is not None:
            return None, reason
        clean.append(item)
    return clean, None


def _read_screens(screens, order):
    # The UI walks screen_order and looks each id up in screens: they must agree exactly.
    if not _is_id_list(order) or len(order) != len(screens) or any(key not in screens for key in order):
        return None, "corrupt record: screen_order does not match screens"
    clean = {}
    for key in order[:SCREENS_CAP]:  # past the bound nothing is kept (see _restore_course)
        screen, reason = _read(screens[key], _SCREEN_FIELDS, "screens[%r]", key)
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
