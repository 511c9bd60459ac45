"""coursewire/core/rules.py: validating host-written rules, and each unlock condition."""

import json

import pytest

from coursewire.core.course import CourseState
from coursewire.core.rules import DEFAULT_RULES, is_met, validate_rules
from coursewire.core.wire import parse_message


def feed(state, *messages):
    for i, message in enumerate(messages):
        state.apply(parse_message(json.dumps(message)), "t%d" % i)
    return state


def screen(event, **data):
    return {"type": "screen", "event": event, "data": data}


# -- validation --


def test_default_rules_are_valid():
    assert validate_rules(DEFAULT_RULES) == (DEFAULT_RULES, [])


def test_every_condition_validates():
    rules = [
        {"id": "a", "label": "A", "when": "completed"},
        {"id": "b", "label": "B", "when": "progress", "at": 50},
        {"id": "c", "label": "C", "when": "progress", "at": 12.5},
        {"id": "d", "label": "D", "when": "screen-complete", "screen": "s1"},
        {"id": "e", "label": "E", "when": "quiz-passed", "screen": "s2"},
    ]
    assert validate_rules(rules) == (rules, [])


def test_label_defaults_to_the_id_and_extra_fields_are_dropped():
    clean, errors = validate_rules([{"id": "a", "when": "progress", "at": 0, "note": "x", "screen": "s"}])
    assert clean == [{"id": "a", "label": "a", "when": "progress", "at": 0}]
    assert errors == []


def test_numeric_screen_ids_become_strings():
    # Screen ids from payloads are stored as strings, so a rule written with a number still matches.
    assert validate_rules([{"id": "a", "when": "screen-complete", "screen": 12}])[0][0]["screen"] == "12"


def test_validation_returns_fresh_rules():
    rules = [{"id": "a", "when": "completed"}]
    clean, _ = validate_rules(rules)
    clean[0]["id"] = "changed"
    assert rules[0]["id"] == "a"


@pytest.mark.parametrize(
    "rules, error",
    [
        (None, "rules must be a list (got null)"),
        ("[]", "rules must be a list (got string)"),
        ({"id": "a"}, "rules must be a list (got object)"),
    ],
)
def test_rules_that_are_not_a_list(rules, error):
    assert validate_rules(rules) == ([], [error])


@pytest.mark.parametrize(
    "rule, error",
    [
        ("completed", "rule 1: not an object (got string)"),
        ({"when": "completed"}, "rule 1: id must be a non-empty string"),
        ({"id": "", "when": "completed"}, "rule 1: id must be a non-empty string"),
        ({"id": 3, "when": "completed"}, "rule 1: id must be a non-empty string"),
        ({"id": "a", "label": 5, "when": "completed"}, "rule 1: label must be a string"),
        ({"id": "a"}, "rule 1: when is missing (one of completed, progress, screen-complete or quiz-passed)"),
        (
            {"id": "a", "when": "finished"},
            "rule 1: when must be one of completed, progress, screen-complete or quiz-passed (got 'finished')",
        ),
        (
            {"id": "a", "when": ["completed"]},
            "rule 1: when must be one of completed, progress, screen-complete or quiz-passed (got ['completed'])",
        ),
        ({"id": "a", "when": "progress"}, "rule 1: at must be a number from 0 to 100"),
        ({"id": "a", "when": "progress", "at": "50"}, "rule 1: at must be a number from 0 to 100"),
        ({"id": "a", "when": "progress", "at": True}, "rule 1: at must be a number from 0 to 100"),
        ({"id": "a", "when": "progress", "at": 101}, "rule 1: at must be a number from 0 to 100"),
        ({"id": "a", "when": "progress", "at": -1}, "rule 1: at must be a number from 0 to 100"),
        ({"id": "a", "when": "progress", "at": float("nan")}, "rule 1: at must be a number from 0 to 100"),
        ({"id": "a", "when": "screen-complete"}, "rule 1: screen must be a screen id"),
        ({"id": "a", "when": "quiz-passed", "screen": ""}, "rule 1: screen must be a screen id"),
        ({"id": "a", "when": "quiz-passed", "screen": {"id": "s"}}, "rule 1: screen must be a screen id"),
    ],
)
def test_bad_rules_are_dropped_with_a_reason(rule, error):
    assert validate_rules([rule]) == ([], [error])


