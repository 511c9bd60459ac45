"""coursewire/core/wire.py and jsonsafe.py: every known event, alias, field and rejection reason."""

import json

import pytest

from coursewire.core.jsonsafe import MAX_DEPTH, is_number, json_copy, json_type, parse_json
from coursewire.core.wire import (
    BUILDER_NAMES,
    KNOWN_NAMES,
    MAX_MESSAGE_CHARS,
    PLAYER_NAMES,
    Event,
    Rejection,
    as_id,
    as_percent,
    parse_message,
)


def wire(message):
    """What Coassemble posts: the message as JSON text."""
    return json.dumps(message)


def accepted(raw):
    result = parse_message(raw)
    assert isinstance(result, Event), result
    return result


def reason(raw):
    result = parse_message(raw)
    assert isinstance(result, Rejection), result
    assert result.raw is raw
    return result.reason


# -- accepted events --


@pytest.mark.parametrize("name", sorted(KNOWN_NAMES - {"back", "course:progress"}))
def test_every_known_name_parses_from_type_and_event(name):
    kind, event = name.split(":")
    result = accepted(wire({"type": kind, "event": event, "data": {"id": "x"}}))
    assert (result.name, result.type, result.event, result.known) == (name, kind, event, True)
    assert result.data == {"id": "x"}


def test_progress_event_carries_an_integer_progress():
    result = accepted(wire({"type": "course", "event": "progress", "data": {"progress": 42}}))
    assert result.name == "course:progress"
    assert result.data == {"progress": 42}


def test_back_has_no_event():
    result = accepted(wire({"type": "back"}))
    assert (result.name, result.type, result.event, result.data, result.known) == ("back", "back", None, {}, True)


def test_known_names_are_the_documented_ones():
    assert set(PLAYER_NAMES) == {
        "session:ready",
        "course:start",
        "course:progress",
        "course:feedback",
        "course:completed",
        "screen:start",
        "screen:end",
        "screen:complete",
        "screen:answer",
        "screen:failed",
        "screen:retry",
    }
    assert set(BUILDER_NAMES) == {
        "session:ready",
        "session:error",
        "session:expired",
        "course:created",
        "course:updated",
        "course:generated",
        "back",
    }
    assert KNOWN_NAMES == set(PLAYER_NAMES) | set(BUILDER_NAMES)


def test_an_already_parsed_object_is_accepted_and_copied():
    message = {"type": "screen", "event": "answer", "data": {"id": "s1", "answer": ["a", "b"]}}
    result = accepted(message)
    assert result.raw is message
    assert result.data == message["data"]
    result.data["answer"].append("c")
    assert message["data"]["answer"] == ["a", "b"]


def test_tuples_in_an_object_become_lists():
    assert accepted({"type": "screen", "event": "answer", "data": {"answer": ("a", 1)}}).data == {"answer": ["a", 1]}


def test_unknown_pairs_are_events_marked_unknown():
    result = accepted(wire({"type": "course", "event": "bookmark", "data": {"at": 3}}))
    assert (result.name, result.known, result.data) == ("course:bookmark", False, {"at": 3})
    assert accepted(wire({"type": "lesson", "event": "start"})).known is False


def test_back_with_an_event_is_an_unknown_name():
    assert accepted(wire({"type": "back", "event": "now"})).name == "back:now"


def test_extra_top_level_fields_are_ignored():
    result = accepted(wire({"type": "session", "event": "ready", "version": 3, "source": "coassemble"}))
    assert result.name == "session:ready" and result.data == {}


@pytest.mark.parametrize(
    "message", [{"type": "course", "event": "start"}, {"type": "course", "event": "start", "data": None}]
)
def test_missing_or_null_data_becomes_an_empty_dict(message):
    assert accepted(wire(message)).data == {}


def test_event_names_are_case_sensitive():
    assert accepted(wire({"type": "Course", "event": "Start"})).known is False


# -- aliases --


