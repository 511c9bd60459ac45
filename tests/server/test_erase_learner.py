"""DELETE /api/learners/<id> and GET /api/learners/<id>/export, on SQLite and PostgreSQL, against the
simulated Coassemble (harness/api.py) served over real HTTP: what an erasure removes, that
Coassemble is asked, that nothing dated before it brings the learner back, and that the export
holds everything stored about a learner."""

import json
import socketserver
import sys
import threading
import urllib.parse
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from coursewire.server.times import iso
from coursewire.server.wsgi import Context, make_app

from .record_client import (
    ADMIN_TOKEN,
    ROOT,
    Clock,
    WsgiClient,
    batch,
    delivery_body,
    delivery_headers,
    event,
    free_port,
    http_request,
    settings,
)

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from harness.api import make_app as make_harness_api  # noqa: E402

NOW = 1_796_000_000  # 2026-12-01: after the seeded events, which are dated 2026-11-28
WORKSPACE, KEY = "1000", "erase-test-key-" + "7e" * 20
STAFF = {"Authorization": "Bearer " + ADMIN_TOKEN}
ADA, GRACE = "ada@example.com", "grace@example.com"


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def serve_in_thread(app):
    """`app` on the standard library's server, on a free port, in a daemon thread -> (base URL, server)."""
    server = make_server("127.0.0.1", free_port(), app, server_class=_Server, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % server.server_address[1], server


@pytest.fixture
def coassemble():
    """The simulated Coassemble over HTTP -> (its URL, its WSGI app)."""
    api = make_harness_api(WORKSPACE, KEY)
    base, server = serve_in_thread(api)
    try:
        yield base, api
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def context(store, clock, coassemble):
    return Context(settings(workspace_id=WORKSPACE, api_key=KEY, api_url=coassemble[0]), clock=clock, store=store)


@pytest.fixture
def client(context):
    return WsgiClient(make_app(context=context))


def path_of(learner, tail=""):
    """The WSGI PATH_INFO a server gives for /api/learners/<percent-encoded learner>: the URL's
    bytes, percent-decoded, as latin-1 characters (PEP 3333)."""
    return "/api/learners/" + learner.encode("utf-8").decode("latin-1") + tail


def report(client, context, learner, course, events, session="session-0001"):
    token = context.issue_report_token(course, learner)
    return client.request(
        "POST", "/api/events", batch(token, events, session=session), {"Content-Type": "application/json"}
    )


def webhook(client, clock, kind, learner, course="101", occurred_at="2026-11-28T08:30:00.000Z", delivery=None):
    body = delivery_body(kind, course=course, learner=learner, occurred_at=occurred_at)
    headers = delivery_headers(body, timestamp=clock.now, delivery=delivery)
    return client.request("POST", "/webhooks/coassemble", body, headers), headers


def seed(client, context, clock, learner, courses=("101", "202")):
    for course in courses:
        answer = report(
            client,
            context,
            learner,
            course,
            [
                event(1, "course:start"),
                event(2, "course:progress", {"progress": 50}),
                event(
                    3,
                    "screen:answer",
                    {"id": "q1", "title": "Quiz", "question": "2+2?", "answer": "4", "correct": True, "score": 1},
                ),
                event(4, "course:completed"),
            ],
        )
        assert answer.status == 200 and answer.json["applied"] == 4, answer
        assert webhook(client, clock, "course.completed", learner, course=course)[0].status == 200


def rows_naming(dump, learner):
    """{table: rows} of every row in which some column is exactly `learner` (or holds it, for text)."""
    found = {}
    for table, rows in dump.items():
        hits = [row for row in rows if any(isinstance(v, str) and learner in v for v in row)]
        if hits:
            found[table] = hits
    return found


def test_erasure_removes_every_row_of_the_learner_and_asks_coassemble(client, context, clock, store, coassemble):
    from coursewire.server.coassemble import mint

    mint("101", ADA, settings=context.settings)  # Coassemble knows Ada (she was given a player URL)
    seed(client, context, clock, ADA)
    seed(client, context, clock, GRACE, courses=("101",))
    grace_before = rows_naming(store.dump(), GRACE)
    answer = client.request("DELETE", path_of(ADA), headers=STAFF)
    assert answer.status == 200, answer
    assert answer.json == {
        "learner": ADA,
        "coassemble": "erased",
        "removed": {"records": 2, "reported_events": 8, "quiz_answers": 2, "quiz_screens": 2, "webhook_deliveries": 2},
    }
    dump = store.dump()
    # Nothing names Ada any more but her tombstone; Grace's rows are all still there.
    assert rows_naming(dump, ADA) == {"erasures": [(ADA, iso(NOW), "erased")]}
    assert rows_naming(dump, GRACE) == grace_before
    # The two deliveries keep their id (a redelivery stays a duplicate) without learner or body.
    assert len([row for row in dump["webhook_deliveries"] if row[4] is None and row[-1] == ""]) == 2
    # Coassemble was asked, by the identifier.
    erasures = json.loads(http_request(coassemble[0], "GET", "/api/erasures").body)["erasures"]
    assert erasures == [{"method": "DELETE", "path": "user", "identifier": ADA, "found": True}]
    assert store.course_records("101")["records"][0]["learner"] == GRACE


def test_after_an_erasure_nothing_dated_before_it_brings_the_learner_back(client, context, clock, store):
    seed(client, context, clock, ADA, courses=("101",))
    old_token = context.issue_report_token("101", ADA)
    _, old_delivery = webhook(client, clock, "course.completed", ADA)  # already received once
    clock.now = NOW + 60
    assert client.request("DELETE", path_of(ADA), headers=STAFF).status == 200
    after_erasure = store.dump()
    # The learner's outstanding report token is refused.
    clock.now = NOW + 120
    answer = client.request(
        "POST",
        "/api/events",
        batch(old_token, [event(9, "course:progress", {"progress": 90})], session="session-0002"),
        {"Content-Type": "application/json"},
    )
    assert answer.status == 401 and "erased" in answer.json["error"]
    # A delayed webhook about her earlier completion: answered 2xx (Coassemble stops retrying),
    # stored without her, not applied; its redelivery is a duplicate. A redelivery of one seen
    # before the erasure is a duplicate too.
    late, late_headers = webhook(client, clock, "course.commenced", ADA, occurred_at="2026-11-28T08:00:00.000Z")
    assert (late.status, late.json) == (202, {"status": "erased"})
    replay, _ = webhook(
        client,
        clock,
        "course.commenced",
        ADA,
        occurred_at="2026-11-28T08:00:00.000Z",
        delivery=late_headers["X-Coassemble-Delivery"],
    )
    assert replay.json == {"status": "duplicate"}
    old, _ = webhook(client, clock, "course.completed", ADA, delivery=old_delivery["X-Coassemble-Delivery"])
    assert old.json == {"status": "duplicate"}
    # A retried report of events from before the erasure, even under a fresh token: refused alone.
    retried = report(client, context, ADA, "101", [event(1, "course:start"), event(2, "course:completed")])
    assert retried.status == 200 and retried.json["applied"] == 0
    assert [r["seq"] for r in retried.json["refused"]] == [1, 2]
    assert "erased" in retried.json["refused"][0]["error"]
    dump = store.dump()
    # (Coassemble never gave Ada a player URL here: it answers that it has nothing to erase.)
    assert rows_naming(dump, ADA) == {"erasures": [(ADA, iso(NOW + 60), "not found")]}
    assert dump["records"] == after_erasure["records"] == []
    # A new mint after the erasure starts a new record, from the new evidence alone.
    fresh = report(
        client,
        context,
        ADA,
        "101",
        [event(1, "course:progress", {"progress": 10}, iso(NOW + 100))],
        session="session-0003",
    )
    assert fresh.json == {"applied": 1, "duplicates": 0}
    record = store.course_records("101")["records"][0]
    assert (record["learner"], record["progress"], record["verified_completed_at"], record["reported_events"]) == (
        ADA,
        10,
        None,
        1,
    )
    # And Coassemble's word about a completion after the erasure is applied.
    later, _ = webhook(client, clock, "course.completed", ADA, occurred_at=iso(NOW + 110))
    assert later.json == {"status": "applied"}


def test_the_export_holds_everything_stored_about_the_learner(client, context, clock, store):
    seed(client, context, clock, ADA)
    seed(client, context, clock, GRACE, courses=("101",))
    answer = client.request("GET", path_of(ADA, "/export"), headers=STAFF)
    assert answer.status == 200
    assert answer.headers["Content-Disposition"] == 'attachment; filename="coursewire-learner-export.json"'
    document = answer.json
    assert document["learner"] == ADA and document["erasure"] is None
    assert sorted(document["courses"]) == ["101", "202"]
    dump = store.dump()
    held = store.learner_export(ADA)
    # Every row of the dump that is Ada's, and nothing else, column for column.
    for table, learner_column in (
        ("records", 1),
        ("reported_events", 1),
        ("quiz_answers", 1),
        ("quiz_screens", 1),
        ("webhook_deliveries", 4),
    ):
        mine = sorted(row for row in dump[table] if row[learner_column] == ADA)
        assert mine, table
        assert sorted(tuple(row.values()) for row in held[table]) == mine, table
        assert len(document[table]) == len(mine)
    # The document shows stored JSON parsed: the answer as given, each delivery's body as sent.
    assert {a["answer"] for a in document["quiz_answers"]} == {"4"}
    assert {d["body"]["data"]["tracking"]["identifier"] for d in document["webhook_deliveries"]} == {ADA}
    assert GRACE not in answer.text
    # After an erasure the export says so, and holds nothing else.
    assert client.request("DELETE", path_of(ADA), headers=STAFF).status == 200
    after = client.request("GET", path_of(ADA, "/export"), headers=STAFF).json
    assert after["erasure"]["erased_at"] == iso(NOW)
    assert all(
        after[table] == []
        for table in ("records", "reported_events", "quiz_answers", "quiz_screens", "webhook_deliveries")
    )


def test_unknown_learners_malformed_ids_methods_and_staff_are_refused_in_one_sentence(client, store):
    before = store.dump()
    cases = [
        ("DELETE", path_of("nobody@example.com"), STAFF, 404),
        ("GET", path_of("nobody@example.com", "/export"), STAFF, 404),
        ("DELETE", path_of(" ada"), STAFF, 400),
        ("DELETE", path_of("ada\u202e"), STAFF, 400),
        ("DELETE", "/api/learners/\xff\xfe", STAFF, 400),  # not UTF-8
        ("DELETE", path_of("x" * 300), STAFF, 400),
        ("DELETE", path_of(ADA), {}, 401),
        ("GET", path_of(ADA, "/export"), {"Authorization": "Bearer wrong"}, 401),
        ("DELETE", path_of(ADA), dict(STAFF, Origin="https://evil.example"), 403),
        ("POST", path_of(ADA), STAFF, 405),
        ("GET", path_of(ADA), STAFF, 405),
        ("GET", "/api/learners/", STAFF, 404),
    ]
    for method, path, headers, status in cases:
        answer = client.request(method, path, headers=headers)
        assert answer.status == status, (method, path, answer)
        assert set(answer.json) == {"error"} and answer.json["error"].endswith(".")
    assert client.request("GET", path_of(ADA), headers=STAFF).headers["Allow"] == "DELETE"
    assert client.request("PUT", path_of(ADA, "/export"), headers=STAFF).headers["Allow"] == "DELETE, GET, HEAD"
    after = store.dump()
    # The one wrong admin token is counted (a guess: coursewire/server/limits.py); nothing else is stored.
    assert sum(failures for _, _, failures in after.pop("guess_windows")) == 2  # per address and overall
    before.pop("guess_windows")
    assert after == before


def test_a_failure_at_coassemble_is_reported_and_the_local_erasure_stands(store, clock):
    closed = "http://127.0.0.1:%d" % free_port()  # nothing listens there: Coassemble is down
    context = Context(
        settings(workspace_id=WORKSPACE, api_key=KEY, api_url=closed, mint_timeout_s=5), clock=clock, store=store
    )
    client = WsgiClient(make_app(context=context))
    seed(client, context, clock, ADA, courses=("101",))
    answer = client.request("DELETE", path_of(ADA), headers=STAFF)
    assert answer.status == 200
    assert answer.json["coassemble"] == "failed" and answer.json["removed"]["records"] == 1
    assert "could not be reached" in answer.json["error"] and "coursewire erase" in answer.json["error"]
    assert KEY not in answer.text
    assert store.pending_coassemble_erasures() == [ADA]
    # Erasing again (the report page's retry) finds nothing more to remove here and asks again.
    again = client.request("DELETE", path_of(ADA), headers=STAFF)
    assert again.status == 200 and sum(again.json["removed"].values()) == 0 and again.json["coassemble"] == "failed"
    assert store.course_records("101")["records"] == []


def test_without_coassemble_configured_the_answer_says_so(store, clock):
    context = Context(settings(), clock=clock, store=store)
    client = WsgiClient(make_app(context=context))
    seed(client, context, clock, ADA, courses=("101",))
    answer = client.request("DELETE", path_of(ADA), headers=STAFF)
    assert (answer.status, answer.json["coassemble"]) == (200, "not configured") and "error" not in answer.json


def test_percent_encoded_ids_over_real_http(context, store, clock):
    # A real server decodes the path (PEP 3333); ids with '@', '/', non-ASCII letters and spaces.
    base, server = serve_in_thread(make_app(context=context))
    try:
        client = WsgiClient(make_app(context=context))
        learners = ["ada@example.com", "team/ada", "Zoë Ørsted", "x/export"]
        for learner in learners:
            seed(client, context, clock, learner, courses=("101",))
        for learner in learners:
            quoted = urllib.parse.quote(learner, safe="")
            exported = http_request(base, "GET", "/api/learners/%s/export" % quoted, headers=STAFF)
            assert exported.status == 200 and json.loads(exported.body)["learner"] == learner
            erased = http_request(base, "DELETE", "/api/learners/" + quoted, headers=STAFF)
            assert erased.status == 200 and json.loads(erased.body)["learner"] == learner, erased
        assert store.course_records("101")["records"] == []
    finally:
        server.shutdown()
        server.server_close()


def test_an_erasure_that_fails_half_way_removes_nothing(client, context, clock, store, monkeypatch):
    from coursewire.server.store import erasure

    seed(client, context, clock, ADA)
    before = store.dump()
    # The last table to empty is one that does not exist: the statement fails after the others ran.
    monkeypatch.setattr(erasure, "LEARNER_TABLES", erasure.LEARNER_TABLES + ("no_such_table",))
    with pytest.raises(Exception, match="no_such_table"):  # sqlite3's or psycopg's error, naming it
        store.erase_learner(ADA, iso(NOW))
    assert store.dump() == before
    monkeypatch.undo()
    assert store.erase_learner(ADA, iso(NOW))["removed"]["records"] == 2
