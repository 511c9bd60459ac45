"""coursewire/core/roster.py: statuses, the two kinds of completion evidence, progress bands."""

import pytest
from record_shapes import record

from coursewire.core import roster


def test_reported_and_verified_completion_never_share_a_word_or_a_mark():
    reported = record(status="completed_reported", progress=100, reported_completed_at="2026-11-28T09:00:00.000Z")
    verified = record(
        status="completed_verified",
        progress=100,
        reported_completed_at="2026-11-28T09:00:00.000Z",
        verified_completed_at="2026-11-28T09:01:00.000Z",
    )
    said, proven = roster.reported_evidence(reported), roster.verified_evidence(verified)
    assert (said["state"], said["text"], said["mark"]) == ("completed", "Reported complete", "\u25cc")
    assert (proven["state"], proven["text"], proven["mark"]) == ("completed", "Verified complete", "\u2714")
    assert said["mark"] != proven["mark"] and said["text"].split()[0] != proven["text"].split()[0]
    assert roster.verified_evidence(reported)["text"] == "Not verified"
    assert "not verified" in roster.status_text("completed_reported")
    assert "verified by Coassemble" in roster.status_text("completed_verified")


@pytest.mark.parametrize(
    "times, reported, verified",
    [
        ({}, "Nothing reported", "Not verified"),
        ({"reported_started_at": "2026-11-28T08:00:00.000Z"}, "Reported started", "Not verified"),
        ({"verified_commenced_at": "2026-11-28T08:00:00.000Z"}, "Nothing reported", "Verified started"),
    ],
)
def test_evidence_short_of_completion(times, reported, verified):
    assert roster.reported_evidence(record(**times))["text"] == reported
    assert roster.verified_evidence(record(**times))["text"] == verified


def test_last_activity_is_the_latest_evidence_of_either_kind():
    assert roster.last_activity(record()) is None
    assert (
        roster.last_activity(
            record(last_event_at="2026-11-28T08:00:00.000Z", verified_completed_at="2026-11-28T09:30:00.000Z")
        )
        == "2026-11-28T09:30:00.000Z"
    )


@pytest.mark.parametrize(
    "progresses, counts",
    [
        ([], [0] * 11),
        ([0, 9, 10, 55, 99, 100, 100], [2, 1, 0, 0, 0, 1, 0, 0, 0, 1, 2]),
        ([-5, 140, None, True, "50"], [1] + [0] * 9 + [1]),  # clamped; not-a-number skipped
    ],
)
def test_progress_bands_count_learners_per_ten_percent(progresses, counts):
    bands = roster.progress_bands([record(progress=p) for p in progresses])
    assert [band["count"] for band in bands] == counts
    assert [band["label"] for band in bands][:2] == ["0–9%", "10–19%"] and bands[-1]["label"] == "100%"


@pytest.mark.parametrize(
    "text, course",
    [
        ("101", "101"),
        ("intro-2.b:x_y", "intro-2.b:x_y"),
        ("", None),
        ("a b", None),
        ("<b>", None),
        ("x" * 129, None),
        (None, None),
    ],
)
def test_the_course_parameter_follows_the_servers_rule(text, course):
    assert roster.course_param(text) == course


def test_a_verified_completion_shows_as_complete_from_coassemble():
    only_verified = record(status="completed_verified", verified_completed_at="2026-11-28T09:30:00.000Z")
    shown = roster.progress_evidence(only_verified)
    assert (shown["percent"], shown["source"], shown["reported"]) == (100, "verified", None)
    assert "Verified by Coassemble" in shown["text"]
    assert roster.reported_evidence(only_verified)["text"] != "Nothing reported"
    assert [b["count"] for b in roster.progress_bands([only_verified])][10] == 1
    partly = record(progress=80, verified_progress=60)
    assert roster.progress_evidence(partly) == {
        "percent": 60,
        "source": "verified",
        "text": "60% Verified by Coassemble",
        "reported": 80,
    }
    plain = roster.progress_evidence(record(progress=45))
    assert (plain["percent"], plain["source"], plain["text"]) == (45, "reported", "45%")
    assert roster.progress_evidence(record(progress=45, verified_progress=None))["source"] == "reported"
