"""app/state.py and app/replay.py: the course and builder reducers, persistence and replay."""

import json
from pathlib import Path

import pytest

from app.protocol import Event, Rejection, parse_message
from app.replay import replay, timestamp
from app.state import (
    BUILDER_ERRORS_CAP,
    FEEDBACK_HISTORY_CAP,
    QUIZ_LOG_CAP,
    BuilderState,
    CourseState,
    state_for,
)

FIXTURES = Path(__file__).parent / "fixtures"


def event(kind, name=None, **data):
    message = {"type": kind, "data": data}
    if name is not None:
        message["event"] = name
    return parse_message(json.dumps(message))


def progress(value):
    return event("course", "progress", progress=value)


def screen(name, **data):
    return event("screen", name, **data)


def run(state, *events):
    """Apply events with times t1, t2...; return the last changes."""
    changes = {}
    for i, ev in enumerate(events, 1):
        changes = state.apply(ev, "t%d" % i)
    return changes


# -- course: fresh state, session --


def test_a_fresh_course_state():
    state = CourseState()
    assert (state.session, state.session_error, state.started, state.started_at) == ("waiting", None, False, None)
    assert (state.progress, state.completed, state.completed_at, state.status) == (0, False, None, "Not started")
    assert (state.feedback, state.feedback_history, state.quiz, state.unlocked) == (None, [], [], [])
    assert (state.screens, state.screen_order, state.current_screen) == ({}, [], None)
    assert state.rules == [{"id": "next-step", "label": "Next step", "when": "completed"}]
    assert state.rule_errors == []


def test_session_events():
    state = CourseState()
    assert state.apply(event("session", "ready"), "t1") == {"session": True}
    assert state.apply(event("session", "ready"), "t2") == {}
    assert state.apply(event("session", "error", message="Signature expired"), "t3") == {"session": True}
    assert (state.session, state.session_error) == ("error", "Signature expired")
    assert state.apply(event("session", "error", message="Signature expired"), "t4") == {}
    assert state.apply(event("session", "error", message=["odd"]), "t5") == {"session": True}
    assert (state.session, state.session_error) == ("error", None)
    assert state.apply(event("session", "expired"), "t6") == {"session": True}
    assert state.session == "expired"
    assert state.apply(event("session", "ready"), "t7") == {"session": True}
    assert (state.session, state.session_error) == ("ready", None)


# -- course: start, progress, completion --


def test_course_start():
    state = CourseState()
    assert state.apply(event("course", "start"), "t1") == {"status": True}
    assert (state.started, state.started_at, state.status) == (True, "t1", "In progress")
    assert state.apply(event("course", "commenced"), "t2") == {}
    assert state.started_at == "t1"


def test_progress_only_increases():
    state = CourseState()
    assert state.apply(progress(10), "t1") == {"progress": True, "status": True}
    assert (state.progress, state.started, state.started_at) == (10, True, "t1")
    assert state.apply(progress(30), "t2") == {"progress": True}
    assert state.apply(progress(30), "t3") == {}
    assert state.apply(progress(20), "t4") == {}
    assert state.progress == 30


@pytest.mark.parametrize("value, expected", [(150, 100), (10**30, 100), (1e300, 100), (-5, 0), ("64.9", 64)])
def test_progress_is_clamped(value, expected):
    state = CourseState()
    state.apply(progress(value), "t1")
    assert state.progress == expected


def test_zero_or_negative_progress_changes_nothing():
    state = CourseState()
    assert state.apply(progress(0), "t1") == {}
    assert state.apply(progress(-20), "t2") == {}
    assert state.status == "Not started"


def test_progress_of_100_is_not_completion():
    state = CourseState()
    run(state, progress(100))
    assert (state.progress, state.completed, state.status) == (100, False, "In progress")


