"""POST /webhooks/coassemble, on SQLite and PostgreSQL: what is applied, what is refused, and that a
refused delivery leaves the database exactly as it was (a full dump before and after)."""

import json
import time

import pytest

from coursewire.server.wsgi import Context, make_app

from .record_client import ADMIN_TOKEN, WEBHOOK_SECRET, WsgiClient, delivery_body, delivery_headers, settings


@pytest.fixture
def client(store):
    return WsgiClient(make_app(settings(), store=store))


def post(client, body, headers):
    return client.request("POST", "/webhooks/coassemble", body, headers)


def records(store, course="101"):
    return {r["learner"]: r for r in store.course_records(course)["records"]}


def test_commenced_then_completed_are_applied_as_verified_evidence(client, store):
    body = delivery_body("course.commenced", occurred_at="2026-11-28T08:00:00Z")
    answer = post(client, body, delivery_headers(body, event="course.commenced"))
    assert (answer.status, answer.json) == (200, {"status": "applied"})
    body = delivery_body("course.completed", occurred_at="2026-11-28T09:30:00+01:00")
    assert post(client, body, delivery_headers(body)).json == {"status": "applied"}
    record = records(store)["ada@example.com"]
    assert record["verified_commenced_at"] == "2026-11-28T08:00:00.000Z"
    assert record["verified_completed_at"] == "2026-11-28T08:30:00.000Z"
    assert record["status"] == "completed_verified"
    # A webhook carries no progress and no browser evidence.
    assert (record["progress"], record["reported_completed_at"], record["reported_events"]) == (0, None, 0)
    assert store.course_records("101")["title"] == "Safety basics"


def test_a_replayed_delivery_answers_2xx_and_applies_nothing(client, store):
    body = delivery_body("course.commenced")
    headers = delivery_headers(body)
    assert post(client, body, headers).json == {"status": "applied"}
    before = store.dump()
    again = post(client, body, headers)
    assert (again.status, again.json) == (200, {"status": "duplicate"})
    # Even re-signed with a fresh timestamp, the same delivery id is not applied twice.
    fresh = delivery_headers(body, delivery=headers["X-Coassemble-Delivery"], timestamp=int(time.time()) + 5)
    assert post(client, body, fresh).json == {"status": "duplicate"}
    assert store.dump() == before


def test_an_earlier_completion_arriving_late_wins_and_a_later_one_changes_nothing(client, store):
    for occurred in ("2026-11-28T10:00:00Z", "2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z"):
        body = delivery_body("course.completed", occurred_at=occurred)
        assert post(client, body, delivery_headers(body)).status == 200
    assert records(store)["ada@example.com"]["verified_completed_at"] == "2026-11-28T09:00:00.000Z"


def test_course_created_records_the_course_and_its_title(client, store):
    body = delivery_body("course.created", course="safety-2", title="Safety, second edition")
    assert post(client, body, delivery_headers(body)).json == {"status": "applied"}
    dump = store.dump()
    assert [(c, t, at) for c, t, at, _ in dump["courses"]] == [
        ("safety-2", "Safety, second edition", "2026-11-28T08:00:00.000Z")
    ]
    assert dump["records"] == []
    # Visible to staff: the course's title, before any learner has a record.
    answer = client.request(
        "GET", "/api/records", headers={"Authorization": "Bearer " + ADMIN_TOKEN}, query="course=safety-2"
    )
    assert (answer.json["title"], answer.json["records"]) == ("Safety, second edition", [])
    # Another delivery for the course (a re-send with an earlier time): the earliest created time is kept.
    body = delivery_body(
        "course.created", course="safety-2", title="Safety, second edition", occurred_at="2026-11-27T08:00:00Z"
    )
    assert post(client, body, delivery_headers(body)).json == {"status": "applied"}
    assert [at for _, _, at, _ in store.dump()["courses"]] == ["2026-11-27T08:00:00.000Z"]
    # Stored whole, like every verified delivery, with no learner (a course event names none).
    assert [(row[1], row[2], row[4]) for row in store.dump()["webhook_deliveries"]] == [
        ("course.created", "applied", None)
    ] * 2


def test_an_unknown_event_type_is_stored_and_ignored(client, store):
    before = store.dump()
    body = delivery_body("course.archived")
    headers = delivery_headers(body)
    answer = post(client, body, headers)
    assert (answer.status, answer.json) == (202, {"status": "ignored"})
    after = store.dump()
    assert [(row[0], row[1], row[2]) for row in after["webhook_deliveries"]] == [
        (headers["X-Coassemble-Delivery"], "course.archived", "ignored")
    ]
    assert after["webhook_deliveries"][0][-1] == body.decode()
    assert {k: v for k, v in after.items() if k != "webhook_deliveries"} == {
        k: v for k, v in before.items() if k != "webhook_deliveries"
    }
    assert post(client, body, headers).json == {"status": "duplicate"}