@pytest.mark.parametrize(
    "message, name",
    [
        ({"type": "course", "event": "commenced"}, "course:start"),
        ({"type": "course", "event": "start"}, "course:start"),
        ({"type": "course", "status": "commenced"}, "course:start"),
        ({"type": "course", "status": "start"}, "course:start"),
        ({"type": "course", "event": "complete"}, "course:completed"),
        ({"type": "course", "status": "complete"}, "course:completed"),
        ({"type": "course", "status": "completed"}, "course:completed"),
        ({"type": "course", "status": "progress", "progress": 5}, "course:progress"),
        # "complete" is only an alias on the course: screen:complete is its own event.
        ({"type": "screen", "event": "complete"}, "screen:complete"),
    ],
)
def test_aliases(message, name):
    result = accepted(wire(message))
    assert result.name == name and result.known
    assert result.raw == wire(message)


def test_event_wins_over_status():
    assert accepted(wire({"type": "course", "event": "start", "status": "complete"})).name == "course:start"


def test_null_event_falls_back_to_status():
    assert accepted(wire({"type": "course", "event": None, "status": "complete"})).name == "course:completed"


# -- progress --


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, 0),
        (42, 42),
        (100, 100),
        (42.9, 42),
        (99.999, 99),
        (-0.5, -1),  # floor, not truncation: clamping is the reducer's job
        (150, 150),
        (10**30, 10**30),
        (1e300, int(1e300)),
        ("42", 42),
        ("42.7", 42),
        ("007", 7),
    ],
)
def test_progress_is_floored_to_an_int(value, expected):
    result = accepted({"type": "course", "event": "progress", "data": {"progress": value}})
    assert result.data["progress"] == expected
    assert type(result.data["progress"]) is int


def test_huge_integer_progress_from_json_text():
    assert accepted('{"type":"course","event":"progress","data":{"progress":%s}}' % ("9" * 40)).data["progress"] == int(
        "9" * 40
    )


def test_progress_falls_back_to_the_top_level():
    result = accepted(wire({"type": "course", "event": "progress", "progress": 30, "data": {"other": 1}}))
    assert result.data == {"progress": 30, "other": 1}


def test_data_progress_wins_over_the_top_level():
    assert accepted(wire({"type": "course", "event": "progress", "progress": 30, "data": {"progress": 40}})).data == {
        "progress": 40
    }


@pytest.mark.parametrize(
    "message",
    [
        {"type": "course", "event": "progress"},
        {"type": "course", "event": "progress", "data": {}},
        {"type": "course", "event": "progress", "data": {"progress": None}},
    ],
)
def test_progress_is_missing(message):
    assert reason(wire(message)) == "progress is missing"


@pytest.mark.parametrize(
    "value",
    [True, False, "", "abc", "4 2", "-5", "+5", "1e3", ".5", "5.", "1.2.3", "\u0664\u0662", "1" * 33, [50], {"v": 50}],
)
def test_progress_that_is_not_a_number_is_rejected(value):
    assert (
        reason({"type": "course", "event": "progress", "data": {"progress": value}})
        == "progress is not a finite number"
    )


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_progress_is_treated_as_missing(value):
    # Non-finite numbers become null, as JSON.stringify does, so there is no progress left.
    assert reason({"type": "course", "event": "progress", "data": {"progress": value}}) == "progress is missing"


def test_overflowing_json_number_is_treated_as_missing():
    assert reason('{"type":"course","event":"progress","data":{"progress":1e400}}') == "progress is missing"


def test_completed_keeps_a_valid_progress():
    assert accepted(
        wire({"type": "course", "event": "completed", "data": {"progress": 100, "completed": True}})
    ).data == {
        "progress": 100,
        "completed": True,
    }
    assert accepted(wire({"type": "course", "status": "complete", "progress": 100})).data == {"progress": 100}


@pytest.mark.parametrize("value", ["done", True, [1], None])
def test_completed_ignores_an_invalid_progress(value):
    result = accepted({"type": "course", "event": "completed", "data": {"progress": value, "completed": True}})
    assert result.name == "course:completed"
    assert result.data == {"completed": True}


def test_progress_of_other_events_is_left_alone():
    assert accepted(wire({"type": "screen", "event": "end", "data": {"progress": "x"}})).data == {"progress": "x"}


# -- tolerant payloads --


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"id": None},
        {"id": 7, "title": ["odd"], "index": "first"},
        {"question": {"nested": [1, 2, {"deep": True}]}, "answer": 3.5, "correct": "yes"},
        {"rating": None, "comment": ""},
    ],
)
@pytest.mark.parametrize(
    "name", ["screen:start", "screen:answer", "screen:failed", "course:feedback", "course:created"]
)
def test_odd_optional_fields_never_cause_a_rejection(name, data):
    kind, event = name.split(":")
    assert accepted(wire({"type": kind, "event": event, "data": data})).data == data