def test_completion():
    state = CourseState()
    run(state, event("course", "start"), progress(40))
    changes = state.apply(event("course", "completed"), "t9")
    assert changes == {"progress": True, "status": True, "unlocks": ["next-step"]}
    assert (state.progress, state.completed, state.completed_at, state.status) == (100, True, "t9", "Completed")


def test_completing_twice_changes_nothing():
    state = CourseState()
    run(state, event("course", "complete"))
    assert state.apply(event("course", "completed"), "t2") == {}
    assert state.completed_at == "t1"


def test_completion_without_start_or_progress():
    state = CourseState()
    assert state.apply(event("course", "completed"), "t1") == {"progress": True, "status": True, "unlocks": ["next-step"]}
    assert (state.started, state.started_at) == (True, "t1")


def test_completion_at_full_progress_reports_only_the_status():
    state = CourseState(rules=[])
    run(state, progress(100))
    assert state.apply(event("course", "completed"), "t2") == {"status": True}


def test_progress_stays_at_100_after_completion():
    state = CourseState()
    run(state, event("course", "completed"))
    assert state.apply(progress(50), "t2") == {}
    assert state.progress == 100


def test_completion_ignores_its_own_progress_value():
    state = CourseState()
    run(state, event("course", "completed", progress=60))
    assert state.progress == 100


# -- course: feedback --


def test_feedback_can_repeat():
    state = CourseState()
    assert state.apply(event("course", "feedback", rating=3), "t1") == {"feedback": True}
    assert state.apply(event("course", "feedback", rating=3), "t2") == {"feedback": True}
    assert state.apply(event("course", "feedback", rating=5, comment="Better"), "t3") == {"feedback": True}
    assert state.feedback == {"rating": 5, "comment": "Better"}
    assert state.feedback_history == [
        {"data": {"rating": 3}, "time": "t1"},
        {"data": {"rating": 3}, "time": "t2"},
        {"data": {"rating": 5, "comment": "Better"}, "time": "t3"},
    ]
    assert state.status == "Not started"  # feedback alone is not a start


def test_feedback_history_keeps_the_newest():
    state = CourseState()
    run(state, *[event("course", "feedback", n=n) for n in range(FEEDBACK_HISTORY_CAP + 5)])
    assert len(state.feedback_history) == FEEDBACK_HISTORY_CAP
    assert state.feedback_history[0]["data"] == {"n": 5}
    assert state.feedback == {"n": FEEDBACK_HISTORY_CAP + 4}


# -- course: screens --


def blank_screen(screen_id, **fields):
    record = {
        "id": screen_id,
        "title": None,
        "index": None,
        "type": None,
        "started": False,
        "ended": False,
        "completed": False,
        "attempt": 1,
        "answered": False,
        "failed": False,
        "passed": False,
    }
    record.update(fields)
    return record


def test_screen_lifecycle():
    state = CourseState()
    assert state.apply(screen("start", id="s1", title="Welcome", index=0, type="text"), "t1") == {"screens": True}
    assert state.screens["s1"] == blank_screen("s1", title="Welcome", index=0, type="text", started=True)
    assert state.current_screen == "s1"
    assert state.apply(screen("complete", id="s1"), "t2") == {"screens": True}
    assert state.apply(screen("end", id="s1"), "t3") == {"screens": True}
    assert state.screens["s1"] == blank_screen("s1", title="Welcome", index=0, type="text", started=True, ended=True, completed=True)
    assert state.current_screen is None


def test_repeated_screen_events_change_nothing():
    state = CourseState()
    run(state, screen("start", id="s1"), screen("complete", id="s1"))
    assert state.apply(screen("complete", id="s1"), "t3") == {}
    assert state.apply(screen("start", id="s1"), "t4") == {}


