"""coursewire/core/csvsafe.py: every cell quoted, and none a spreadsheet could run (OWASP)."""

import csv
import io

import pytest
from hypothesis import given, strategies as st

from coursewire.core.csvsafe import FORMULA_STARTS, cell, csv_text, needs_defusing


def parse(text, delimiter=","):
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


@pytest.mark.parametrize("value", [
    "=1+1", "+1", "-1", "@SUM(A1)", "|calc", "\tx", "\rx", "\nx", "=HYPERLINK(\"http://evil.example\",\"x\")",
    "@SUM(1+1)*cmd|' /C calc'!A0", "   =1+1", "\uff1d1+1",
    "a;=1+2", "a,=1+2", "a; =1+2", "a\t-2+3", 'x"=1', "x'@a", "note;+cmd", "a,|b",
])
def test_cells_a_spreadsheet_would_run_get_a_leading_apostrophe(value):
    assert needs_defusing(value)
    assert parse(csv_text([[value]]))[0] == ["'" + value]


@pytest.mark.parametrize("value", ["plain", "ada@example.com", "well-known", "1+1", "a = b", "50%", "it's", "", "100"])
def test_ordinary_text_is_left_as_it_is(value):
    assert not needs_defusing(value)
    assert parse(csv_text([[value]]))[0] == [value]


def test_every_cell_is_quoted_with_inner_quotes_doubled_and_rows_end_in_crlf():
    assert cell('say "hi"') == '"say ""hi"""'
    assert cell(None) == '""' and cell(40) == '"40"'
    text = csv_text([["a", "b, c"], ["line\nbreak", 'q"uote']])
    assert text == '\ufeff"a","b, c"\r\n"line\nbreak","q""uote"\r\n'


def test_a_spreadsheet_that_splits_on_semicolons_keeps_the_quoted_cell_whole():
    # Opened where ";" is the separator, the quotes keep "a;=1+2" in one cell, which starts as text.
    rows = parse(csv_text([["a;=1+2", "b"]]), delimiter=";")
    assert rows == [["'a;=1+2,\"b\""]]


@given(st.text())
def test_any_text_comes_back_as_itself_or_as_text_that_starts_with_an_apostrophe(value):
    value = value.replace("\r", "")  # the csv module folds a bare CR; spreadsheets keep it
    [[back]] = parse(csv_text([[value]]))
    assert back == value or back == "'" + value
    assert back[:1] not in FORMULA_STARTS or back == ""
    if any(value.lstrip(" ")[:1] == c for c in FORMULA_STARTS):
        assert back == "'" + value
