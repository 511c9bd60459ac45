"""POST /api/events, on SQLite and PostgreSQL: batches from the page's outbox, each event applied
once per (session, seq), bound by the report token to one learner in one course."""

import json

import pytest

from coursewire.server.wsgi import Context

from .record_client import TOKEN_SECRET, Clock, batch, delivery_body, delivery_headers, event, settings

NOW = 1_795_000_000  # 2026-11-18T11:06:40Z: a fixed clock, so expiry is tested exactly
T = "2026-11-15T08:00:%02d.000Z"  # event times, a few days before NOW


@pytest.fixture
def clock():
    return Clock(NOW)  # (context and client: tests/server/conftest.py)


def send(client, body, content_type="application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    return client.request("POST", "/api/events", body, headers)


def record(store, learner="ada", course="101"):
    return {r["learner"]: r for r in store.course_records(course)["records"]}.get(learner)


def test_a_batch_builds_the_learners_reported_record(client, context, store):
    token = context.issue_report_token("101", "ada")
    events = [
        event(1, "session:ready", time_text=T % 0),
        event(2, "course:start", time_text=T % 1),
        event(3, "course:progress", {"progress": 40}, T % 2),
        event(
            4,
            "screen:answer",
            {"id": "q1", "title": "Quiz", "question": "2+2?", "answer": "4", "correct": True, "score": 1},
            T % 3,
        ),
        event(5, "course:completed", {"progress": 100}, T % 4),
    ]
    answer = send(client, batch(token, events))
    assert (answer.status, answer.json) == (200, {"applied": 5, "duplicates": 0})
    got = record(store)
    assert got["progress"] == 100 and got["status"] == "completed_reported"
    assert got["reported_started_at"] == T % 1 and got["reported_completed_at"] == T % 4
    assert got["last_event_at"] == T % 4 and got["reported_events"] == 5
    # A reported completion is never the verified one.
    assert got["verified_completed_at"] is None and got["verified_commenced_at"] is None
    assert got["answers"] == [
        {
            "event": "answer",
            "screen": "q1",
            "title": "Quiz",
            "question": "2+2?",
            "answer": "4",
            "correct": True,
            "score": 1,
            "attempt": 1,
            "time": T % 3,
        }
    ]


def test_sendbeacon_text_plain_is_accepted_and_other_types_are_refused(client, context, store):
    token = context.issue_report_token("101", "ada")
    body = batch(token, [event(1, "course:start")])
    assert send(client, body, "text/plain;charset=UTF-8").json == {"applied": 1, "duplicates": 0}
    before = store.dump()
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        answer = send(client, batch(token, [event(2, "course:start")]), content_type)
        assert answer.status == 415, content_type
    assert store.dump() == before


def test_a_retried_batch_applies_nothing_and_a_half_new_one_only_what_is_new(client, context, store):
    token = context.issue_report_token("101", "ada")
    first = batch(token, [event(1, "course:progress", {"progress": 10}), event(2, "course:progress", {"progress": 20})])
    assert send(client, first).json == {"applied": 2, "duplicates": 0}
    before = store.dump()
    assert send(client, first).json == {"applied": 0, "duplicates": 2}
    assert store.dump() == before  # not even the polling cursor moved
    half = batch(
        token,
        [
            event(2, "course:progress", {"progress": 20}),
            event(3, "course:progress", {"progress": 30}),
            event(1, "course:progress", {"progress": 10}),
        ],
    )
    assert send(client, half).json == {"applied": 1, "duplicates": 2}
    got = record(store)
    assert got["progress"] == 30 and got["reported_events"] == 3
    # The same seq from another page session is another event.
    other = batch(token, [event(1, "course:progress", {"progress": 35})], session="session-0002")
    assert send(client, other).json == {"applied": 1, "duplicates": 0}
    assert record(store)["reported_events"] == 4


def test_progress_never_decreases(client, context, store):
    token = context.issue_report_token("101", "ada")
    sent = [70, 30, 100, 0, 50]
    for seq, percent in enumerate(sent, 1):
        send(client, batch(token, [event(seq, "course:progress", {"progress": percent})]))
        assert record(store)["progress"] == max(sent[:seq])
    assert send(client, batch(token, [event(9, "course:progress", {"progress": 250})])).status == 200
    assert record(store)["progress"] == 100  # clamped, as the page's reducer does


def test_reported_and_verified_evidence_stay_apart(client, context, store):
    token = context.issue_report_token("101", "ada")
    send(client, batch(token, [event(1, "course:completed", {}, T % 30)]))
    got = record(store)
    assert (got["reported_completed_at"], got["verified_completed_at"], got["status"]) == (
        T % 30,
        None,
        "completed_reported",
    )
    body = delivery_body("course.completed", course="101", learner="ada", occurred_at="2026-11-15T08:05:00Z")
    assert client.request("POST", "/webhooks/coassemble", body, delivery_headers(body, timestamp=NOW)).status == 200
    got = record(store)
    assert got["reported_completed_at"] == T % 30
    assert got["verified_completed_at"] == "2026-11-15T08:05:00.000Z" and got["status"] == "completed_verified"
    # And a later browser report changes neither the verified time nor anything verified.
    send(client, batch(token, [event(2, "course:completed", {}, T % 1)]))
    got = record(store)
    assert got["verified_completed_at"] == "2026-11-15T08:05:00.000Z" and got["reported_completed_at"] == T % 1


def test_quiz_attempts_follow_retries_or_the_payloads_own_number(client, context, store):
    token = context.issue_report_token("101", "ada")
    events = [
        event(1, "screen:start", {"id": "q1", "title": "Final quiz"}, T % 1),
        event(
            2,
            "screen:answer",
            {"id": "q1", "question": "Capital?", "answer": "Lyon", "correct": False, "score": 0},
            T % 2,
        ),
        event(3, "screen:failed", {"id": "q1", "score": 0}, T % 3),
        event(4, "screen:retry", {"id": "q1"}, T % 4),
        event(
            5,
            "screen:answer",
            {"id": "q1", "question": "Capital?", "answer": "Paris", "correct": True, "score": 1},
            T % 5,
        ),
        event(6, "screen:answer", {"id": "q2", "question": "Again?", "answer": ["a", "b"], "attempt": 7}, T % 6),
    ]
    assert send(client, batch(token, events)).json == {"applied": 6, "duplicates": 0}
    answers = record(store)["answers"]
    assert [(a["event"], a["screen"], a["attempt"], a["correct"]) for a in answers] == [
        ("answer", "q1", 1, False),
        ("failed", "q1", 1, None),
        ("retry", "q1", 2, None),
        ("answer", "q1", 2, True),
        ("answer", "q2", 7, None),
    ]
    assert answers[0]["title"] == "Final quiz" and answers[-1]["answer"] == ["a", "b"]
    # Attempts carry on in the next batch (and the next page session).
    more = batch(
        token,
        [event(1, "screen:answer", {"id": "q1", "answer": "Paris", "correct": True}, T % 7)],
        session="session-0002",
    )
    send(client, more)
    assert record(store)["answers"][-1]["attempt"] == 2


def test_an_event_time_in_the_future_is_taken_as_now(client, context, store):
    token = context.issue_report_token("101", "ada")
    send(client, batch(token, [event(1, "course:start", time_text="2099-01-01T00:00:00Z")]))
    assert record(store)["reported_started_at"] == "2026-11-18T11:06:40.000Z"


def _token_cases(context, clock):
    own = context.issue_report_token("101", "ada")
    body, _, mac = own.rpartition(".")
    forged_claims = body.split(".")[0] + "." + json.dumps({"c": "101", "l": "eve", "x": NOW + 999}).encode().hex()
    other_secret = Context(settings(token_secret="another-secret"), clock=clock).issue_report_token("101", "ada")
    return {
        "no token": (None, {}),
        "empty token": ("", {}),
        "not a token": ("hello", {}),
        "a number": (12345, {}),
        "signature flipped": (own[:-2] + ("AA" if not own.endswith("AA") else "BB"), {}),
        "claims swapped for another learner's": (forged_claims + "." + mac, {}),
        "signed with another secret": (other_secret, {}),
        "other learner's token (page says ada)": (context.issue_report_token("101", "bob"), {"learner": "ada"}),
        "other course's token (page says 101)": (context.issue_report_token("202", "ada"), {"course": "101"}),
        "huge token": ("cwr1." + "A" * 100000 + ".B", {}),
    }


@pytest.mark.parametrize("case", sorted(_token_cases(Context(settings(), clock=Clock(NOW)), Clock(NOW))))
def test_a_batch_without_a_valid_token_for_its_learner_is_refused_401(client, context, clock, store, case):
    send(client, batch(context.issue_report_token("101", "ada"), [event(1, "course:start")]))
    before = store.dump()
    token, claims = _token_cases(context, clock)[case]
    answer = send(client, batch(token, [event(2, "course:completed")], **claims))
    assert answer.status == 401, answer
    assert TOKEN_SECRET not in answer.body.decode()
    assert store.dump() == before


def test_an_expired_token_is_refused_and_a_fresh_one_works(client, context, clock, store):
    token = context.issue_report_token("101", "ada")
    clock.now += context.report_token_ttl_s
    before = store.dump()
    answer = send(client, batch(token, [event(1, "course:start")]))
    assert answer.status == 401 and "expired" in answer.json["error"]
    assert store.dump() == before
    assert send(client, batch(context.issue_report_token("101", "ada"), [event(1, "course:start")])).status == 200


def test_a_token_binds_the_learner_so_a_page_cannot_report_for_someone_else(client, context, store):
    bob = context.issue_report_token("101", "bob")
    # Without a claim in the batch the token alone decides: bob's token reports for bob.
    assert send(client, batch(bob, [event(1, "course:progress", {"progress": 50})])).status == 200
    assert record(store, "bob")["progress"] == 50 and record(store, "ada") is None


REFUSED_ALONE = 200  # an event with a usable seq is refused by itself, inside a 2xx answer naming it


def _malformed_cases(token):
    big = [event(i, "course:feedback", {"text": "x" * 2000}) for i in range(1, 400)]
    return {
        "not JSON": (b"{nope", 400),
        "a list": (b"[]", 400),
        "no events": (batch(token, []), 400),
        "events not a list": (json.dumps({"token": token, "session": "session-0001", "events": {}}).encode(), 400),
        "event not an object": (batch(token, ["course:start"]), 400),
        "seq missing": (batch(token, [{"type": "course", "event": "start", "time": T % 1}]), 400),
        "seq zero": (batch(token, [event(0, "course:start")]), 400),
        "seq a string": (batch(token, [dict(event(1, "course:start"), seq="1")]), 400),
        "seq a boolean": (batch(token, [dict(event(1, "course:start"), seq=True)]), 400),
        "seq past 2**53": (batch(token, [event(2**53, "course:start")]), 400),
        "seq twice in one batch": (batch(token, [event(1, "course:start"), event(1, "course:start")]), 400),
        "time missing": (batch(token, [{"seq": 1, "type": "course", "event": "start"}]), REFUSED_ALONE),
        "time without zone": (batch(token, [event(1, "course:start", time_text="2026-11-15T08:00:00")]), REFUSED_ALONE),
        "time not a time": (
            batch(token, [event(1, "course:start", time_text="'; DROP TABLE records; --")]),
            REFUSED_ALONE,
        ),
        "type missing": (batch(token, [{"seq": 1, "event": "start", "time": T % 1}]), REFUSED_ALONE),
        "progress not a number": (batch(token, [event(1, "course:progress", {"progress": "lots"})]), REFUSED_ALONE),
        "data not an object": (batch(token, [dict(event(1, "course:start"), data=[1])]), REFUSED_ALONE),
        "unknown event field": (batch(token, [dict(event(1, "course:start"), learner="eve")]), REFUSED_ALONE),
        "unknown batch field": (batch(token, [event(1, "course:start")], admin=True), 400),
        "session too short": (batch(token, [event(1, "course:start")], session="abc"), 400),
        "session with markup": (batch(token, [event(1, "course:start")], session="<script>x</script>"), 400),
        "NUL in data": (batch(token, [event(1, "course:feedback", {"text": "a\u0000b"})]), 400),
        "over 500 events": (batch(token, [event(i, "course:start") for i in range(1, 502)]), 413),
        "over 512 KiB": (batch(token, big), 413),
    }


@pytest.mark.parametrize("case", sorted(_malformed_cases("t")))
def test_a_malformed_batch_is_refused_with_one_sentence_and_changes_nothing(client, context, store, case):
    token = context.issue_report_token("101", "ada")
    send(client, batch(token, [event(1, "course:start")]))
    before = store.dump()
    body, status = _malformed_cases(token)[case]
    answer = send(client, body)
    assert answer.status == status, answer
    if status == REFUSED_ALONE:
        assert (answer.json["applied"], answer.json["duplicates"]) == (0, 0)
        [refused] = answer.json["refused"]
        sentence = refused["error"]
        assert refused["seq"] == 1 and sentence.startswith("events[0]")
    else:
        sentence = answer.json["error"]
    assert sentence.endswith(".") and "\n" not in sentence and "Traceback" not in sentence
    assert store.dump() == before


def test_hostile_text_in_events_is_stored_verbatim(client, context, store):
    hostile = "'; DROP TABLE reported_events; -- <script>alert(1)</script>"
    token = context.issue_report_token("101", hostile)
    events = [
        event(1, "screen:answer", {"id": hostile, "title": hostile, "question": hostile, "answer": hostile}),
        event(2, "custom:" + hostile, {hostile: hostile}),
    ]
    assert send(client, batch(token, events)).json == {"applied": 2, "duplicates": 0}
    got = record(store, hostile)
    assert got["answers"][0]["answer"] == hostile and got["answers"][0]["screen"] == hostile
    names = sorted(row[4] for row in store.dump()["reported_events"])
    assert names == ["custom:" + hostile, "screen:answer"]