# -- rejections --


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("", "empty message"),
        ("   \n\t", "empty message"),
        ("not json", "not JSON"),
        ('{"type":"course"', "not JSON"),
        ("{'type': 'course'}", "not JSON"),
        ("[1, 2]", "not an object (got array)"),
        ('"course:progress"', "not an object (got string)"),
        ("42", "not an object (got number)"),
        ("true", "not an object (got boolean)"),
        ("null", "not an object (got null)"),
        ("{}", "missing type"),
        ('{"type": "", "event": "ready"}', "missing type"),
        ('{"type": null, "event": "ready"}', "missing type"),
        ('{"type": 3, "event": "ready"}', "type is not a string"),
        ('{"type": ["course"], "event": "ready"}', "type is not a string"),
        ('{"type": "course"}', "missing event"),
        ('{"type": "course", "event": ""}', "missing event"),
        ('{"type": "course", "event": 5}', "event is not a string"),
        ('{"type": "course", "status": {"s": 1}}', "status is not a string"),
        ('{"type": "course", "event": "start", "data": [1]}', "data is not an object"),
        ('{"type": "course", "event": "start", "data": "x"}', "data is not an object"),
        ('{"type": "back", "data": 0}', "data is not an object"),
    ],
)
def test_rejection_reasons_for_text(raw, expected):
    assert reason(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, "not an object (got null)"),
        ([], "not an object (got array)"),
        ((1, 2), "not an object (got array)"),
        (3, "not an object (got number)"),
        (2.5, "not an object (got number)"),
        (True, "not an object (got boolean)"),
        ({1: "x"}, "not JSON-able (number key)"),
        ({"type": "course", "event": "start", "data": {"when": object()}}, "not JSON-able (got object)"),
        ({"type": "course", "event": "start", "data": {"ids": {1, 2}}}, "not JSON-able (got set)"),
        (b'{"type":"back"}', "not JSON-able (got bytes)"),
    ],
)
def test_rejection_reasons_for_objects(raw, expected):
    assert reason(raw) == expected


def test_too_large_is_rejected_before_parsing():
    raw = '{"type":"back","pad":"%s"}' % ("x" * MAX_MESSAGE_CHARS)
    assert reason(raw) == "too large (%d characters)" % len(raw)


def test_exactly_the_size_limit_is_accepted():
    head = '{"type":"back","pad":"'
    raw = head + "x" * (MAX_MESSAGE_CHARS - len(head) - 2) + '"}'
    assert len(raw) == MAX_MESSAGE_CHARS
    assert accepted(raw).name == "back"


def test_nesting_at_the_limit_is_accepted():
    # message object, data object, then lists: MAX_DEPTH containers in all
    value = []
    for _ in range(MAX_DEPTH - 3):
        value = [value]
    message = {"type": "screen", "event": "answer", "data": {"answer": value}}
    assert accepted(wire(message)).data == {"answer": value}
    assert accepted(message).data == {"answer": value}


def test_nesting_past_the_limit_is_rejected():
    value = []
    for _ in range(MAX_DEPTH - 2):
        value = [value]
    message = {"type": "screen", "event": "answer", "data": {"answer": value}}
    assert reason(wire(message)) == "nested too deeply"
    assert reason(message) == "nested too deeply"


def test_absurd_nesting_in_text_is_rejected_without_raising():
    # Refused before json.loads, whose recursion can overflow Pyodide's stack (a fatal error).
    assert reason("[" * 30000 + "]" * 30000) == "nested too deeply"
    assert parse_message('{"type": "back", "data": {"x": "' + "[" * 100 + '"}}').data == {"x": "[" * 100}
    assert reason("[" * 32 + "]" * 32) == "not an object (got array)"


def test_a_cyclic_object_is_rejected():
    data = {}
    data["self"] = data
    assert reason({"type": "back", "data": data}) == "nested too deeply"