def test_screen_complete_before_start_creates_the_screen():
    state = CourseState()
    assert state.apply(screen("complete", id="s9", title="Summary"), "t1") == {"screens": True}
    assert state.screens["s9"] == blank_screen("s9", title="Summary", completed=True)
    assert state.current_screen is None
    assert state.apply(screen("start", id="s9"), "t2") == {"screens": True}
    assert state.screens["s9"]["title"] == "Summary"  # kept when a later payload omits it
    assert state.current_screen == "s9"


def test_screen_order_is_first_seen_order():
    state = CourseState()
    run(state, screen("start", id="b"), screen("start", id="a"), screen("end", id="b"), screen("complete", id="c"))
    assert state.screen_order == ["b", "a", "c"]
    assert state.current_screen == "a"  # ending another screen leaves the current one


def test_returning_to_a_screen_makes_it_current_again():
    state = CourseState()
    run(state, screen("start", id="a"), screen("start", id="b"))
    assert state.apply(screen("start", id="a"), "t3") == {"screens": True}
    assert state.current_screen == "a"


def test_later_payloads_fill_in_screen_details():
    state = CourseState()
    run(state, screen("start", id="s1"))
    assert state.apply(screen("start", id="s1", title="Late title"), "t2") == {"screens": True}
    assert state.screens["s1"]["title"] == "Late title"


def test_odd_screen_fields_are_ignored_not_fatal():
    state = CourseState()
    run(state, screen("start", id="s1", title=5, index="first", type=None))
    run(state, screen("start", id="s2", index=True))
    assert state.screens["s1"] == blank_screen("s1", started=True)
    assert state.screens["s2"]["index"] is None


def test_numeric_screen_ids_are_strings():
    state = CourseState()
    run(state, screen("start", id=12))
    assert state.screen_order == ["12"] and state.current_screen == "12"


@pytest.mark.parametrize("name", ["start", "end", "complete"])
def test_screen_events_without_an_id_change_nothing(name):
    state = CourseState()
    assert state.apply(screen(name, title="No id"), "t1") == {}
    assert state.apply(screen(name, id=None), "t2") == {}
    assert state.apply(screen(name, id=["x"]), "t3") == {}
    assert state.screens == {}


def test_screen_events_do_not_start_the_course():
    state = CourseState()
    run(state, screen("start", id="s1"))
    assert state.status == "Not started"


# -- course: quiz --


def test_an_answer_is_logged():
    state = CourseState()
    run(state, screen("start", id="q1", title="Shapes"))
    changes = state.apply(
        screen("answer", id="q1", question="Sides of a triangle?", answer=["3"], correct=True, score=100), "t2"
    )
    entry = {
        "seq": 1,
        "event": "answer",
        "screen": "q1",
        "title": "Shapes",
        "question": "Sides of a triangle?",
        "answer": ["3"],
        "correct": True,
        "score": 100,
        "attempt": 1,
        "time": "t2",
    }
    assert changes == {"screens": True, "quiz": [entry]}
    assert state.quiz == [entry]
    assert changes["quiz"][0] is state.quiz[-1]


def test_answers_are_kept_as_given():
    state = CourseState()
    answers = ["text", 3, 2.5, ["a", "b"], {"left": "right"}, None, True]
    run(state, *[screen("answer", id="q", answer=a) for a in answers])
    assert [entry["answer"] for entry in state.quiz] == answers


def test_odd_correct_and_score_become_none():
    state = CourseState()
    run(state, screen("answer", id="q", correct="yes", score="90"), screen("answer", id="q", correct=1, score=True))
    assert [(e["correct"], e["score"]) for e in state.quiz] == [(None, None), (None, None)]


def test_attempts_across_failed_and_retry():
    state = CourseState()
    run(
        state,
        screen("answer", id="q", correct=False),
        screen("failed", id="q", score=20),
        screen("retry", id="q"),
        screen("answer", id="q", correct=False),
        screen("failed", id="q"),
        screen("retry", id="q"),
        screen("answer", id="q", correct=True),
    )
    assert [(e["seq"], e["event"], e["attempt"]) for e in state.quiz] == [
        (1, "answer", 1),
        (2, "failed", 1),
        (3, "retry", 2),
        (4, "answer", 2),
        (5, "failed", 2),
        (6, "retry", 3),
        (7, "answer", 3),
    ]
    assert state.quiz[1]["score"] == 20
    assert state.screens["q"]["attempt"] == 3


