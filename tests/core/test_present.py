"""coursewire/core/present.py: state as words, table cells, and the CSV and JSON exports."""

import csv
import io
import json

import pytest

from coursewire.core.present import (
    QUIZ_COLUMNS, draft_text, feedback_text, progress_text, quiz_cells, quiz_csv, quiz_json, result_text, text_of)


def answer(**fields):
    entry = {"seq": 1, "event": "answer", "screen": "q1", "title": "Strong passwords", "question": "Which?",
             "answer": "B", "correct": True, "score": 1, "attempt": 1, "time": "2026-11-28T09:00:00.000Z"}
    entry.update(fields)
    return entry


@pytest.mark.parametrize("value, text", [
    (None, "—"), (True, "yes"), (False, "no"), ("plain", "plain"), (["a", "b"], "a, b"),
    ([1, "a"], '[1, "a"]'), ({"k": 1}, '{"k": 1}'), (3, "3"), (2.5, "2.5"),
])
def test_text_of_any_json_value(value, text):
    assert text_of(value) == text


@pytest.mark.parametrize("entry, text", [
    (answer(), "correct"), (answer(correct=False), "incorrect"), (answer(correct=None), "answered"),
    (answer(event="failed", score=1), "failed (score 1)"), (answer(event="failed", score=None), "failed"),
    (answer(event="retry"), "retry"),
])
def test_result_wording(entry, text):
    assert result_text(entry) == text


def test_quiz_cells_follow_the_columns_and_only_answers_show_an_answer():
    assert QUIZ_COLUMNS == ("Time", "Screen", "Question", "Answer", "Result", "Attempt")
    assert quiz_cells(answer()) == ["2026-11-28T09:00:00.000Z", "Strong passwords", "Which?", "B", "correct", "1"]
    assert quiz_cells(answer(event="retry", title=None))[1:4] == ["q1", "Which?", "—"]


def test_csv_is_rfc4180_oldest_first_with_every_entry():
    text = quiz_csv([answer(seq=1, answer="a, b"), answer(seq=2, answer='say "hi"\nnow')])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(QUIZ_COLUMNS)
    assert [row[3] for row in rows[1:]] == ["a, b", 'say "hi"\nnow']
    assert text.endswith("\r\n")


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)"])
def test_csv_cells_that_a_spreadsheet_would_run_are_defused(value):
    rows = list(csv.reader(io.StringIO(quiz_csv([answer(answer=value)]))))
    assert rows[1][3] == "'" + value


def test_json_export_keeps_every_recorded_field():
    entries = [answer(question={"text": "2+2", "options": [3, 4]})]
    assert json.loads(quiz_json(entries)) == {"quiz": entries}


def test_status_phrases():
    assert progress_text(40, "In progress") == "40 percent, in progress"
    assert draft_text(None, 0) == "No draft saved yet"
    assert draft_text("09:00:00", 3) == "Draft saved at 09:00:00 (revision 3)"


@pytest.mark.parametrize("feedback, text", [
    (None, "No feedback yet"), ({}, "No feedback yet"), ({"rating": 4, "value": "Good"}, "Feedback: Good (4)"),
    ({"rating": 5}, "Feedback: 5"), ({"value": "Fine"}, "Feedback: Fine"), ({"other": 1}, 'Feedback: {"other": 1}'),
])
def test_feedback_wording(feedback, text):
    assert feedback_text(feedback) == text