def test_too_many_values_in_an_object_is_rejected():
    message = {"type": "back", "data": {"pad": [0] * MAX_MESSAGE_CHARS}}
    assert reason(message) == "too large (more than %d values)" % MAX_MESSAGE_CHARS


def test_a_hostile_object_is_rejected():
    class Hostile(dict):
        def __iter__(self):
            raise RuntimeError("no")

    assert reason(Hostile(type="back")) == "not JSON-able"


def test_nan_in_an_object_payload_becomes_null():
    result = accepted({"type": "screen", "event": "answer", "data": {"score": float("nan"), "answer": [float("-inf")]}})
    assert result.data == {"score": None, "answer": [None]}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(literal):
    # CPython's json would accept them; MicroPython's does not, and neither does JSON.
    assert reason('{"type":"screen","event":"answer","data":{"score":%s}}' % literal) == "not JSON"


def test_raw_control_characters_in_strings_are_accepted():
    # MicroPython's json accepts them, so CPython's is told to as well.
    assert accepted('{"type":"course","event":"feedback","data":{"comment":"a\tb\x01"}}').data == {
        "comment": "a\tb\x01"
    }


def text_with(escaped):
    return '{"type":"course","event":"feedback","data":{"comment":"%s"}}' % escaped


@pytest.mark.parametrize(
    "escaped, comment",
    [
        ("\\ud83d\\ude00", "\U0001f600"),
        ("\\uD83D\\uDE00!", "\U0001f600!"),
        ("a\\ud83c\\uddfa\\ud83c\\uddf8b", "a\U0001f1fa\U0001f1f8b"),
        ("\\ud83d", "\ufffd"),  # a lone high half
        ("\\ude00x", "\ufffdx"),  # a lone low half
        ("\\ude00\\ud83d", "\ufffd\ufffd"),  # halves in the wrong order
        ("\\ud83d\\u0041", "\ufffdA"),
        ("\\\\ud83d", "\\ud83d"),  # an escaped backslash, then plain text
        ("\\\\\\ud83d\\ude00", "\\\U0001f600"),
        ("\\u00e9\\n", "\u00e9\n"),
        ("\\ud83", None),
    ],
)
def test_surrogate_escapes_decode_the_same_on_every_runtime(escaped, comment):
    raw = text_with(escaped)
    if comment is None:
        assert reason(raw) == "not JSON"
    else:
        data = accepted(raw).data
        assert data == {"comment": comment}
        data["comment"].encode("utf-8")  # never a lone surrogate


# -- Event and Rejection values --


def test_event_to_dict_is_json_ready():
    result = accepted(wire({"type": "course", "status": "commenced", "data": {"id": 9}}))
    assert result.to_dict() == {"name": "course:start", "type": "course", "event": "start", "data": {"id": 9}}
    assert json.loads(json.dumps(result.to_dict())) == result.to_dict()
    assert accepted(wire({"type": "back"})).to_dict() == {"name": "back", "type": "back", "event": None, "data": {}}


def test_reprs_say_what_happened():
    assert repr(accepted(wire({"type": "session", "event": "ready"}))) == "Event('session:ready', data={})"
    assert repr(accepted(wire({"type": "x", "event": "y"}))) == "Event('x:y', data={}, unknown)"
    assert repr(parse_message("nope")) == "Rejection('not JSON')"


# -- small helpers the state and rules share --


def test_as_percent():
    assert [as_percent(v) for v in (5, 5.5, "5", "5.5", True, None, "x", float("nan"))] == [
        5,
        5,
        5,
        5,
        None,
        None,
        None,
        None,
    ]


def test_as_id():
    assert [as_id(v) for v in ("s1", 7, "", True, None, 1.5, ["s"])] == ["s1", "7", None, None, None, None, None]


def test_is_number():
    assert [is_number(v) for v in (0, -2, 1.5, True, float("inf"), float("nan"), "1", None)] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]


def test_json_type_names():
    assert [json_type(v) for v in (None, True, 1, 1.5, "s", [], (), {})] == [
        "null",
        "boolean",
        "number",
        "number",
        "string",
        "array",
        "array",
        "object",
    ]


def test_json_copy_accepts_a_custom_budget():
    assert json_copy([1, 2, 3], max_values=4) == ([1, 2, 3], None)
    assert json_copy([1, 2, 3], max_values=3) == (None, "too large (more than 3 values)")


