"""app/present.py: state as words, table cells, and the CSV and JSON exports."""

import csv
import io
import json

import pytest

from app import csvsafe
from app.present import (
    QUIZ_COLUMNS,
    SHOWN_CHARS,
    draft_text,
    feedback_text,
    grouped,
    preview,
    progress_text,
    quiz_cells,
    quiz_csv,
    quiz_json,
    result_text,
    shown,
    shown_cells,
    text_of,
)


def read_csv(text, delimiter=","):
    assert text.startswith("\ufeff")  # so that Excel reads the UTF-8 as UTF-8
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


def answer(**fields):
    entry = {
        "seq": 1,
        "event": "answer",
        "screen": "q1",
        "title": "Strong passwords",
        "question": "Which?",
        "answer": "B",
        "correct": True,
        "score": 1,
        "attempt": 1,
        "time": "2026-11-28T09:00:00.000Z",
    }
    entry.update(fields)
    return entry


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "—"),
        (True, "yes"),
        (False, "no"),
        ("plain", "plain"),
        (["a", "b"], "a, b"),
        ([1, "a"], '[1, "a"]'),
        ({"k": 1}, '{"k": 1}'),
        (3, "3"),
        (2.5, "2.5"),
    ],
)
def test_text_of_any_json_value(value, text):
    assert text_of(value) == text


@pytest.mark.parametrize(
    "entry, text",
    [
        (answer(), "correct"),
        (answer(correct=False), "incorrect"),
        (answer(correct=None), "answered"),
        (answer(event="failed", score=1), "failed (score 1)"),
        (answer(event="failed", score=None), "failed"),
        (answer(event="retry"), "retry"),
    ],
)
def test_result_wording(entry, text):
    assert result_text(entry) == text


def test_quiz_cells_follow_the_columns_and_only_answers_show_an_answer():
    assert QUIZ_COLUMNS == ("Time", "Screen", "Question", "Answer", "Result", "Attempt")
    assert quiz_cells(answer()) == ["2026-11-28T09:00:00.000Z", "Strong passwords", "Which?", "B", "correct", "1"]
    assert quiz_cells(answer(event="retry", title=None))[1:4] == ["q1", "Which?", "—"]


def test_csv_is_rfc4180_oldest_first_with_every_entry():
    text = quiz_csv([answer(seq=1, answer="a, b"), answer(seq=2, answer='say "hi" now\nplease')])
    rows = read_csv(text)
    assert rows[0] == list(QUIZ_COLUMNS)
    assert [row[3] for row in rows[1:]] == ["a, b", 'say "hi" now\nplease']
    assert text.endswith("\r\n")


@pytest.mark.parametrize(
    "value, written",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        # Issue 15, item 13: what the export once let through unguarded.
        ("\t=1+1", "'\t'=1+1"),
        ("\r=1+1", "'\r'=1+1"),
        ("\tplain", "'\tplain"),
        ("\rplain", "'\rplain"),
        ("|calc", "'|calc"),
        ("x|=1", "x|'=1"),
        ("note;=1+1", "note;'=1+1"),
        ("a; =2+3", "a; '=2+3"),
        ("\x00=1", "'\x00=1"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_defused(value, written):
    rows = read_csv(quiz_csv([answer(answer=value, question=value, title=value)]))
    assert rows[1][1:4] == [written] * 3


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_opened_with_any_separator_starts_no_cell_with_a_formula(delimiter):
    # A spreadsheet set to another separator splits inside our quoted cells only where the quotes
    # end; every cell it can then make starts with text, never with a formula character.
    hostile = ["note;=1+1", "a|=1+1", "x\t-2+3", "y,@SUM(1)", "\t=1", "\r+1", "ok"]
    text = quiz_csv([answer(answer=value, question=value) for value in hostile])
    for row in read_csv(text, delimiter=delimiter)[1:]:
        for cell in row:
            assert cell.lstrip(' "')[:1] not in csvsafe.FORMULA_STARTS or cell == "", (delimiter, cell)


def test_csv_is_the_one_implementation_in_csvsafe():
    entries = [answer(seq=1, answer="=1+1"), answer(seq=2, answer="plain, text")]
    assert quiz_csv(entries) == csvsafe.csv_text([list(QUIZ_COLUMNS)] + [quiz_cells(e) for e in entries])


def test_csv_keeps_every_character_of_a_long_answer():
    given = "x" * 64_000
    assert read_csv(quiz_csv([answer(answer=given)]))[1][3] == given


def test_preview_keeps_short_text_and_bounds_long_text_with_its_length():
    assert preview("short") == "short"
    assert preview("y" * SHOWN_CHARS) == "y" * SHOWN_CHARS
    long = "z" * 64_000
    cut = preview(long)
    assert cut.startswith("z" * SHOWN_CHARS + "…") and "z" * (SHOWN_CHARS + 1) not in cut
    assert "64,000 characters in all" in cut and len(cut) < SHOWN_CHARS + 80
    assert shown(["a" * 400, "b"]).startswith("a" * SHOWN_CHARS + "…")


def test_the_table_row_is_bounded_but_the_record_and_exports_are_not():
    entry = answer(question="q" * 5000, answer="A" * 64_000, title="t" * 1000)
    row = shown_cells(entry)
    assert all(len(cell) < SHOWN_CHARS + 80 for cell in row)
    assert row[3].startswith("A" * SHOWN_CHARS) and "64,000 characters" in row[3]
    assert quiz_cells(entry)[3] == "A" * 64_000
    assert json.loads(quiz_json([entry]))["quiz"][0]["answer"] == "A" * 64_000


@pytest.mark.parametrize(
    "number, text",
    [(0, "0"), (999, "999"), (1000, "1,000"), (64000, "64,000"), (1234567, "1,234,567"), (-4500, "-4,500")],
)
def test_grouped(number, text):
    assert grouped(number) == text


def test_feedback_is_bounded_too():
    text = feedback_text({"value": "v" * 64_000, "rating": 5})
    assert text.startswith("Feedback: " + "v" * SHOWN_CHARS + "…") and text.endswith("(5)")


def test_json_export_keeps_every_recorded_field():
    entries = [answer(question={"text": "2+2", "options": [3, 4]})]
    assert json.loads(quiz_json(entries)) == {"quiz": entries}


def test_status_phrases():
    assert progress_text(40, "In progress") == "40 percent, in progress"
    assert draft_text(None, 0) == "No draft saved yet"
    assert draft_text("09:00:00", 3) == "Draft saved at 09:00:00 (revision 3)"


@pytest.mark.parametrize(
    "feedback, text",
    [
        (None, "No feedback yet"),
        ({}, "No feedback yet"),
        ({"rating": 4, "value": "Good"}, "Feedback: Good (4)"),
        ({"rating": 5}, "Feedback: 5"),
        ({"value": "Fine"}, "Feedback: Fine"),
        ({"other": 1}, 'Feedback: {"other": 1}'),
    ],
)
def test_feedback_wording(feedback, text):
    assert feedback_text(feedback) == text