def test_good_rules_survive_bad_neighbours_and_duplicates():
    rules = [
        {"id": "a", "when": "completed"},
        {"id": "b", "when": "nope"},
        {"id": "a", "when": "progress", "at": 10},
        {"id": "c", "when": "progress", "at": 10},
    ]
    clean, errors = validate_rules(rules)
    assert [rule["id"] for rule in clean] == ["a", "c"]
    assert errors[0].startswith("rule 2: when must be one of")
    assert errors[1] == "rule 3: duplicate id 'a'"
    assert len(errors) == 2


# -- conditions --


def test_completed():
    rule = {"id": "a", "when": "completed"}
    state = CourseState()
    assert not is_met(rule, state)
    feed(state, {"type": "course", "event": "progress", "data": {"progress": 100}})
    assert not is_met(rule, state)  # 100% progress is not completion
    feed(state, {"type": "course", "event": "completed"})
    assert is_met(rule, state)


def test_progress_threshold_is_inclusive():
    rule = {"id": "a", "when": "progress", "at": 50}
    state = feed(CourseState(), {"type": "course", "event": "progress", "data": {"progress": 49}})
    assert not is_met(rule, state)
    feed(state, {"type": "course", "event": "progress", "data": {"progress": 50}})
    assert is_met(rule, state)


def test_fractional_threshold():
    rule = {"id": "a", "when": "progress", "at": 49.5}
    assert not is_met(rule, feed(CourseState(), {"type": "course", "event": "progress", "data": {"progress": 49}}))
    assert is_met(rule, feed(CourseState(), {"type": "course", "event": "progress", "data": {"progress": 50}}))


def test_screen_complete():
    rule = {"id": "a", "when": "screen-complete", "screen": "s1"}
    state = feed(CourseState(), screen("start", id="s1"), screen("end", id="s1"), screen("complete", id="s2"))
    assert not is_met(rule, state)
    feed(state, screen("complete", id="s1"))
    assert is_met(rule, state)


def test_screen_complete_matches_numeric_ids():
    rule = validate_rules([{"id": "a", "when": "screen-complete", "screen": 7}])[0][0]
    assert is_met(rule, feed(CourseState(), screen("complete", id=7)))


QUIZ = {"id": "q", "when": "quiz-passed", "screen": "s1"}


@pytest.mark.parametrize(
    "events, passed",
    [
        ([], False),
        ([screen("answer", id="s1", correct=True)], False),  # one right answer is not a pass
        ([screen("answer", id="s1", correct=True), screen("complete", id="s1")], True),
        ([screen("answer", id="s2", correct=True), screen("complete", id="s2")], False),
        ([screen("answer", id="s1", correct=False)], False),
        ([screen("answer", id="s1")], False),
        ([screen("complete", id="s1")], False),  # no answers: not a quiz
        ([screen("answer", id="s1"), screen("complete", id="s1")], True),  # correctness not reported
        ([screen("answer", id="s1", correct=False), screen("complete", id="s1")], False),
        ([screen("answer", id="s1"), screen("failed", id="s1"), screen("complete", id="s1")], False),
        (
            [
                screen("answer", id="s1"),
                screen("failed", id="s1"),
                screen("retry", id="s1"),
                screen("complete", id="s1"),
            ],
            False,
        ),
        (
            [
                screen("answer", id="s1", correct=False),
                screen("failed", id="s1"),
                screen("retry", id="s1"),
                screen("answer", id="s1"),
                screen("complete", id="s1"),
            ],
            True,
        ),
        ([screen("failed", id="s1"), screen("answer", id="s1", correct=True), screen("complete", id="s1")], False),
        # Passing is remembered: a later failure does not undo it.
        ([screen("answer", id="s1", correct=True), screen("complete", id="s1"), screen("failed", id="s1")], True),
    ],
)
def test_quiz_passed(events, passed):
    assert is_met(QUIZ, feed(CourseState(), *events)) is passed


def test_unknown_or_unvalidated_conditions_are_never_met():
    state = feed(CourseState(), {"type": "course", "event": "completed"})
    assert not is_met({"id": "a", "when": "finished"}, state)
    assert not is_met({"id": "a", "when": ["completed"]}, state)
    assert not is_met({"id": "a"}, state)