# -- an Event validates itself when it is built (h11-style): an unusable one cannot exist --


@pytest.mark.parametrize(
    "args, reason",
    [
        (("course", "progress", {}), "progress is missing"),
        (("course", "progress", {"progress": float("inf")}), "progress is not a finite number"),
        (("course", "progress", {"progress": "12%"}), "progress is not a finite number"),
        (("course", "feedback", None), "data is not an object"),
        (("session", "error", ["not", "a", "dict"]), "data is not an object"),
        (("", "ready", {}), "missing type"),
        ((None, "ready", {}), "missing type"),
        (("course", 5, {}), "event is not a string"),
    ],
)
def test_an_event_with_unusable_fields_cannot_be_built(args, reason):
    with pytest.raises(ValueError) as raised:
        Event(*args)
    assert raised.value.args[0] == reason


def test_fields_hold_the_checked_values_the_reducers_read():
    answer = accepted(
        wire(
            {
                "type": "screen",
                "event": "answer",
                "data": {
                    "id": 7,
                    "title": "Q",
                    "index": "2",
                    "type": None,
                    "question": {"q": 1},
                    "answer": ["a"],
                    "correct": "yes",
                    "score": float("1e400") if False else 0.5,
                    "attempt": 0,
                },
            }
        )
    )
    assert answer.fields == {
        "id": "7",
        "title": "Q",
        "index": None,
        "type": None,
        "question": {"q": 1},
        "answer": ["a"],
        "correct": None,
        "score": 0.5,
        "attempt": None,
    }
    assert answer.data["index"] == "2"  # handlers get the payload as sent
    assert accepted(wire({"type": "session", "event": "error", "data": {"message": 5}})).fields == {"message": None}
    assert accepted(wire({"type": "course", "event": "start"})).fields == {}


@pytest.mark.parametrize("event", ["created", "updated", "generated"])
def test_builder_saves_read_id_and_title(event):
    result = accepted(wire({"type": "course", "event": event, "data": {"id": 42, "title": "AI course"}}))
    assert result.known and result.fields == {"id": "42", "title": "AI course"}


# Every spelling of a number json.loads overflows into an infinity becomes null, wherever it is,
# in short text and long; a string that spells one, an underflow and a huge integer are kept.
OVERFLOWING = [
    ("1e999", None),
    ("-1E400", None),
    ("[1e999, 2]", [None, 2]),
    ('{"a": [{"b": -1e+400}], "c": "1e999", "d": 1.5}', {"a": [{"b": None}], "c": "1e999", "d": 1.5}),
    ("1" * 400 + ".0", None),
    ("[" + "1" * 400 + "]", [int("1" * 400)]),
    ('{"x": "' + "a" * 400 + '", "y": 2E999}', {"x": "a" * 400, "y": None}),
    ('{"x": "' + "a" * 400 + '", "y": 2E9}', {"x": "a" * 400, "y": 2e9}),
    ("[1.5e-999, 1e308]", [0.0, 1e308]),
    ("[[[[[[[[[[1e999]]]]]]]]]]", [[[[[[[[[[None]]]]]]]]]]),
]


@pytest.mark.parametrize("text, expected", OVERFLOWING)
def test_overflowing_numbers_become_null_wherever_they_are(text, expected):
    assert parse_json(text, 10000) == (expected, None)


def test_an_overflow_below_the_depth_limit_is_refused_as_too_deep():
    assert parse_json("[" * 5 + "1e999" + "]" * 5, 100, max_depth=4) == (None, "nested too deeply")
    assert parse_json("[" * 4 + "1e999" + "]" * 4, 100, max_depth=4) == ([[[[None]]]], None)


def test_parse_json_applies_size_and_depth_limits_before_parsing():
    assert parse_json("[1]", 3) == ([1], None)
    assert parse_json("[1, 2]", 3)[1] == "too large (6 characters)"
    assert parse_json("[" * 100000 + "]" * 100000, 10**6)[1] == "nested too deeply"
    assert parse_json("", 10)[1] == "empty"
    assert parse_json("{'a': 1}", 100)[1] == "not JSON"
    assert parse_json('{"a": 1e400}', 100) == ({"a": None}, None)
    assert parse_json(None, 10)[1] == "not text (got null)"
