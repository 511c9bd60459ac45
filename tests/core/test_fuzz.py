"""Property tests for the core: no input makes it raise, and its invariants hold for any sequence."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursewire.core.builder import BuilderState
from coursewire.core.course import CourseState
from coursewire.core.records import record_of, restore
from coursewire.core.wire import KNOWN_NAMES, Event, Rejection, parse_message

from replay import timestamp

RULES = [
    {"id": "half", "when": "progress", "at": 50},
    {"id": "s1", "when": "screen-complete", "screen": "s1"},
    {"id": "q1", "when": "quiz-passed", "screen": "q1"},
    {"id": "done", "when": "completed"},
]

settings.register_profile("core", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("core")

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)

# Python values a host page could hand over by mistake: tuples, sets, bytes, odd keys.
python_values = st.recursive(
    json_scalars | st.binary(max_size=5) | st.just(object()),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.frozensets(st.integers(), max_size=3)
        | st.dictionaries(st.text(max_size=5) | st.integers() | st.booleans(), children, max_size=4)
    ),
    max_leaves=20,
)

# Plausible Coassemble messages for every known name, with values that are sometimes odd.
screen_ids = st.sampled_from(["s1", "s2", "q1", 7, "", None])
payload_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": screen_ids,
        "title": st.text(max_size=10) | st.integers(),
        "index": st.integers(-1, 20) | st.text(max_size=2),
        "type": st.sampled_from(["text", "quiz", 3]),
        "progress": st.integers(-50, 250) | st.floats(-10, 200) | st.sampled_from(["40", "55.5", "x", True, None]),
        "question": json_values,
        "answer": json_values,
        "correct": st.sampled_from([True, False, None, "true", 1]),
        "score": st.integers(0, 100) | st.floats() | st.text(max_size=3),
        "attempt": st.integers(-2, 5) | st.booleans(),
        "message": st.text(max_size=10) | st.integers(),
        "rating": st.integers(1, 5),
    },
)


@st.composite
def messages(draw):
    name = draw(st.sampled_from(sorted(KNOWN_NAMES) + ["course:commenced", "course:complete", "course:bookmark"]))
    kind, _, event = name.partition(":")
    message = {"type": kind}
    if event:
        message[draw(st.sampled_from(["event", "status"]))] = event
    if draw(st.booleans()):
        message["data"] = draw(payload_fields)
    if draw(st.booleans()):
        message["progress"] = draw(st.integers(-10, 120))
    return message


@st.composite
def mutated_messages(draw):
    """A plausible message, then damaged as a whole object or as JSON text."""
    message = draw(messages())
    how = draw(st.sampled_from(["none", "drop", "replace", "add", "truncate", "splice"]))
    keys = sorted(message)
    if how == "drop":
        del message[draw(st.sampled_from(keys))]
    elif how == "replace":
        message[draw(st.sampled_from(keys))] = draw(json_values)
    elif how == "add":
        message[draw(st.text(max_size=8))] = draw(json_values)
    text = json.dumps(message)
    if how == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if how == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(max_size=5)) + text[at:]
    return draw(st.sampled_from([text, message]))


def check_result(result, raw):
    assert isinstance(result, (Event, Rejection))
    assert result.raw is raw
    if isinstance(result, Event):
        assert isinstance(result.data, dict)
        # Strict JSON with no lone surrogates: safe for a DOM event's detail and for storage.
        json.dumps(result.to_dict(), allow_nan=False, ensure_ascii=False).encode("utf-8")
    else:
        assert isinstance(result.reason, str) and result.reason


@given(json_values)
def test_any_json_value_parses_without_raising(value):
    check_result(parse_message(value), value)
    text = json.dumps(value)
    check_result(parse_message(text), text)


@given(st.text())
def test_any_text_parses_without_raising(text):
    check_result(parse_message(text), text)


@given(python_values)
def test_any_python_value_parses_without_raising(value):
    check_result(parse_message(value), value)


def apply_all(state, raws):
    return [state.apply(parse_message(raw), timestamp(i)) for i, raw in enumerate(raws)]


@given(st.lists(mutated_messages(), max_size=30))
def test_mutated_messages_never_make_either_state_raise(raws):
    for state in (CourseState(RULES), BuilderState()):
        for changes in apply_all(state, raws):
            assert isinstance(changes, dict)


@given(st.lists(messages(), max_size=40))
def test_course_invariants_hold_for_any_sequence(raws):
    state = CourseState(RULES)
    seen_progress, seen_completed, seen_unlocked, last_seq = 0, False, [], 0
    for i, raw in enumerate(raws):
        status = state.status
        changes = state.apply(parse_message(raw), "t%d" % i)
        assert ("status" in changes) == (state.status != status)
        assert 0 <= state.progress <= 100
        assert state.progress >= seen_progress, "progress went down"
        assert ("progress" in changes) == (state.progress != seen_progress)
        assert state.completed or not seen_completed, "completion was undone"
        assert not state.completed or state.progress == 100
        assert state.unlocked[: len(seen_unlocked)] == seen_unlocked, "a step was locked again"
        assert changes.get("unlocks", []) == state.unlocked[len(seen_unlocked) :]
        for entry in changes.get("quiz", []):
            assert entry["seq"] > last_seq
            last_seq = entry["seq"]
        assert sorted(state.screens) == sorted(state.screen_order)
        seen_progress, seen_completed, seen_unlocked = state.progress, state.completed, list(state.unlocked)


@given(st.lists(mutated_messages(), max_size=30))
def test_records_are_strict_json_and_round_trip(raws):
    course, builder = CourseState(RULES), BuilderState()
    apply_all(course, raws)
    apply_all(builder, raws)
    for state, product in ((course, "player"), (builder, "builder")):
        record = record_of(state)
        text = json.dumps(record, allow_nan=False)
        restored, reason = restore(product, json.loads(text), RULES)
        assert reason is None
        assert record_of(restored) == record


@given(json_values | python_values)
def test_restore_never_raises(value):
    for product in ("player", "builder"):
        state, reason = restore(product, value)
        assert reason is not None
        json.dumps(record_of(state), allow_nan=False)


@st.composite
def damaged_records(draw):
    """A real course record with one value somewhere inside replaced."""
    state = CourseState(RULES)
    apply_all(state, draw(st.lists(messages(), min_size=1, max_size=15)))
    record = record_of(state)
    target = record
    while True:
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        if isinstance(target[key], (dict, list)) and target[key] and draw(st.booleans()):
            target = target[key]
            continue
        target[key] = draw(python_values)
        break
    return record


@given(damaged_records())
def test_damaged_records_restore_or_are_refused(record):
    state, reason = restore("player", record, RULES)
    assert reason is None or reason.startswith(("corrupt record: ", "unknown version", "not a course record"))
    record_out = record_of(state)
    json.dumps(record_out, allow_nan=False)
    if reason is None:
        again, reason_again = restore("player", json.loads(json.dumps(record_out)), RULES)
        assert reason_again is None and record_of(again) == record_out
    else:
        assert record_out == record_of(CourseState(RULES))


def _outcome(result):
    if isinstance(result, Rejection):
        return ("rejected", result.reason)
    return ("event", result.name, json.dumps(result.data, sort_keys=True))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        messages(),
        json_values,
        st.floats(allow_nan=False).map(
            lambda f: {"type": "course", "event": "progress", "data": {"progress": f, "score": f * 1e300}}
        ),
    )
)
def test_text_fast_path_agrees_with_the_sanitising_copy(value):
    # JSON text skips the sanitising copy when it cannot hold an infinite float; the object path
    # always copies. Both must give the same answer, infinities from "1e999" included.
    if not isinstance(value, (dict, list)):
        value = {"type": "course", "event": "progress", "data": {"progress": 1, "x": value}}
    text = json.dumps(value)
    if "NaN" in text or "Infinity" in text:
        return  # not JSON text (refused as such); json.dumps writes them for float('nan')
    assert _outcome(parse_message(text)) == _outcome(parse_message(json.loads(text)))