def test_a_payload_attempt_number_wins():
    state = CourseState()
    run(state, screen("answer", id="q", attempt=4), screen("retry", id="q", attempt=7), screen("answer", id="q"))
    assert [e["attempt"] for e in state.quiz] == [4, 7, 7]


@pytest.mark.parametrize("attempt", [0, -1, True, "2", 1.5])
def test_an_unusable_payload_attempt_is_derived(attempt):
    state = CourseState()
    run(state, screen("answer", id="q"), screen("retry", id="q", attempt=attempt))
    assert state.quiz[-1]["attempt"] == 2


def test_attempts_are_per_screen():
    state = CourseState()
    run(state, screen("retry", id="a"), screen("answer", id="b"), screen("answer", id="a"))
    assert [(e["screen"], e["attempt"]) for e in state.quiz] == [("a", 2), ("b", 1), ("a", 2)]


def test_quiz_events_without_a_screen_id_are_still_logged():
    state = CourseState()
    changes = run(state, screen("answer", title="Loose", answer="x"))
    assert changes["quiz"][0]["screen"] is None
    assert changes["quiz"][0]["title"] == "Loose"
    assert changes["quiz"][0]["attempt"] == 1
    assert "screens" not in changes
    assert state.apply(screen("retry"), "t2")["quiz"][0]["attempt"] == 2
    assert state.screens == {}


def test_repeated_identical_answers_are_each_logged():
    state = CourseState()
    run(state, screen("answer", id="q", answer="a"))
    assert state.apply(screen("answer", id="q", answer="a"), "t2") == {"quiz": [state.quiz[-1]]}
    assert len(state.quiz) == 2


def test_answers_after_completion_are_still_answers():
    state = CourseState()
    run(state, event("course", "completed"))
    changes = state.apply(screen("answer", id="q", answer="late"), "t2")
    assert changes["quiz"][0]["answer"] == "late"
    assert state.progress == 100 and state.status == "Completed"


def test_clear_quiz_keeps_counting():
    state = CourseState()
    run(state, screen("answer", id="q"), screen("answer", id="q"))
    assert state.clear_quiz() == {"quiz": []}
    assert state.quiz == []
    assert state.clear_quiz() == {}
    assert state.apply(screen("answer", id="q"), "t3")["quiz"][0]["seq"] == 3


def test_quiz_log_keeps_the_newest():
    state = CourseState()
    run(state, *[screen("answer", id="q", answer=n) for n in range(QUIZ_LOG_CAP + 3)])
    assert len(state.quiz) == QUIZ_LOG_CAP
    assert (state.quiz[0]["seq"], state.quiz[-1]["seq"]) == (4, QUIZ_LOG_CAP + 3)


# -- course: unlocks --


RULES = [
    {"id": "half", "label": "Halfway", "when": "progress", "at": 50},
    {"id": "intro", "label": "Intro done", "when": "screen-complete", "screen": "s1"},
    {"id": "quiz", "label": "Quiz passed", "when": "quiz-passed", "screen": "q"},
    {"id": "done", "label": "Finished", "when": "completed"},
]


def test_each_rule_unlocks_once_in_order():
    state = CourseState(RULES)
    assert state.apply(progress(49), "t1") == {"progress": True, "status": True}
    assert state.apply(progress(50), "t2") == {"progress": True, "unlocks": ["half"]}
    assert state.apply(screen("complete", id="s1"), "t3") == {"screens": True, "unlocks": ["intro"]}
    assert "unlocks" not in state.apply(screen("answer", id="q", correct=True), "t4")
    assert state.apply(screen("complete", id="q"), "t4")["unlocks"] == ["quiz"]
    assert state.apply(event("course", "completed"), "t5")["unlocks"] == ["done"]
    assert state.unlocked == ["half", "intro", "quiz", "done"]


