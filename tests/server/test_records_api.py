"""GET /api/records: only with the admin token, one course's records, and a cursor for cheap polling."""

import pytest

from coursewire.server.wsgi import Context, make_app
from .record_client import ADMIN_TOKEN, TOKEN_SECRET, WEBHOOK_SECRET, WsgiClient, batch, event, settings

AUTH = {"Authorization": "Bearer " + ADMIN_TOKEN}


@pytest.fixture
def context(store):
    return Context(settings(), store=store)


@pytest.fixture
def client(context):
    return WsgiClient(make_app(context=context))


def report(client, context, learner, events, course="101", session="session-0001"):
    token = context.issue_report_token(course, learner)
    answer = client.request("POST", "/api/events", batch(token, events, session=session),
                            {"Content-Type": "application/json"})
    assert answer.status == 200, answer


def get(client, query, headers=AUTH):
    return client.request("GET", "/api/records", query=query, headers=headers)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer wrong-token", "bearer " + ADMIN_TOKEN,
                                    ADMIN_TOKEN, "Basic " + ADMIN_TOKEN, "Bearer " + ADMIN_TOKEN + "x",
                                    "Bearer " + ADMIN_TOKEN[:-1]])
def test_without_the_admin_token_the_records_are_refused_401(client, context, header):
    report(client, context, "ada", [event(1, "course:progress", {"progress": 30})])
    answer = get(client, "course=101", {} if header is None else {"Authorization": header})
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "ada" not in answer.body.decode() and ADMIN_TOKEN not in answer.body.decode()


def test_without_a_configured_admin_token_the_api_answers_503(store):
    client = WsgiClient(make_app(context=Context(settings(admin_token=None), store=store)))
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        answer = get(client, "course=101", headers)
        assert answer.status == 503 and "COURSEWIRE_ADMIN_TOKEN" in answer.json["error"]


def test_the_records_of_one_course_with_every_field(client, context):
    report(client, context, "ada", [event(1, "course:start", {}, "2026-11-15T08:00:00Z"),
                                    event(2, "course:progress", {"progress": 60}, "2026-11-15T08:01:00Z"),
                                    event(3, "screen:answer", {"id": "q", "answer": "B", "correct": False},
                                          "2026-11-15T08:02:00Z")])
    report(client, context, "bob", [event(1, "course:completed", {}, "2026-11-15T09:00:00Z")])
    report(client, context, "eve", [event(1, "course:progress", {"progress": 90})], course="202")
    answer = get(client, "course=101")
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
    page = answer.json
    assert page["course"] == "101" and page["cursor"] == 2
    assert [r["learner"] for r in page["records"]] == ["ada", "bob"]
    ada = page["records"][0]
    assert set(ada) == {"learner", "progress", "status", "answers", "reported_started_at", "reported_completed_at",
                        "verified_commenced_at", "verified_completed_at", "last_event_at", "reported_events",
                        "verified_score", "verified_passed", "verified_progress", "changed"}
    assert (ada["verified_score"], ada["verified_passed"], ada["verified_progress"]) == (None, None, None)
    assert (ada["progress"], ada["status"], ada["last_event_at"]) == (60, "in_progress", "2026-11-15T08:02:00.000Z")
    assert ada["answers"][0]["answer"] == "B" and ada["answers"][0]["correct"] is False
    assert page["records"][1]["status"] == "completed_reported"
    body = answer.body.decode()
    for secret in (ADMIN_TOKEN, WEBHOOK_SECRET, TOKEN_SECRET):
        assert secret not in body


def test_polling_with_the_cursor_returns_only_what_changed(client, context):
    report(client, context, "ada", [event(1, "course:progress", {"progress": 10})])
    report(client, context, "bob", [event(1, "course:progress", {"progress": 20})])
    first = get(client, "course=101").json
    cursor = first["cursor"]
    idle = get(client, "course=101&since=%d" % cursor).json
    assert idle == {"course": "101", "title": None, "cursor": cursor, "records": []}
    report(client, context, "bob", [event(2, "course:progress", {"progress": 50})])
    changed = get(client, "course=101&since=%d" % cursor).json
    assert [(r["learner"], r["progress"]) for r in changed["records"]] == [("bob", 50)]
    assert changed["cursor"] > cursor
    # A retried batch changes nothing, so the cursor stays.
    report(client, context, "bob", [event(2, "course:progress", {"progress": 50})])
    assert get(client, "course=101&since=%d" % changed["cursor"]).json["records"] == []


def test_an_unknown_course_is_an_empty_list(client):
    assert get(client, "course=999").json == {"course": "999", "title": None, "cursor": 0, "records": []}


@pytest.mark.parametrize("query", ["", "course=", "course=a%20b", "course=101&since=-1", "course=101&since=x",
                                   "course=101&since=1e3", "course=101&course=102", "course=101&admin=1",
                                   "course=%27%3B%20DROP%20TABLE%20records%3B--", "since=3"])
def test_a_bad_query_is_refused_400(client, query):
    answer = get(client, query)
    assert answer.status == 400 and answer.json["error"].endswith(".")