def test_the_timestamp_may_be_exactly_300_seconds_away_but_not_301(store):
    now = 1_795_000_000
    client = WsgiClient(make_app(context=Context(settings(), clock=lambda: now, store=store)))
    for offset, status in ((-300, 200), (300, 200), (-301, 401), (301, 401)):
        body = delivery_body("course.commenced")
        assert post(client, body, delivery_headers(body, timestamp=now + offset)).status == status


def _hostile_cases():
    now = int(time.time())
    good = delivery_body("course.completed")

    def without(name):
        headers = delivery_headers(good)
        del headers[name]
        return good, headers

    def signed(body, **kw):
        return body, delivery_headers(body, **kw)

    forged = delivery_headers(good)
    forged["X-Coassemble-Signature"] = "sha256=" + "0" * 64
    tampered_headers = delivery_headers(good)
    tampered = good.replace(b"ada@example.com", b"eve@example.com")
    moved = delivery_headers(good)
    moved["X-Coassemble-Timestamp"] = str(int(moved["X-Coassemble-Timestamp"]) + 1)  # not what was signed
    bare = delivery_headers(good)
    bare["X-Coassemble-Signature"] = bare["X-Coassemble-Signature"][len("sha256=") :]
    big = b'{"type": "course.completed", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    return {
        "forged signature": (good, forged, 401),
        "signed with another secret": (good, delivery_headers(good, secret="not-the-secret"), 401),
        "body changed after signing": (tampered, tampered_headers, 401),
        "timestamp changed after signing": (good, moved, 401),
        "signature without sha256= prefix": (good, bare, 401),
        "missing X-Coassemble-Signature": without("X-Coassemble-Signature") + (401,),
        "missing X-Coassemble-Timestamp": without("X-Coassemble-Timestamp") + (401,),
        "missing X-Coassemble-Delivery": without("X-Coassemble-Delivery") + (400,),
        "timestamp not a number": (good, dict(delivery_headers(good), **{"X-Coassemble-Timestamp": "soon"}), 401),
        # (The exact 300/301 s boundary is tested with a fixed clock above.)
        "stale timestamp (310 s ago)": signed(good, timestamp=now - 310) + (401,),
        "future timestamp (310 s ahead)": signed(good, timestamp=now + 310) + (401,),
        "a day-old replay": signed(good, timestamp=now - 86400) + (401,),
        "body over 1 MiB": signed(big) + (413,),
        "malformed JSON": signed(b'{"type": "course.completed", ') + (400,),
        "JSON that is not an object": signed(b'["course.completed"]') + (400,),
        "empty body": signed(b"") + (400,),
        "not UTF-8": signed(b'{"type": "course.completed", "x": "\xff"}') + (400,),
        "no type": signed(json.dumps({"data": {}}).encode()) + (400,),
        "no tracking": signed(json.dumps({"type": "course.completed", "data": {"course": {"id": 1}}}).encode())
        + (400,),
        "no learner identifier": signed(
            json.dumps(
                {"type": "course.commenced", "data": {"course": {"id": 1}, "tracking": {"email": "a@b"}}}
            ).encode()
        )
        + (400,),
        "course id not a slug": signed(delivery_body(course="1; DROP TABLE records")) + (400,),
        "occurredAt not a time": signed(delivery_body(occurred_at="'; DROP TABLE records; --")) + (400,),
        "NUL in a string": signed(delivery_body(title="a\u0000b")) + (400,),
        "unpaired surrogate escape": signed(delivery_body().replace(b"Safety basics", b"\\ud800")) + (400,),
        "X-Coassemble-Event contradicting the signed type": signed(good, event="course.commenced") + (400,),
        "delivery id with markup": signed(good, delivery="<script>alert(1)</script>") + (400,),
        "deeply nested JSON": signed(b'{"type": "x", "data": ' + b"[" * 100000 + b"]" * 100000 + b"}") + (400,),
    }


HOSTILE_CASES = sorted(_hostile_cases())