def test_one_message_can_unlock_several_steps():
    state = CourseState(RULES)
    assert state.apply(event("course", "completed"), "t1")["unlocks"] == ["half", "done"]


def test_an_unlocked_step_stays_unlocked():
    state = CourseState(RULES)
    run(state, screen("answer", id="q", correct=True), screen("complete", id="q"), screen("failed", id="q"),
        screen("retry", id="q"))
    assert state.unlocked == ["quiz"]
    assert "unlocks" not in state.apply(screen("answer", id="q", correct=False), "t9")


def test_a_rule_met_from_the_start_is_unlocked_at_once():
    state = CourseState([{"id": "always", "when": "progress", "at": 0}])
    assert state.unlocked == ["always"]


def test_bad_rules_are_dropped_and_reported():
    state = CourseState([{"id": "ok", "when": "completed"}, {"id": "bad", "when": "never"}])
    assert [rule["id"] for rule in state.rules] == ["ok"]
    assert len(state.rule_errors) == 1 and state.rule_errors[0].startswith("rule 2:")
    assert CourseState("not a list").rules == []


# -- course: what apply ignores --


@pytest.mark.parametrize(
    "ignored",
    [
        parse_message("not json"),
        Rejection("made up", None),
        event("course", "bookmark"),
        event("course", "created", id=1),
        event("session", "wat"),
        parse_message('{"type":"back"}'),
        Event("course", "progress", {}, None),  # hand-built, without the progress the parser guarantees
        Event("course", "progress", {"progress": float("inf")}, None),
        Event("course", "feedback", None, None),
        None,
        "course:progress",
        {"type": "course", "event": "completed"},
    ],
)
def test_apply_ignores_what_is_not_a_usable_course_event(ignored):
    state = CourseState()
    before = state.to_dict()
    assert state.apply(ignored, "t1") == {}
    assert state.to_dict() == before


# -- course: persistence --


