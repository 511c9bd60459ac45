"""COURSEWIRE_RETENTION_DAYS, on SQLite and PostgreSQL: purge(store, settings, now) removes reported
events and their quiz answers older than the period and nothing else (records and verified
completions stay), and a report of an event older than the period is refused alone."""

import pytest

from coursewire.server.retention import purge
from coursewire.server.times import iso
from coursewire.server.wsgi import Context, make_app

from .record_client import Clock, WsgiClient, batch, delivery_body, delivery_headers, event, settings

DAY = 86400
NOW = 1_796_000_000  # 2026-12-01


def answer_event(seq, when):
    return event(seq, "screen:answer", {"id": "q%d" % seq, "question": "Q", "answer": "A", "correct": True}, iso(when))


@pytest.fixture
def clock():
    return Clock(NOW)


def test_purge_removes_only_what_is_older_than_the_retention_period(store, clock):
    context = Context(settings(), clock=clock, store=store)
    client = WsgiClient(make_app(context=context))
    token = context.issue_report_token("101", "ada")
    old, recent = NOW - 40 * DAY, NOW - 20 * DAY
    events = [
        event(1, "course:start", time_text=iso(old)),
        answer_event(2, old),
        event(3, "course:completed", time_text=iso(old + 60)),
        event(4, "course:progress", {"progress": 100}, iso(recent)),
        answer_event(5, recent),
    ]
    assert client.request("POST", "/api/events", batch(token, events), {"Content-Type": "application/json"}).json == {
        "applied": 5,
        "duplicates": 0,
    }
    body = delivery_body("course.completed", learner="ada", occurred_at=iso(old + 120))
    assert client.request("POST", "/webhooks/coassemble", body, delivery_headers(body, timestamp=NOW)).status == 200
    before = store.dump()
    record_before = store.course_records("101")["records"][0]

    assert purge(store, settings(), NOW) == {"reported_events": 0, "quiz_answers": 0}  # no period set: kept
    assert store.dump() == before
    counts = purge(store, settings(retention_days=30), NOW)
    assert counts == {"reported_events": 3, "quiz_answers": 1}
    after = store.dump()
    assert [row[3] for row in after["reported_events"]] == [4, 5]
    assert [row[3] for row in after["quiz_answers"]] == [5]
    # Everything else is as it was: the record (verified completion included) and the delivery.
    assert {t: rows for t, rows in after.items() if t not in ("reported_events", "quiz_answers")} == {
        t: rows for t, rows in before.items() if t not in ("reported_events", "quiz_answers")
    }
    record = store.course_records("101")["records"][0]
    assert record == dict(record_before, answers=record["answers"])
    assert record["status"] == "completed_verified" and record["verified_completed_at"] == iso(old + 120)
    assert purge(store, settings(retention_days=30), NOW) == {"reported_events": 0, "quiz_answers": 0}


def test_a_report_of_an_event_older_than_the_period_is_refused_alone(store, clock):
    context = Context(settings(retention_days=30), clock=clock, store=store)
    client = WsgiClient(make_app(context=context))
    token = context.issue_report_token("101", "ada")
    events = [
        event(1, "course:start", time_text=iso(NOW - 31 * DAY)),
        event(2, "course:progress", {"progress": 40}, iso(NOW - 29 * DAY)),
    ]
    answer = client.request("POST", "/api/events", batch(token, events), {"Content-Type": "application/json"})
    assert answer.status == 200 and answer.json["applied"] == 1
    assert answer.json["refused"] == [
        {
            "seq": 1,
            "error": "events[0].time is older than this server keeps reported events (COURSEWIRE_RETENTION_DAYS).",
        }
    ]


@pytest.mark.parametrize("value", ["0", "-3", "ten", "1.5", "99999999"])
def test_a_bad_retention_setting_is_one_sentence(value):
    from coursewire.server.settings import Settings

    with pytest.raises(ValueError, match=r"^COURSEWIRE_RETENTION_DAYS must be a whole number of days"):
        Settings.from_env({"COURSEWIRE_RETENTION_DAYS": value})
    assert Settings.from_env({"COURSEWIRE_RETENTION_DAYS": " 365 "}).retention_days == 365
