"""Unlock rules: when a host page's next step becomes available.

A rule is plain data, so a host developer can write it as JSON in a data attribute:

    {"id": "next-step", "label": "Next step", "when": "completed"}
    {"id": "halfway",   "label": "Notes",     "when": "progress", "at": 50}
    {"id": "intro",     "label": "Intro",     "when": "screen-complete", "screen": "s1"}
    {"id": "quiz",      "label": "Quiz",      "when": "quiz-passed", "screen": "s4"}

A quiz screen counts as passed (CourseState tracks this on each screen record) when a
screen:complete arrives for it after an answer in the current attempt that was not marked
"correct": false, and no screen:failed came in that attempt (a screen:retry starts a new one).
A quiz screen completes when its requirement is met, so this is "answered correctly" for a
one-question quiz and "passed" for a scored one. One correct answer alone is not enough: a
scored quiz asks several questions and can still be failed. Passing is remembered; a later
failure does not undo it.
"""

from coursewire.core.jsonsafe import json_type
from coursewire.core.vocabulary import as_id

MAX_RULES_CHARS = 65536  # the longest rules JSON a page reads: a host's rules are a few hundred characters
DEFAULT_RULES = [{"id": "next-step", "label": "Next step", "when": "completed"}]


def _clean_at(value):
    # A percentage threshold: any finite number from 0 to 100 (the comparison excludes NaN).
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 100:
        return value, None
    return None, "at must be a number from 0 to 100"


def _clean_screen(value):
    screen = as_id(value)
    if screen is None:
        return None, "screen must be a screen id"
    return screen, None


# For each condition: the extra field it needs, how that field is cleaned, and how
# the condition is tested against a CourseState.
CONDITIONS = {
    "completed": (None, None, lambda rule, state: state.completed),
    "progress": ("at", _clean_at, lambda rule, state: state.progress >= rule["at"]),
    "screen-complete": (
        "screen",
        _clean_screen,
        lambda rule, state: _screen_flag(state, rule["screen"], "completed"),
    ),
    "quiz-passed": (
        "screen",
        _clean_screen,
        lambda rule, state: _screen_flag(state, rule["screen"], "passed"),
    ),
}
_CONDITION_NAMES = "completed, progress, screen-complete or quiz-passed"


def _screen_flag(state, screen_id, flag):
    screen = state.screens.get(screen_id)
    return screen is not None and screen[flag]


def validate_rules(rules):
    """Return (clean rules, error strings). Bad rules are dropped, each with a reason; never raises."""
    if not isinstance(rules, list):
        return [], ["rules must be a list (got %s)" % json_type(rules)]
    clean = []
    errors = []
    ids = []
    for number, rule in enumerate(rules, 1):
        rule, reason = _clean_rule(rule)
        if reason is None and rule["id"] in ids:
            reason = "duplicate id %r" % rule["id"]
        if reason is None:
            clean.append(rule)
            ids.append(rule["id"])
        else:
            errors.append("rule %d: %s" % (number, reason))
    return clean, errors


def _clean_rule(rule):
    """Return (a fresh rule holding only the fields that matter, None), or (None, reason)."""
    if not isinstance(rule, dict):
        return None, "not an object (got %s)" % json_type(rule)
    rule_id = rule.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        return None, "id must be a non-empty string"
    label = rule.get("label", rule_id)
    if not isinstance(label, str):
        return None, "label must be a string"
    when = rule.get("when")
    if when is None:
        return None, "when is missing (one of %s)" % _CONDITION_NAMES
    if not isinstance(when, str) or when not in CONDITIONS:
        return None, "when must be one of %s (got %r)" % (_CONDITION_NAMES, when)
    clean = {"id": rule_id, "label": label, "when": when}
    field, clean_field = CONDITIONS[when][:2]
    if field is not None:
        value, reason = clean_field(rule.get(field))
        if reason is not None:
            return None, reason
        clean[field] = value
    return clean, None


def is_met(rule, state):
    """True when a clean rule's condition holds for a CourseState."""
    when = rule.get("when")
    if not isinstance(when, str) or when not in CONDITIONS:
        return False
    return bool(CONDITIONS[when][2](rule, state))
