"""coursewire/core/course.py: the course player reducer."""

import pytest

from coursewire.core.course import FEEDBACK_HISTORY_CAP, QUIZ_LOG_CAP, CourseState
from coursewire.core.records import record_of
from coursewire.core.wire import Rejection, parse_message

from messages import RULES, event, progress, run, screen

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
    assert state.apply(event("course", "completed"), "t1") == {
        "progress": True,
        "status": True,
        "unlocks": ["next-step"],
    }
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


def test_a_full_feedback_history_keeps_what_it_holds_and_says_so_once():
    state = CourseState()
    run(state, *[event("course", "feedback", n=n) for n in range(FEEDBACK_HISTORY_CAP)])
    assert state.full == []
    changes = state.apply(event("course", "feedback", n="late"), "t")
    assert changes == {"feedback": True, "notices": True}
    assert state.apply(event("course", "feedback", n="later"), "t") == {"feedback": True}  # once
    assert len(state.feedback_history) == FEEDBACK_HISTORY_CAP
    assert state.feedback_history[0]["data"] == {"n": 0}  # nothing recorded is dropped
    assert state.feedback == {"n": "later"}  # the latest rating still counts
    assert state.unrecorded["feedback_history"] == 2 and state.full == ["feedback_history"]


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
    # A screen changed in place is named by its position: what a save writes again (record_keeper.py).
    assert state.apply(screen("complete", id="s1"), "t2") == {"screens": True, "screens_edited": [0]}
    assert state.apply(screen("end", id="s1"), "t3") == {"screens": True, "screens_edited": [0]}
    assert state.screens["s1"] == blank_screen(
        "s1", title="Welcome", index=0, type="text", started=True, ended=True, completed=True
    )
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
    assert state.apply(screen("start", id="s9"), "t2") == {"screens": True, "screens_edited": [0]}
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
    assert state.apply(screen("start", id="a"), "t3") == {"screens": True}  # only the current screen changed
    assert state.current_screen == "a"


def test_later_payloads_fill_in_screen_details():
    state = CourseState()
    run(state, screen("start", id="s1"))
    assert state.apply(screen("start", id="s1", title="Late title"), "t2") == {"screens": True, "screens_edited": [0]}
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
    assert changes == {"screens": True, "screens_edited": [0], "quiz": [entry]}
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


def test_a_full_quiz_log_keeps_every_answer_it_holds_and_says_so():
    state = CourseState()
    run(state, *[screen("answer", id="q", answer=n) for n in range(QUIZ_LOG_CAP + 3)])
    assert len(state.quiz) == QUIZ_LOG_CAP
    assert (state.quiz[0]["seq"], state.quiz[-1]["seq"]) == (1, QUIZ_LOG_CAP)
    assert state.unrecorded["quiz"] == 3 and state.full == ["quiz"]
    assert state.quiz_seq == QUIZ_LOG_CAP + 3
    state.clear_quiz()  # room again
    assert state.full == [] and state.apply(screen("answer", id="q"), "t")["quiz"][0]["seq"] == QUIZ_LOG_CAP + 4


# -- course: unlocks --


def test_each_rule_unlocks_once_in_order():
    state = CourseState(RULES)
    assert state.apply(progress(49), "t1") == {"progress": True, "status": True}
    assert state.apply(progress(50), "t2") == {"progress": True, "unlocks": ["half"]}
    assert state.apply(screen("complete", id="s1"), "t3") == {"screens": True, "unlocks": ["intro"]}  # a new screen
    assert "unlocks" not in state.apply(screen("answer", id="q", correct=True), "t4")
    assert state.apply(screen("complete", id="q"), "t4")["unlocks"] == ["quiz"]
    assert state.apply(event("course", "completed"), "t5")["unlocks"] == ["done"]
    assert state.unlocked == ["half", "intro", "quiz", "done"]


def test_one_message_can_unlock_several_steps():
    state = CourseState(RULES)
    assert state.apply(event("course", "completed"), "t1")["unlocks"] == ["half", "done"]


def test_an_unlocked_step_stays_unlocked():
    state = CourseState(RULES)
    run(
        state,
        screen("answer", id="q", correct=True),
        screen("complete", id="q"),
        screen("failed", id="q"),
        screen("retry", id="q"),
    )
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
        None,
        "course:progress",
        {"type": "course", "event": "completed"},
    ],
)
def test_apply_ignores_what_is_not_a_usable_course_event(ignored):
    state = CourseState()
    before = record_of(state)
    assert state.apply(ignored, "t1") == {}
    assert record_of(state) == before
