"""coursewire/core/records.py: the persisted record, both ways, and every way a stored one can be wrong."""

import json
from pathlib import Path

import pytest

from coursewire.core.builder import BuilderState
from coursewire.core.course import CourseState
from coursewire.core.records import is_iso_time, record_of, restore, state_for
from coursewire.core.wire import Event, Rejection, parse_message

from messages import RULES, event, progress, run_timed, screen
from replay import replay, timestamp

FIXTURES = Path(__file__).parent.parent / "fixtures"


# -- course: persistence --


def busy_course():
    state = CourseState(RULES)
    run_timed(
        state,
        event("session", "ready"),
        event("course", "start"),
        screen("start", id="s1", title="Intro", index=0, type="text"),
        screen("complete", id="s1"),
        progress(55),
        screen("answer", id="q", question={"text": "2+2"}, answer=[4], correct=False, score=0.5),
        screen("failed", id="q"),
        screen("retry", id="q"),
        event("course", "feedback", rating=4, comment="ok"),
        screen("start", id="q"),
    )
    return state


def test_to_dict_is_json_and_round_trips():
    state = busy_course()
    record = record_of(state)
    assert (record["version"], record["kind"]) == (2, "course")
    assert json.loads(json.dumps(record)) == record
    restored, reason = restore("player", json.loads(json.dumps(record)), RULES)
    assert reason is None
    assert record_of(restored) == record
    assert (restored.status, restored.unlocked, restored.quiz_seq) == ("In progress", ["intro", "half"], 3)


def test_the_session_and_current_screen_are_not_saved():
    restored, reason = restore("player", record_of(busy_course()), RULES)
    assert reason is None
    assert (restored.session, restored.session_error, restored.current_screen) == ("waiting", None, None)


def test_a_restored_state_carries_on():
    restored, _ = restore("player", record_of(busy_course()), RULES)
    assert restored.apply(progress(50), "t20") == {}
    assert restored.apply(screen("answer", id="q"), "t21")["quiz"][0]["seq"] == 4
    assert restored.apply(screen("answer", id="q"), "t22")["quiz"][0]["attempt"] == 2


def test_a_restored_state_is_independent_of_the_record():
    record = record_of(busy_course())
    restored, _ = restore("player", record, RULES)
    record["quiz"][0]["question"]["text"] = "changed"
    record["screens"]["s1"]["title"] = "changed"
    record["feedback_history"][0]["data"]["rating"] = 0
    assert restored.quiz[0]["question"] == {"text": "2+2"}
    assert restored.screens["s1"]["title"] == "Intro"
    assert restored.feedback_history[0]["data"]["rating"] == 4


def test_rules_added_since_saving_unlock_on_restore():
    record = record_of(CourseState([]))
    record["progress"] = 70
    restored, reason = restore("player", record, RULES)
    assert reason is None
    assert restored.unlocked == ["half"]


def test_unlocks_of_removed_rules_are_kept():
    restored, _ = restore("player", record_of(busy_course()), [])
    assert restored.unlocked == ["intro", "half"]


@pytest.mark.parametrize(
    "record, reason",
    [
        (None, "not a course record"),
        ("x", "not a course record"),
        ([], "not a course record"),
        ({}, "not a course record"),
        ({"kind": "course"}, "not a course record"),
        ({"version": 99}, "unknown version 99"),
        ({"version": 7, "kind": "course"}, "unknown version 7"),
        ({"version": "1", "kind": "course"}, "unknown version (string)"),
        ({"version": True, "kind": "course"}, "unknown version (boolean)"),
        ({"version": 1.0, "kind": "course"}, "unknown version (number)"),
        ({"version": 1}, "not a course record"),
        ({"version": 1, "kind": "builder"}, "not a course record"),
    ],
)
def test_records_that_are_not_course_records(record, reason):
    state, why = restore("player", record)
    assert why == reason
    assert record_of(state) == record_of(CourseState())


def corrupt(path, value):
    """busy_course()'s record with the value at `path` replaced (or removed, for value=DELETE)."""
    record = record_of(busy_course())
    target = record
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return record


DELETE = object()