def busy_course():
    state = CourseState(RULES)
    run(
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
    record = state.to_dict()
    assert (record["version"], record["kind"]) == (1, "course")
    assert json.loads(json.dumps(record)) == record
    restored, reason = CourseState.from_dict(json.loads(json.dumps(record)), RULES)
    assert reason is None
    assert restored.to_dict() == record
    assert (restored.status, restored.unlocked, restored.quiz_seq) == ("In progress", ["intro", "half"], 3)


def test_the_session_and_current_screen_are_not_saved():
    restored, reason = CourseState.from_dict(busy_course().to_dict(), RULES)
    assert reason is None
    assert (restored.session, restored.session_error, restored.current_screen) == ("waiting", None, None)


def test_a_restored_state_carries_on():
    restored, _ = CourseState.from_dict(busy_course().to_dict(), RULES)
    assert restored.apply(progress(50), "t20") == {}
    assert restored.apply(screen("answer", id="q"), "t21")["quiz"][0]["seq"] == 4
    assert restored.apply(screen("answer", id="q"), "t22")["quiz"][0]["attempt"] == 2


def test_a_restored_state_is_independent_of_the_record():
    record = busy_course().to_dict()
    restored, _ = CourseState.from_dict(record, RULES)
    record["quiz"][0]["question"]["text"] = "changed"
    record["screens"]["s1"]["title"] = "changed"
    record["feedback_history"][0]["data"]["rating"] = 0
    assert restored.quiz[0]["question"] == {"text": "2+2"}
    assert restored.screens["s1"]["title"] == "Intro"
    assert restored.feedback_history[0]["data"]["rating"] == 4


def test_rules_added_since_saving_unlock_on_restore():
    record = CourseState([]).to_dict()
    record["progress"] = 70
    restored, reason = CourseState.from_dict(record, RULES)
    assert reason is None
    assert restored.unlocked == ["half"]


def test_unlocks_of_removed_rules_are_kept():
    restored, _ = CourseState.from_dict(busy_course().to_dict(), [])
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
    state, why = CourseState.from_dict(record)
    assert why == reason
    assert state.to_dict() == CourseState().to_dict()


def corrupt(path, value):
    """busy_course()'s record with the value at `path` replaced (or removed, for value=DELETE)."""
    record = busy_course().to_dict()
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
        (("started_at",), 5, "started_at is not a string or null"),
        (("completed_at",), [], "completed_at is not a string or null"),
        (("feedback",), [], "feedback is not an object or null"),
        (("feedback",), {"bad": {1, 2}}, "feedback is not an object or null"),
        (("feedback_history",), {}, "feedback_history is not a list"),
        (("feedback_history", 0), "x", "feedback_history[0] is not an object"),
        (("feedback_history", 0, "time"), None, "feedback_history[0].time is not a string"),
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
    state, why = CourseState.from_dict(corrupt(path, value), RULES)
    assert why == "corrupt record: " + reason
    assert state.to_dict() == CourseState(RULES).to_dict()


# -- builder --


def test_a_fresh_builder_state():
    state = BuilderState()
    assert (state.session, state.expired, state.errors, state.error_count) == ("waiting", False, [], 0)
    assert (state.course_id, state.course_title, state.draft_saved_at, state.revision, state.back_requested) == (
        None,
        None,
        None,
        0,
        0,
    )


def test_builder_session_expiry_and_remount():
    state = BuilderState()
    assert state.apply(event("session", "ready"), "t1") == {"session": True}
    assert state.apply(event("session", "ready"), "t2") == {}
    assert state.apply(event("session", "expired"), "t3") == {"session": True}
    assert (state.session, state.expired) == ("expired", True)
    assert state.apply(event("session", "expired"), "t4") == {}
    assert state.apply(event("session", "ready"), "t5") == {"session": True}
    assert (state.session, state.expired) == ("ready", False)


def test_builder_errors_are_each_recorded():
    state = BuilderState()
    run(state, event("session", "ready"))
    assert state.apply(event("session", "error", message="Save failed"), "t2") == {"errors": True, "session": True}
    assert state.apply(event("session", "error", message="Save failed"), "t3") == {"errors": True}
    assert state.apply(event("session", "error"), "t4") == {"errors": True, "session": True}  # message gone
    assert state.errors == [
        {"message": "Save failed", "time": "t2"},
        {"message": "Save failed", "time": "t3"},
        {"message": None, "time": "t4"},
    ]
    assert (state.error_count, state.session) == (3, "error")
    # A new message while already in error: the session pill must show it.
    assert state.apply(event("session", "error", message="Quota"), "t5") == {"errors": True, "session": True}
    assert state.session_error == "Quota"


def test_builder_error_list_keeps_the_newest_but_counts_all():
    state = BuilderState()
    run(state, *[event("session", "error", message=str(n)) for n in range(BUILDER_ERRORS_CAP + 2)])
    assert len(state.errors) == BUILDER_ERRORS_CAP
    assert state.errors[0]["message"] == "2"
    assert state.error_count == BUILDER_ERRORS_CAP + 2


def test_builder_drafts():
    state = BuilderState()
    assert state.apply(event("course", "created", id=42, title="Untitled"), "t1") == {"course": True, "draft": True}
    assert (state.course_id, state.course_title, state.revision, state.draft_saved_at) == ("42", "Untitled", 1, "t1")
    assert state.apply(event("course", "updated", id=42, title="Untitled"), "t2") == {"draft": True}
    assert state.apply(event("course", "updated", title="Shapes"), "t3") == {"course": True, "draft": True}
    assert state.apply(event("course", "updated", id=None, title=3), "t4") == {"draft": True}
    assert (state.course_id, state.course_title, state.revision, state.draft_saved_at) == ("42", "Shapes", 4, "t4")


def test_builder_back_requests_are_counted():
    state = BuilderState()
    assert state.apply(event("back"), "t1") == {"back": True}
    assert state.apply(event("back"), "t2") == {"back": True}
    assert state.back_requested == 2


@pytest.mark.parametrize(
    "ignored",
    [
        progress(50),
        event("course", "completed"),
        screen("start", id="s"),
        event("x", "y"),
        parse_message("[]"),
        Event("session", "error", ["not", "a", "dict"], None),
        None,
    ],
)
def test_builder_ignores_player_and_unknown_events(ignored):
    state = BuilderState()
    assert state.apply(ignored, "t1") == {}
    assert state.to_dict() == BuilderState().to_dict()


def busy_builder():
    state = BuilderState()
    run(
        state,
        event("session", "ready"),
        event("course", "created", id=7, title="Draft"),
        event("session", "error", message="Network"),
        event("back"),
        event("session", "expired"),
    )
    return state


def test_builder_round_trip():
    record = busy_builder().to_dict()
    assert (record["version"], record["kind"]) == (1, "builder")
    restored, reason = BuilderState.from_dict(json.loads(json.dumps(record)))
    assert reason is None
    assert restored.to_dict() == record
    # Session, expiry and back requests belong to the page load that saw them.
    assert (restored.session, restored.expired, restored.back_requested) == ("waiting", False, 0)


@pytest.mark.parametrize(
    "change, reason",
    [
        (None, None),
        ({"kind": "course"}, "not a builder record"),
        ({"version": 2}, "unknown version 2"),
        ({"revision": -1}, "corrupt record: revision is not a non-negative integer"),
        ({"course_id": 7}, "corrupt record: course_id is not a string or null"),
        ({"errors": [{"message": None}]}, "corrupt record: errors[0].time is missing"),
        ({"errors": "none"}, "corrupt record: errors is not a list"),
    ],
)
def test_builder_records(change, reason):
    record = busy_builder().to_dict()
    if change:
        record.update(change)
    state, why = BuilderState.from_dict(record)
    assert why == reason
    expected = record if reason is None else BuilderState().to_dict()
    assert state.to_dict() == expected


@pytest.mark.parametrize("record", [None, "x", [], {"version": 99}])
def test_builder_from_anything(record):
    state, why = BuilderState.from_dict(record)
    assert why is not None
    assert state.to_dict() == BuilderState().to_dict()


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
    assert [s for s in record["screen_order"] if record["screens"][s]["passed"]] == ["scr-quiz-1", "scr-match", "scr-reflect"]
    restored, reason = CourseState.from_dict(record)
    assert reason is None and restored.to_dict() == record


def test_replay_of_the_recorded_builder():
    record = replay("builder", load("recorded_builder.json"))
    assert record == {
        "version": 1,
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


def test_builder_session_error_is_the_latest_message_while_in_error():
    from app.protocol import parse_message
    from app.state import BuilderState

    state = BuilderState()
    assert state.session_error is None
    state.apply(parse_message('{"type":"session","event":"error","data":{"message":"first"}}'), "t1")
    state.apply(parse_message('{"type":"session","event":"error","data":{"message":"second"}}'), "t2")
    assert state.session_error == "second"
    state.apply(parse_message('{"type":"session","event":"ready"}'), "t3")
    assert state.session_error is None and state.error_count == 2


def test_restore_state_picks_the_reducer_for_the_kind():
    from app.state import BuilderState, CourseState, restore_state

    builder, reason = restore_state("builder", BuilderState().to_dict())
    assert isinstance(builder, BuilderState) and reason is None
    course, reason = restore_state("player", {"version": 99})
    assert isinstance(course, CourseState) and reason
