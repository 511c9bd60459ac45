"""coursewire/core/state.py: both state classes answer the same questions, so no caller probes
them (Session.reset and the browser shell ask these of either)."""

import pytest

from coursewire.core.builder import BuilderState
from coursewire.core.course import CourseState
from coursewire.core.records import state_for
from coursewire.core.state import State

from messages import RULES, event, progress

BAD_RULES = RULES + [{"id": "odd", "when": "the moon is full"}]


@pytest.mark.parametrize("product", ["player", "builder"])
def test_every_state_answers_the_shells_questions(product):
    state = state_for(product, BAD_RULES)
    assert isinstance(state, State)
    assert state.session == "waiting" and state.session_error is None
    assert isinstance(state.full, list) and state.full == []
    assert isinstance(state.clear_quiz(), dict)
    assert len(state.rule_errors) == (1 if product == "player" else 0)  # the builder has no rules
    fresh = state_for(product, state.rules)
    fresh.carry_frame(state)
    assert all(getattr(fresh, name) == getattr(state, name) for name in state.FRAME_FIELDS)


def test_the_builder_has_no_rules_no_bounds_and_no_quiz_to_clear():
    builder = BuilderState()
    assert builder.rules is None and list(builder.rule_errors) == [] and builder.full == []
    assert builder.clear_quiz() == {}


def test_the_course_keeps_its_rules_and_says_which_were_ignored():
    course = CourseState(BAD_RULES)
    assert [rule["id"] for rule in course.rules] == [rule["id"] for rule in RULES]
    assert len(course.rule_errors) == 1


@pytest.mark.parametrize(
    "product, expired",
    [
        ("player", {"session": "expired", "session_error": None}),
        ("builder", {"session": "expired", "expired": True}),
    ],
)
def test_what_the_iframe_is_doing_carries_over_to_the_state_that_replaces_it(product, expired):
    old = state_for(product)
    old.apply(event("session", "ready"), "t1")
    old.apply(event("session", "expired"), "t2")
    old.apply(progress(30), "t3")
    new = state_for(product)
    new.carry_frame(old)
    assert {name: getattr(new, name) for name in new.FRAME_FIELDS} == expired
    if product == "player":
        assert new.progress == 0  # the learner's record is not carried over, only the frame