@pytest.mark.parametrize(
    "path, value, reason",
    [
        (("progress",), DELETE, "progress is missing"),
        (("progress",), "55", "progress is not an integer from 0 to 100"),
        (("progress",), 101, "progress is not an integer from 0 to 100"),
        (("progress",), True, "progress is not an integer from 0 to 100"),
        (("started",), 1, "started is not a boolean"),
        (("started_at",), 5, "started_at is not a time or null"),
        (("completed_at",), [], "completed_at is not a time or null"),
        (("feedback",), [], "feedback is not an object or null"),
        (("feedback",), {"bad": {1, 2}}, "feedback is not an object or null"),
        (("feedback_history",), {}, "feedback_history is not a list"),
        (("feedback_history", 0), "x", "feedback_history[0] is not an object"),
        (("feedback_history", 0, "time"), None, "feedback_history[0].time is not a time"),
        (("screens",), [], "screens is not an object"),
        (("screens", "s1", "started"), "yes", "screens['s1'].started is not a boolean"),
        (("screens", "s1", "attempt"), 0, "screens['s1'].attempt is not a positive integer"),
        (("screens", "s1", "index"), "0", "screens['s1'].index is not an integer or null"),
        (("screens", "s1", "passed"), DELETE, "screens['s1'].passed is missing"),
        (("screens", "s1", "id"), "s2", "screens['s1'] has id 's2'"),
        (("screens", "s1"), None, "screens['s1'] is not an object"),
        (("screens", "extra"), {}, "screen_order does not match screens"),
        (("screen_order",), ["s1"], "screen_order does not match screens"),
        (("screen_order",), ["s1", "s1"], "screen_order does not match screens"),
        (("screen_order",), ["s1", 5], "screen_order does not match screens"),
        (("screen_order",), "s1,q", "screen_order is not a list"),
        (("quiz",), None, "quiz is not a list"),
        (("quiz", 0, "seq"), 0, "quiz[0].seq is not a positive integer"),
        (("quiz", 1, "event"), "passed", "quiz[1].event is not answer, failed or retry"),
        (("quiz", 0, "answer"), {"x": object()}, "quiz[0].answer is not JSON"),
        (("quiz", 0, "correct"), "no", "quiz[0].correct is not a boolean or null"),
        (("quiz", 0, "score"), float("nan"), "quiz[0].score is not a number or null"),
        (("quiz", 2, "attempt"), None, "quiz[2].attempt is not a positive integer"),
        (("quiz", 0, "time"), DELETE, "quiz[0].time is missing"),
        (("quiz_seq",), 2, "quiz_seq is behind the quiz log"),
        (("quiz_seq",), -1, "quiz_seq is not a non-negative integer"),
        (("unlocked",), None, "unlocked is not a list"),
        (("unlocked",), ["half", "half"], "unlocked is not a list of distinct strings"),
        (("unlocked",), [1], "unlocked is not a list of distinct strings"),
    ],
)
def test_corrupt_course_records(path, value, reason):
    state, why = restore("player", corrupt(path, value), RULES)
    assert why == "corrupt record: " + reason
    assert record_of(state) == record_of(CourseState(RULES))


def busy_builder():
    state = BuilderState()
    run_timed(
        state,
        event("session", "ready"),
        event("course", "created", id=7, title="Draft"),
        event("session", "error", message="Network"),
        event("back"),
        event("session", "expired"),
    )
    return state


def test_builder_round_trip():
    record = record_of(busy_builder())
    assert (record["version"], record["kind"]) == (2, "builder")
    restored, reason = restore("builder", json.loads(json.dumps(record)))
    assert reason is None
    assert record_of(restored) == record
    # Session, expiry and back requests belong to the page load that saw them.
    assert (restored.session, restored.expired, restored.back_requested) == ("waiting", False, 0)


@pytest.mark.parametrize(
    "change, reason",
    [
        (None, None),
        ({"kind": "course"}, "not a builder record"),
        ({"version": 3}, "unknown version 3"),
        ({"version": 1}, None),  # a record from before the upgrade is read
        ({"revision": -1}, "corrupt record: revision is not a non-negative integer"),
        ({"course_id": 7}, "corrupt record: course_id is not a string or null"),
        ({"errors": [{"message": None}]}, "corrupt record: errors[0].time is missing"),
        ({"errors": "none"}, "corrupt record: errors is not a list"),
    ],
)
def test_builder_records(change, reason):
    record = record_of(busy_builder())
    if change:
        record.update(change)
    state, why = restore("builder", record)
    assert why == reason
    expected = dict(record, version=2) if reason is None else record_of(BuilderState())
    assert record_of(state) == expected


@pytest.mark.parametrize("record", [None, "x", [], {"version": 99}])
def test_builder_from_anything(record):
    state, why = restore("builder", record)
    assert why is not None
    assert record_of(state) == record_of(BuilderState())


# -- state_for --


def test_state_for():
    assert isinstance(state_for("player"), CourseState)
    assert state_for("player", []).rules == []
    assert isinstance(state_for("builder"), BuilderState)
    with pytest.raises(ValueError):
        state_for("viewer")


# -- replay --


@pytest.mark.parametrize(
    "i, stamp",
    [
        (0, "2026-01-01T00:00:00.000Z"),
        (59, "2026-01-01T00:00:59.000Z"),
        (61, "2026-01-01T00:01:01.000Z"),
        (3600 * 25 + 62, "2026-01-02T01:01:02.000Z"),
        (31 * 86400 - 1, "2026-01-31T23:59:59.000Z"),
    ],
)
def test_timestamps(i, stamp):
    assert timestamp(i) == stamp


@pytest.mark.parametrize("i", [-1, 31 * 86400])
def test_timestamps_outside_january_are_refused(i):
    with pytest.raises(ValueError):
        timestamp(i)


