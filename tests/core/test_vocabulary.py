"""coursewire/core/vocabulary.py: the value checks the page and the server share (their agreement
across the two layers: tests/tooling/test_one_vocabulary.py)."""

from coursewire.core.vocabulary import (
    MAX_COURSE_CHARS,
    as_id,
    as_text,
    clamp_percent,
    course_id,
    is_digits,
    is_int,
    is_session_id,
)


def test_is_int_refuses_booleans_and_floats():
    assert is_int(0) and is_int(-3) and is_int(2**70)
    assert not any(is_int(value) for value in (True, False, 1.0, "1", None))


def test_ids_are_non_empty_strings_or_whole_numbers():
    assert (as_id("q1"), as_id(7), as_id(""), as_id(True), as_id(1.5)) == ("q1", "7", None, None, None)
    assert (as_text("a"), as_text(1)) == ("a", None)


def test_digits_are_ascii_digits_only():
    assert is_digits("0123456789") and not is_digits("") and not is_digits("\u0661") and not is_digits("1a")


def test_progress_is_clamped_to_a_percentage():
    assert [clamp_percent(p) for p in (-5, 0, 42, 100, 250)] == [0, 0, 42, 100, 100]


def test_course_ids_are_numbers_or_short_slugs():
    assert course_id(101) == "101" and course_id("intro-1.a:b_c") == "intro-1.a:b_c"
    assert course_id("x" * MAX_COURSE_CHARS) == "x" * MAX_COURSE_CHARS
    for refused in (-1, True, 1.5, None, "", "x" * (MAX_COURSE_CHARS + 1), "a b", "a/b", "é"):
        assert course_id(refused) is None, refused


def test_session_ids_are_8_to_64_safe_characters():
    assert is_session_id("abcd_-09") and is_session_id("a" * 64)
    for refused in ("a" * 7, "a" * 65, "abcd efg", "abcdéfgh", 12345678, None):
        assert not is_session_id(refused), refused
