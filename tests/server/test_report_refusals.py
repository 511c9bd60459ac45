"""Nothing the page's own parser accepts makes the server answer 5xx, on SQLite and PostgreSQL
(issue 19, item 6): values past what a column holds and times the standard library cannot place
are refused one event at a time, inside a 2xx answer that names them, and the rest of the batch is
stored. A signed webhook's unusable `occurredAt` is a 400, and nothing is stored."""

import json

import pytest

from coursewire.core.wire import Event, parse_message
from coursewire.server.evidence import MAX_ATTEMPT

from .record_client import batch, delivery_body, delivery_headers, event

NOW = 1_795_000_000  # 2026-11-18T11:06:40Z
T = "2026-11-15T08:00:%02d.000Z"

# Times ISO 8601 allows that no stored time can be: each raises something else in the stdlib.
UNPLACEABLE_TIMES = [
    "9999-12-31T23:59:59-05:00",  # OverflowError (past year 9999 in UTC)
    "9999-12-31T23:59:59Z",  # after 9998
    "0001-01-01T00:00:00+00:01",  # OverflowError (before year 1 in UTC)
    "1969-12-31T23:59:59Z",  # before 1970
    "1970-01-01T00:30:00+01:00",  # before 1970 once in UTC
]


@pytest.fixture
def clock():
    from .record_client import Clock

    return Clock(NOW)


def send(client, body):
    return client.request("POST", "/api/events", body, {"Content-Type": "application/json"})


def accepted_by_the_page(item):
    # The page sends only what its parser accepts: every case below must be one of those.
    message = {key: item[key] for key in ("type", "event", "data") if key in item}
    return isinstance(parse_message(json.dumps(message)), Event)


def answers(store, learner="ada"):
    records = {r["learner"]: r for r in store.course_records("101")["records"]}
    return records[learner]["answers"] if learner in records else []


@pytest.mark.parametrize("attempt", [MAX_ATTEMPT + 1, 2**63, 2**64 + 5, 10**40])
def test_an_attempt_no_column_holds_is_refused_alone_and_the_batch_is_stored(client, context, store, attempt):
    token = context.issue_report_token("101", "ada")
    bad = event(2, "screen:answer", {"id": "q1", "answer": "4", "attempt": attempt}, T % 2)
    assert accepted_by_the_page(bad)
    events = [
        event(1, "screen:start", {"id": "q1", "title": "Quiz"}, T % 1),
        bad,
        event(3, "screen:answer", {"id": "q1", "answer": "5", "attempt": MAX_ATTEMPT}, T % 3),
    ]
    answer = send(client, batch(token, events))
    assert answer.status == 200, answer
    assert answer.json["applied"] == 2 and answer.json["duplicates"] == 0
    [refused] = answer.json["refused"]
    assert refused["seq"] == 2 and "attempt" in refused["error"] and refused["error"].endswith(".")
    assert [(a["answer"], a["attempt"]) for a in answers(store)] == [("5", MAX_ATTEMPT)]


def test_a_retry_past_the_largest_attempt_is_refused_not_stored_as_an_overflow(client, context, store):
    token = context.issue_report_token("101", "ada")
    events = [
        event(1, "screen:answer", {"id": "q1", "answer": "4", "attempt": MAX_ATTEMPT}, T % 1),
        event(2, "screen:retry", {"id": "q1"}, T % 2),
        event(3, "screen:answer", {"id": "q1", "answer": "5"}, T % 3),
    ]
    answer = send(client, batch(token, events))
    assert answer.status == 200, answer
    assert [r["seq"] for r in answer.json["refused"]] == [2]
    assert [(a["event"], a["attempt"]) for a in answers(store)] == [("answer", MAX_ATTEMPT), ("answer", MAX_ATTEMPT)]


@pytest.mark.parametrize("time_text", UNPLACEABLE_TIMES)
def test_an_event_time_before_1970_or_after_9998_is_refused_alone(client, context, store, time_text):
    token = context.issue_report_token("101", "ada")
    events = [
        event(1, "course:progress", {"progress": 30}, T % 1),
        event(2, "course:progress", {"progress": 60}, time_text),
    ]
    answer = send(client, batch(token, events))
    assert answer.status == 200, answer
    assert answer.json["applied"] == 1
    [refused] = answer.json["refused"]
    assert refused["seq"] == 2 and refused["error"].startswith("events[1].time") and refused["error"].endswith(".")
    record = {r["learner"]: r for r in store.course_records("101")["records"]}["ada"]
    assert record["progress"] == 30 and record["reported_events"] == 1


def test_a_batch_of_nothing_but_refused_events_stores_nothing(client, context, store):
    token = context.issue_report_token("101", "ada")
    send(client, batch(token, [event(1, "course:start", time_text=T % 1)]))
    before = store.dump()
    answer = send(client, batch(token, [event(2, "course:start", time_text=UNPLACEABLE_TIMES[0])]))
    assert answer.status == 200 and answer.json["applied"] == 0 and len(answer.json["refused"]) == 1
    assert store.dump() == before  # not even the polling cursor moved


@pytest.mark.parametrize("occurred_at", UNPLACEABLE_TIMES)
def test_a_webhook_occurred_at_no_stored_time_can_be_is_400_and_stores_nothing(client, store, occurred_at):
    before = store.dump()
    body = delivery_body("course.completed", course="101", learner="ada", occurred_at=occurred_at)
    answer = client.request("POST", "/webhooks/coassemble", body, delivery_headers(body, timestamp=NOW))
    assert answer.status == 400, answer
    sentence = answer.json["error"]
    assert sentence.startswith("occurredAt") and sentence.endswith(".") and "\n" not in sentence
    assert store.dump() == before


def test_a_screen_id_longer_than_an_index_holds_is_refused_alone(client, context, store):
    from coursewire.server.evidence import MAX_SCREEN_ID_CHARS

    token = context.issue_report_token("101", "ada")
    # Four UTF-8 bytes a character, no repetition to compress: the largest a key gets.
    longest = "".join(chr(0x10000 + i * 7) for i in range(MAX_SCREEN_ID_CHARS))
    too_long = "".join(chr(0x10000 + i) for i in range(20000))
    events = [
        event(1, "screen:answer", {"id": too_long, "answer": "a"}, T % 1),
        event(2, "screen:answer", {"id": longest, "answer": "b"}, T % 2),
    ]
    answer = send(client, batch(token, events))
    assert answer.status == 200, answer
    assert [r["seq"] for r in answer.json["refused"]] == [1] and "data.id" in answer.json["refused"][0]["error"]
    assert [(a["screen"], a["answer"]) for a in answers(store)] == [(longest, "b")]