def load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_recorded_course_fixture_is_realistic_wire_text():
    messages = load("recorded_course.json")
    assert 40 <= len(messages) <= 50 and all(isinstance(m, str) for m in messages)
    results = [parse_message(m) for m in messages]
    rejected = [r.reason for r in results if isinstance(r, Rejection)]
    assert rejected == ["progress is missing", "not JSON", "missing type", "data is not an object"]
    assert [r.name for r in results if isinstance(r, Event) and not r.known] == ["course:bookmark"]
    raw_aliases = [m for m in messages if '"commenced"' in m or '"status":"complete"' in m]
    assert len(raw_aliases) == 2


def test_replay_of_the_recorded_course():
    record = replay("player", load("recorded_course.json"))
    assert json.loads(json.dumps(record)) == record
    assert (record["progress"], record["completed"], record["unlocked"]) == (100, True, ["next-step"])
    assert record["started_at"] == "2026-01-01T00:00:01.000Z"  # the "commenced" alias
    assert record["completed_at"] == "2026-01-01T00:00:38.000Z"  # the "complete" alias, not the repeat
    assert [f["data"]["rating"] for f in record["feedback_history"]] == [4, 5]
    assert record["screen_order"] == ["scr-intro", "scr-video", "scr-quiz-1", "scr-match", "scr-reflect", "scr-summary"]
    assert all(record["screens"][s]["completed"] and record["screens"][s]["ended"] for s in record["screen_order"])
    assert [(e["event"], e["screen"], e["attempt"]) for e in record["quiz"][:4]] == [
        ("answer", "scr-quiz-1", 1),
        ("failed", "scr-quiz-1", 1),
        ("retry", "scr-quiz-1", 2),
        ("answer", "scr-quiz-1", 2),
    ]
    assert record["quiz"][-1]["answer"] == "Caf\u00e9-style stand-ups \U0001f600"
    assert [s for s in record["screen_order"] if record["screens"][s]["passed"]] == [
        "scr-quiz-1",
        "scr-match",
        "scr-reflect",
    ]
    restored, reason = restore("player", record)
    assert reason is None and record_of(restored) == record


def test_replay_of_the_recorded_builder():
    record = replay("builder", load("recorded_builder.json"))
    assert record == {
        "version": 2,
        "kind": "builder",
        "errors": [{"message": "Could not save: network error", "time": "2026-01-01T00:00:04.000Z"}],
        "error_count": 1,
        "course_id": "4821",
        "course_title": "Shapes 101: triangles",
        "draft_saved_at": "2026-01-01T00:00:07.000Z",
        "revision": 4,
    }


def test_replay_accepts_objects_and_text_alike():
    messages = [{"type": "course", "event": "progress", "data": {"progress": 30}}, '{"type":"course","event":"start"}']
    record = replay("player", messages)
    assert (record["progress"], record["started_at"]) == (30, "2026-01-01T00:00:00.000Z")


def test_restore_picks_the_reducer_for_the_product():
    builder, reason = restore("builder", record_of(BuilderState()))
    assert isinstance(builder, BuilderState) and reason is None
    course, reason = restore("player", {"version": 99})
    assert isinstance(course, CourseState) and reason


# -- times are validated like every other stored field --


@pytest.mark.parametrize(
    "text, ok",
    [
        ("2026-11-28T08:38:59.123Z", True),
        ("2026-11-28T08:38:59Z", True),
        ("1970-01-01T00:00:00.000Z", True),
        ("not a date", False),
        ("", False),
        ("2026-13-01T00:00:00.000Z", False),
        ("2026-11-28T24:00:00.000Z", False),
        ("2026-11-28 08:38:59.123Z", False),
        ("2026-11-28T08:38:59.123", False),
        ("2026-11-28T08:38:59.12xZ", False),
        ("+02026-11-28T08:38:59.123Z", False),
        (None, False),
        (1764318000000, False),
        ("t1", False),
    ],
)
def test_is_iso_time(text, ok):
    assert is_iso_time(text) is ok


@pytest.mark.parametrize(
    "path",
    [
        ("started_at",),
        ("completed_at",),
        ("quiz", 0, "time"),
        ("feedback_history", 0, "time"),
    ],
)
def test_a_course_record_with_a_bad_time_is_refused_not_shown(path):
    record = record_of(busy_course())
    record["completed_at"] = timestamp(30)
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "not a date"
    state, why = restore("player", json.loads(json.dumps(record)), RULES)
    assert why.startswith("corrupt record: ") and "is not a time" in why
    assert record_of(state) == record_of(CourseState(RULES))


@pytest.mark.parametrize("path", [("draft_saved_at",), ("errors", 0, "time")])
def test_a_builder_record_with_a_bad_time_is_refused(path):
    record = record_of(busy_builder())
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "not a date"
    state, why = restore("builder", record)
    assert "is not a time" in why and record_of(state) == record_of(BuilderState())