@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_a_hostile_delivery_gets_its_status_and_leaves_the_database_exactly_as_before(client, store, case):
    # Something recorded first, so "as before" is not trivially "empty".
    seed = delivery_body("course.commenced", learner="grace@example.com")
    assert post(client, seed, delivery_headers(seed)).status == 200
    before = store.dump()
    body, headers, status = _hostile_cases()[case]  # built now: timestamps relative to this moment
    answer = post(client, body, headers)
    assert answer.status == status, answer
    sentence = answer.json["error"]
    assert sentence.endswith(".") and "\n" not in sentence and len(sentence) < 200
    assert WEBHOOK_SECRET not in answer.body.decode()
    assert store.dump() == before


def test_without_a_webhook_secret_the_receiver_answers_503_and_stores_nothing(store):
    client = WsgiClient(make_app(context=Context(settings(webhook_secret=None), store=store)))
    before = store.dump()
    body = delivery_body()
    answer = post(client, body, delivery_headers(body))
    assert answer.status == 503 and "COASSEMBLE_WEBHOOK_SECRET" in answer.json["error"]
    assert store.dump() == before


HOSTILE_TEXT = [
    "'; DROP TABLE records; --",
    "<script>alert('x')</script>",
    "\" OR 1=1 --",
    "<img src=x onerror=alert(1)>",
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_sql_and_markup_in_every_field_are_stored_verbatim_and_change_nothing_else(client, store, text):
    seed = delivery_body("course.commenced", learner="grace@example.com")
    assert post(client, seed, delivery_headers(seed)).status == 200
    before = store.dump()
    message = {
        "id": text,
        "type": "course.completed",
        "occurredAt": "2026-11-28T08:00:00Z",
        "workspaceId": text,
        "data": {
            "course": {"id": "101", "title": text, "key": text, "clientIdentifier": text},
            "tracking": {
                "id": text,
                "identifier": text,
                "email": text,
                "commenced": text,
                "completed": text,
                "totalTime": text,
            },
        },
        text: text,
    }
    body = json.dumps(message).encode()
    headers = delivery_headers(body)
    assert post(client, body, headers).json == {"status": "applied"}
    after = store.dump()
    # Exactly one new delivery, holding the body verbatim; one new record, for the learner named
    # by the hostile text; the course's title is the hostile text; nothing else moved.
    new_deliveries = sorted(set(after["webhook_deliveries"]) - set(before["webhook_deliveries"]))
    assert len(new_deliveries) == 1 and new_deliveries[0][-1] == body.decode()
    new_records = sorted(set(after["records"]) - set(before["records"]))
    assert [(r[0], r[1]) for r in new_records] == [("101", text)]
    assert set(before["records"]) <= set(after["records"])
    assert [row[1] for row in after["courses"]] == [text]
    for table in ("schema_version", "reported_events", "quiz_answers", "quiz_screens", "server_secrets"):
        assert after[table] == before[table]
    shown = records(store)[text]
    assert shown["learner"] == text and shown["status"] == "completed_verified"


ROTATING_OLD, ROTATING_NEW = "whsec_old-endpoint-secret", "whsec_new-endpoint-secret"


def test_either_of_two_listed_secrets_verifies_and_an_unlisted_one_is_refused(store):
    # A rotation under way: COASSEMBLE_WEBHOOK_SECRET lists the old and the new endpoint's secret.
    client = WsgiClient(make_app(settings(webhook_secret="%s %s" % (ROTATING_OLD, ROTATING_NEW)), store=store))
    for learner, secret in (("old@example.com", ROTATING_OLD), ("new@example.com", ROTATING_NEW)):
        body = delivery_body("course.completed", learner=learner)
        answer = post(client, body, delivery_headers(body, secret=secret))
        assert (answer.status, answer.json) == (200, {"status": "applied"})
    before = store.dump()
    for secret in ("whsec_never-listed", "%s %s" % (ROTATING_OLD, ROTATING_NEW), WEBHOOK_SECRET):
        body = delivery_body("course.completed", learner="eve@example.com")
        answer = post(client, body, delivery_headers(body, secret=secret))
        assert (answer.status, answer.json) == (401, {"error": "The delivery's signature does not match."})
    assert store.dump() == before
    assert set(records(store)) == {"old@example.com", "new@example.com"}


def test_once_the_old_secret_is_removed_it_no_longer_verifies(store):
    client = WsgiClient(make_app(settings(webhook_secret="  %s  " % ROTATING_NEW), store=store))
    body = delivery_body("course.completed")
    assert post(client, body, delivery_headers(body, secret=ROTATING_OLD)).status == 401
    assert post(client, body, delivery_headers(body, secret=ROTATING_NEW)).status == 200
