"""app/report_text.py: the report page's words, chart and CSV for a course's learner records."""

import csv
import io

import pytest
from record_shapes import record

from app import report_text
from coursewire.core import roster


def answer(event="answer", answer="B", correct=True, attempt=1, title="Knowledge check", **extra):
    value = {
        "event": event,
        "screen": "q1",
        "title": title,
        "question": "Which?",
        "answer": answer,
        "correct": correct,
        "score": None,
        "attempt": attempt,
        "time": "2026-11-28T09:00:00.000Z",
    }
    value.update(extra)
    return value


def test_answers_are_summarised_with_their_attempts():
    answers = [
        answer(correct=False, answer="A"),
        answer(event="retry", answer=None, correct=None, attempt=2),
        answer(answer="B", attempt=2),
    ]
    assert report_text.answer_counts(answers) == (2, 1, 2)
    assert report_text.answers_summary(answers) == "2 answers · 1 correct · 2 attempts"
    assert report_text.answers_summary([answer()]) == "1 answer · 1 correct"
    assert report_text.answers_summary([]) == "No answers"
    assert report_text.answer_line(answers[0]) == "Knowledge check — A — incorrect — attempt 1"
    assert report_text.answer_line(answers[1]) == "Knowledge check — retry — attempt 2"


def test_the_chart_draws_each_band_in_proportion_and_describes_it_in_words():
    bands = roster.progress_bands([record(progress=p) for p in (5, 5, 5, 100, 50)])
    bars = report_text.chart_bars(bands)
    widest = report_text.CHART_WIDTH - report_text.CHART_LABEL_WIDTH - report_text.count_room(bands)
    assert [bar["count"] for bar in bars] == [band["count"] for band in bands]
    assert bars[0]["width"] == widest
    assert bars[5]["width"] == pytest.approx(widest / 3) and bars[10]["width"] == pytest.approx(widest / 3)
    assert all(bar["width"] == 0 for bar in bars if bar["count"] == 0)
    assert all(bar["y"] + bar["height"] <= report_text.chart_height(bands) for bar in bars)
    assert all(b["y"] >= a["y"] + a["height"] for a, b in zip(bars, bars[1:], strict=False))  # rows never overlap
    assert report_text.bands_text(bands).startswith("0–9%: 3 learners; 10–19%: 0 learners;")
    assert report_text.bands_text(bands).endswith("100%: 1 learner.")
    assert [bar["width"] for bar in report_text.chart_bars(roster.progress_bands([]))] == [0] * 11


def test_the_csv_has_one_row_per_learner_with_answers_summarised_and_formulas_defused():
    records = [
        record(
            "=cmd|' /C calc'!A0",
            40,
            "in_progress",
            [answer(answer="@SUM(1+1)"), answer(answer="a;=1+2", attempt=2)],
            last_event_at="2026-11-28T09:00:00.000Z",
        ),
        record("bob", 100, "completed_verified", verified_completed_at="2026-11-28T09:30:00.000Z"),
    ]
    text = report_text.roster_csv(records)
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert rows[0] == list(report_text.CSV_COLUMNS)
    assert len(rows) == 3
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Learner"] == "'=cmd|' /C calc'!A0"
    assert first["Progress (%)"] == "40" and first["Status"] == "In progress"
    assert (first["Answers"], first["Correct"], first["Highest attempt"]) == ("2", "2", "2")
    # "a;=1+2" would start a cell where ";" separates cells: an apostrophe makes that cell text.
    assert first["Answer log"] == (
        "Knowledge check — @SUM(1+1) — correct — attempt 1; Knowledge check — a;'=1+2 — correct — attempt 2"
    )
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["Status"] == "Completed (verified by Coassemble)"
    assert second["Last activity (UTC)"] == second["Verified completed (UTC)"] == "2026-11-28T09:30:00.000Z"
    assert second["Answers"] == "0" and second["Answer log"] == ""


def test_a_count_of_ten_thousand_fits_right_of_its_bar():
    # The chart drew "10,000" from the end of the longest bar and cut it to "100" at its edge.
    bands = roster.progress_bands([record(progress=100)] * 10000 + [record(progress=40)])
    bars = report_text.chart_bars(bands)
    longest = bars[10]
    assert longest["text"] == "10,000" and bars[4]["text"] == "1"
    room = report_text.CHART_WIDTH - longest["count_x"]
    assert room >= len(longest["text"]) * report_text.CHART_DIGIT
    assert longest["count_x"] > longest["x"] + longest["width"]
    assert "100%: 10,000 learners." in report_text.bands_text(bands)


def test_the_summary_from_the_server_is_checked_before_it_is_drawn():
    bands = [{"low": low, "high": high, "label": "x", "count": 3} for low, high in roster.BANDS]
    good = {"learners": 33, "statuses": {"completed_verified": 3, "in_progress": 30}, "bands": bands}
    summary = report_text.summary_of(good)
    assert summary["learners"] == 33 and summary["statuses"]["not_started"] == 0
    assert summary["bands"][10]["label"] == "100%"
    for bad in (
        None,
        [],
        {"learners": -1},
        dict(good, bands=bands[:3]),
        dict(good, learners=True),
        dict(good, statuses={"in_progress": "3"}),
    ):
        assert report_text.summary_of(bad) is None
    assert report_text.page_text(101, 100, 10000) == "Learners 101–200 of 10,000"
    assert report_text.page_text(1, 1, 1) == "Learner 1 of 1"


def test_answers_beyond_the_inline_ones_are_said():
    assert report_text.answers_summary([answer()] * 50, 130) == "130 answers and events; the newest 50 shown"
    assert report_text.answers_summary([answer()], 1) == "1 answer · 1 correct"


def test_an_erasure_says_what_was_removed_and_what_coassemble_said():
    answer = {
        "learner": "ada",
        "removed": {"records": 1, "reported_events": 12, "quiz_answers": 3, "quiz_screens": 0, "webhook_deliveries": 2},
        "coassemble": "erased",
    }
    assert report_text.erasure_text("ada", answer) == (
        "Erased ada: 1 record, 12 reported events, 3 quiz answers,"
        " 2 webhook deliveries removed here."
        " Coassemble confirmed it erased the learner."
    )
    failed = dict(answer, coassemble="failed", error="Coassemble answered 500; retry with coursewire erase ada.")
    assert report_text.erasure_text("ada", failed).endswith(
        "removed here. Coassemble did not confirm it: Coassemble answered 500; retry with coursewire erase ada."
    )
    assert report_text.erasure_text("ada", {"removed": {}, "coassemble": "not configured"}).startswith(
        "Erased ada: nothing was held here. Coassemble was not asked"
    )
    assert "did not confirm" in report_text.erasure_text("ada", None)
