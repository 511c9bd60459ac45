"""app/csvsafe.py: every cell quoted, and none a spreadsheet could run (OWASP)."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.csvsafe import FORMULA_SIGNS, FORMULA_STARTS, cell, csv_text, defused, needs_defusing

SEPARATORS = [",", ";", "\t", "|"]  # what a spreadsheet's locale or import dialog may split on


def parse(text, delimiter=","):
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "|calc",
        "\tx",
        "\rx",
        "\nx",
        "\x00x",
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "   =1+1",
        "\uff1d1+1",
    ],
)
def test_cells_that_start_a_formula_get_a_leading_apostrophe(value):
    assert needs_defusing(value)
    assert parse(csv_text([[value]]))[0] == ["'" + value]


@pytest.mark.parametrize(
    "value, written",
    [
        ("a;=1+2", "a;'=1+2"),
        ("a,=1+2", "a,'=1+2"),
        ("a; =1+2", "a; '=1+2"),
        ("a\t-2+3", "a\t'-2+3"),
        ('x"=1', "x\"'=1"),
        ("x'@a", "x''@a"),
        ("note;+cmd", "note;'+cmd"),
        ("a,|b", "a,'|b"),
        ("a|=1+1", "a|'=1+1"),
        ("a;\t=1", "a;\t'=1"),
        ("one\n=2", "one\n'=2"),
        ("=1;=2", "'=1;'=2"),
    ],
)
def test_a_formula_after_a_separator_inside_the_text_is_defused_where_it_starts(value, written):
    assert defused(value) == written
    assert parse(csv_text([[value]]))[0] == [written]


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "ada@example.com",
        "well-known",
        "1+1",
        "a = b",
        "50%",
        "it's",
        "",
        "100",
        'say "hi"\nnow',
        "a; b",
        "x|y",
    ],
)
def test_ordinary_text_is_left_as_it_is(value):
    assert not needs_defusing(value)
    assert parse(csv_text([[value]]))[0] == [value]


def test_every_cell_is_quoted_with_inner_quotes_doubled_and_rows_end_in_crlf():
    assert cell('say "hi"') == '"say ""hi"""'
    assert cell(None) == '""' and cell(40) == '"40"'
    text = csv_text([["a", "b, c"], ["line\nbreak", 'q"uote']])
    assert text == '\ufeff"a","b, c"\r\n"line\nbreak","q""uote"\r\n'


@pytest.mark.parametrize("delimiter", SEPARATORS)
def test_a_spreadsheet_that_splits_on_another_separator_finds_no_formula_in_any_cell(delimiter):
    # Opened where the separator is not ",", the quotes of later cells no longer line up (a
    # parser reads `"a","b;=1"` as `a,"b` and `=1"`): every cell it can make must start as text.
    hostile = ["note;=1+1", "a|=1+1", "x\t-2+3", "y,@SUM(1)", "\t=1", "\r+1", "=cmd|' /C calc'!A0", 'q";=1', "ok"]
    text = csv_text([hostile, list(reversed(hostile))])
    for row in parse(text, delimiter):
        for value in row:
            assert value.lstrip(' "')[:1] not in FORMULA_SIGNS or value.strip(' "') == "", (delimiter, value)


@given(st.text())
def test_any_text_comes_back_as_itself_give_or_take_apostrophes_and_never_starts_a_formula(value):
    value = value.replace("\r", "")  # the csv module folds a bare CR; spreadsheets keep it
    [[back]] = parse(csv_text([[value]]))
    assert back.replace("'", "") == value.replace("'", "")
    assert back[:1] not in FORMULA_STARTS or back == ""
    if value.lstrip(" ")[:1] in FORMULA_STARTS and value.strip(" "):
        assert back.startswith("'")
    if not any(c in value for c in FORMULA_STARTS):
        assert back == value
    for delimiter in SEPARATORS:
        for piece in parse(csv_text([["x", value]]), delimiter)[0]:
            assert piece.lstrip(' "\x00')[:1] not in FORMULA_SIGNS or piece.strip(' "\x00') == ""
