"""The simulated Coassemble API (harness/api.py), called as a WSGI application, plus its webhook
sender against a real local receiver. CPython only: no browser."""

import hashlib
import hmac
import http.server
import json
import re
import sys
import threading
import urllib.parse

import pytest

from serving import ROOT, free_port
from wsgi_client import call_wsgi

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from harness import tokens  # noqa: E402
from harness.api import COURSE, make_app  # noqa: E402

WORKSPACE = "1000"
KEY = "harness-test-key-" + "9f" * 24
AUTH = "COASSEMBLE:%s:%s" % (WORKSPACE, KEY)
WEBHOOK_SECRET = "whsec-harness-test-" + "ab" * 16
HOST = "localhost:8001"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


class Clock:
    """A clock the test moves by hand; `step` advances it on every reading."""

    def __init__(self, start=1_800_000_000.0, step=0.0):
        self.now = start
        self.step = step

    def __call__(self):
        value = self.now
        self.now += self.step
        return value


class Client:
    """Calls the WSGI application directly and keeps every answer body (to look for secrets)."""

    def __init__(self, app):
        self.app = app
        self.bodies = []

    def call(self, method, path, body=None, headers=None, query="", host=HOST, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        answer = call_wsgi(
            self.app,
            method,
            path,
            data,
            dict({"Host": host, "Content-Type": "application/json"}, **(headers or {})),
            query,
        )
        self.bodies.append(answer.text)
        return answer.status, answer.headers, answer.text

    def embed(self, body, auth=AUTH, host=HOST):
        return self.call(
            "POST", "/api/v1/headless/embed/course", body, {"Authorization": auth} if auth else {}, host=host
        )

    def mint(self, learner="anna", action="view", course=COURSE["id"], **extra):
        body = dict({"action": action, "identifier": learner, "options": {"back": "event"}}, **extra)
        if course is not None:
            body["courseId"] = course
        status, _, text = self.embed(body)
        assert status == 200, text
        return text

    def session(self, token):
        status, _, text = self.call("GET", "/api/session", query=urllib.parse.urlencode({"token": token}))
        return status, json.loads(text)


def token_of(url):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(clock):
    return Client(make_app(WORKSPACE, KEY, token_ttl_s=5, clock=clock))


# ---- POST /api/v1/headless/embed/course ------------------------------------------------


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "",
        "Bearer " + KEY,
        KEY,
        "COASSEMBLE:%s:%s" % (WORKSPACE, KEY[:-1] + "0"),
        "COASSEMBLE:1001:%s" % KEY,
        AUTH + " ",
        "coassemble:%s:%s" % (WORKSPACE, KEY),
    ],
)
def test_a_wrong_or_missing_authorization_is_401_in_coassembles_envelope(client, auth):
    status, headers, text = client.embed({"action": "view", "courseId": 101, "identifier": "anna"}, auth=auth)
    assert status == 401
    assert json.loads(text) == {"message": "Unauthorized", "error": {"code": "UNAUTHORIZED", "status": 401}}
    assert headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "body, says",
    [
        ({"action": "view", "courseId": 101}, "identifier is required"),
        ({"action": "view", "courseId": 101, "identifier": ""}, "identifier is required"),
        ({"action": "view", "courseId": 101, "identifier": 7}, "identifier is required"),
        ({"action": "view", "courseId": 101, "identifier": "anna", "options": []}, "options must be an object"),
        (
            {"action": "view", "courseId": 101, "identifier": "anna", "options": "back=event"},
            "options must be an object",
        ),
        ({"action": "view", "courseId": 101, "identifier": "anna", "options": None}, "options must be an object"),
        ({"action": "delete", "courseId": 101, "identifier": "anna"}, "action must be one of"),
        ({"courseId": 101, "identifier": "anna"}, "action must be one of"),
        ({"action": "view", "identifier": "anna"}, "courseId is required"),
        ({"action": "view", "courseId": [101], "identifier": "anna"}, "courseId must be a number"),
        ({"action": "view", "courseId": 101, "identifier": "anna", "name": 5}, "name must be a string"),
    ],
)
def test_a_body_coassemble_would_refuse_is_400(client, body, says):
    status, _, text = client.embed(body)
    answer = json.loads(text)
    assert status == 400 and answer["error"] == {"code": "BAD_REQUEST", "status": 400}
    assert says in answer["message"]


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(client, raw):
    status, _, text = client.call("POST", "/api/v1/headless/embed/course", raw=raw, headers={"Authorization": AUTH})
    assert status == 400 and json.loads(text)["error"]["code"] == "BAD_REQUEST"


def test_an_oversized_body_is_413(client):
    body = {"action": "view", "courseId": 101, "identifier": "anna", "name": "x" * 20000}
    assert client.embed(body)[0] == 413


def test_an_unknown_course_is_404_for_the_player(client):
    status, _, text = client.embed({"action": "view", "courseId": 999, "identifier": "anna"})
    assert status == 404
    assert json.loads(text) == {"message": "Course not found", "error": {"code": "NOT_FOUND", "status": 404}}


def test_the_player_url_is_plain_text_on_the_callers_origin_with_a_signed_token(client):
    status, headers, url = client.embed(
        {"action": "view", "courseId": 101, "identifier": "anna", "options": {"back": "event"}}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert url.startswith("http://localhost:8001/player.html?token=")
    assert client.mint(course="101").startswith("http://localhost:8001/player.html?token=")  # a string id too
    other = Client(client.app).call(
        "POST",
        "/api/v1/headless/embed/course",
        {"action": "view", "courseId": 101, "identifier": "anna"},
        {"Authorization": AUTH},
        host="127.0.0.1:9555",
    )
    assert other[2].startswith("http://127.0.0.1:9555/player.html?token=")


@pytest.mark.parametrize("course", [None, 101, 4321, "draft-7"])
def test_the_builder_opens_for_any_course_or_a_new_one(client, course):
    url = client.mint(action="edit", course=course)
    assert url.startswith("http://localhost:8001/builder.html?token=")
    status, session = client.session(token_of(url))
    assert status == 200 and session["action"] == "edit" and session["course"] == course


@pytest.mark.parametrize("host", ["", "evil.example/path", "a b", "localhost:8001\r\nX: y", "user@localhost"])
def test_a_host_header_that_is_not_a_plain_host_is_refused(client, host):
    status, _, text = client.embed({"action": "view", "courseId": 101, "identifier": "anna"}, host=host)
    assert status == 400 and "Host" in json.loads(text)["message"]


def test_a_used_up_learner_allowance_is_403(clock):
    client = Client(make_app(WORKSPACE, KEY, clock=clock, learner_allowance=2))
    client.mint("anna")
    client.mint("bob")
    client.mint("anna")  # a known learner costs nothing
    status, _, text = client.embed({"action": "view", "courseId": 101, "identifier": "carol"})
    answer = json.loads(text)
    assert status == 403 and answer["error"]["code"] == "FORBIDDEN" and "allowance" in answer["message"]
    assert client.mint("carol", action="edit").startswith("http://")  # authors are not learners


def test_unknown_routes_and_methods_are_refused(client):
    assert client.call("GET", "/api/v1/headless/embed/course")[0] == 405
    assert client.call("GET", "/api/nothing")[0] == 404
    assert client.call("POST", "/api/session")[0] == 405


# ---- GET /api/session ------------------------------------------------------------------


def test_a_good_token_gives_the_session_and_its_time_left(client, clock):
    url = client.mint("anna", name="Anna Example")
    status, session = client.session(token_of(url))
    assert status == 200
    assert session == {
        "action": "view",
        "course": 101,
        "learner": "anna",
        "name": "Anna Example",
        "expires_at": "2027-01-15T08:00:05.000Z",
        "expires_in_s": 5.0,
    }
    clock.now += 3.5
    assert client.session(token_of(url))[1]["expires_in_s"] == 1.5


def test_an_expired_token_is_410_not_401(client, clock):
    token = token_of(client.mint())
    clock.now += 5
    status, answer = client.session(token)
    assert status == 410 and answer["reason"] == "expired" and "expired" in answer["error"]
    assert answer["expires_at"] == "2027-01-15T08:00:05.000Z"


def test_a_missing_or_bad_token_is_401_with_a_sentence(client, clock):
    token = token_of(client.mint())
    head, payload, signature = token.split(".")
    claims = json.loads(tokens._unb64(payload))
    forged_payload = tokens._b64(json.dumps(dict(claims, identifier="mallory")).encode())
    unsigned = tokens._b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + payload + "."
    other_process = token_of(Client(make_app(WORKSPACE, KEY, clock=clock)).mint())
    for bad in [
        head + "." + forged_payload + "." + signature,
        unsigned,
        other_process,
        token[:-2],
        "not-a-token",
        "a.b.c",
        "é.é.é",
        token + "x" * 5000,
    ]:
        status, answer = client.session(bad)
        assert status == 401 and answer["reason"] == "invalid", bad[:40]
        assert answer["error"].endswith(".") and answer["error"].count(". ") == 0
    status, answer = client.call("GET", "/api/session")[0], json.loads(client.bodies[-1])
    assert status == 401 and answer["reason"] == "missing" and "without a session token" in answer["error"]


# ---- POST /api/tracking and the webhooks ------------------------------------------------


class Receiver:
    """A webhook receiver on a free port: answers each delivery with the next status in `plan`
    (then `default`), and records the raw request."""

    def __init__(self, plan=(), default=200):
        self.plan = list(plan)
        self.default = default
        self.requests = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": dict(self.headers), "raw": raw, "path": self.path})
                status = receiver.plan.pop(0) if receiver.plan else receiver.default
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/webhooks/coassemble" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(plan=(), default=200):
        made.append(Receiver(plan, default))
        return made[-1]

    yield make
    for r in made:
        r.close()


def webhook_client(url, clock, attempts=3):
    return Client(
        make_app(
            WORKSPACE,
            KEY,
            token_ttl_s=5,
            clock=clock,
            webhook_url=url,
            webhook_secret=WEBHOOK_SECRET,
            webhook_attempts=attempts,
            webhook_backoff_s=0.01,
            webhook_timeout_s=5,
        )
    )


def track(client, token, event):
    status, _, text = client.call("POST", "/api/tracking", {"token": token, "event": event})
    return status, json.loads(text)


def verifies(request):
    """Coassemble's signature check, as a receiver does it."""
    headers = request["headers"]
    expected = (
        "sha256="
        + hmac.new(
            WEBHOOK_SECRET.encode(), headers["X-Coassemble-Timestamp"].encode() + b"." + request["raw"], hashlib.sha256
        ).hexdigest()
    )
    return hmac.compare_digest(expected, headers["X-Coassemble-Signature"])


def test_the_first_start_and_completion_become_signed_coassemble_webhooks(receiver, clock):
    inbox = receiver()
    client = webhook_client(inbox.url, clock)
    token = token_of(client.mint("anna"))
    status, answer = track(client, token, "commenced")
    assert status == 202 and len(answer["sent"]) == 1
    assert track(client, token, "commenced") == (
        200,
        {"sent": [], "note": "Already reported: Coassemble sends only the first commenced."},
    )
    clock.now += 4
    assert track(client, token, "completed")[0] == 202
    assert track(client, token, "completed")[1]["sent"] == []
    assert client.app.webhooks.wait(10)

    # Each delivery travels on its own, as Coassemble's do: in any order (the receiver takes either).
    assert sorted(r["headers"]["X-Coassemble-Event"] for r in inbox.requests) == [
        "course.commenced",
        "course.completed",
    ]
    for request in inbox.requests:
        headers = request["headers"]
        assert request["path"] == "/webhooks/coassemble"
        assert headers["Content-Type"] == "application/json"
        assert UUID.fullmatch(headers["X-Coassemble-Delivery"])
        assert headers["X-Coassemble-Timestamp"].isdigit()
        assert verifies(request)
    started, finished = sorted((json.loads(r["raw"]) for r in inbox.requests), key=lambda body: body["type"])
    assert started["type"] == "course.commenced" and started["workspaceId"] == 1000
    assert started["data"]["course"] == {
        "id": 101,
        "title": "Secure Passwords 101",
        "key": "secure-passwords-101",
        "clientIdentifier": None,
    }
    assert started["data"]["tracking"]["identifier"] == "anna"
    assert started["data"]["tracking"]["commenced"] == "2027-01-15T08:00:00.000Z"
    assert started["data"]["tracking"]["completed"] is None
    assert finished["data"]["tracking"]["completed"] == "2027-01-15T08:00:04.000Z"
    assert finished["data"]["tracking"]["totalTime"] == 4
    assert set(started) == {"id", "type", "occurredAt", "workspaceId", "data"}
    assert "progress" not in json.dumps(finished) and "score" not in json.dumps(finished)

    status, _, text = client.call("GET", "/api/deliveries")
    deliveries = json.loads(text)["deliveries"]
    assert status == 200 and [d["state"] for d in deliveries] == ["delivered", "delivered"]
    # Paired by id, not by arrival: the two travel on their own threads and may arrive either way round.
    arrived = {r["headers"]["X-Coassemble-Delivery"]: r["headers"]["X-Coassemble-Event"] for r in inbox.requests}
    assert {d["delivery"]: d["event"] for d in deliveries} == arrived


def test_each_learner_and_course_is_reported_once_on_its_own(receiver, clock):
    inbox = receiver()
    client = webhook_client(inbox.url, clock)
    for learner in ("anna", "bob"):
        assert track(client, token_of(client.mint(learner)), "commenced")[0] == 202
    # A fresh URL for the same learner is the same tracking record: no second start.
    assert track(client, token_of(client.mint("anna")), "commenced")[1]["sent"] == []
    assert client.app.webhooks.wait(10)
    assert sorted(json.loads(r["raw"])["data"]["tracking"]["identifier"] for r in inbox.requests) == ["anna", "bob"]


def test_a_failed_delivery_is_retried_with_the_same_delivery_id_and_a_fresh_signature(receiver):
    inbox = receiver(plan=[500, 503])
    client = webhook_client(inbox.url, Clock(step=1.0), attempts=4)
    track(client, token_of(client.mint("anna")), "commenced")
    assert client.app.webhooks.wait(10)
    assert len(inbox.requests) == 3
    assert len({r["headers"]["X-Coassemble-Delivery"] for r in inbox.requests}) == 1
    assert len({r["raw"] for r in inbox.requests}) == 1  # the same body every time
    assert len({r["headers"]["X-Coassemble-Timestamp"] for r in inbox.requests}) == 3
    assert all(verifies(r) for r in inbox.requests)
    record = client.app.webhooks.records()[0]
    assert record["state"] == "delivered" and [a["status"] for a in record["attempts"]] == [500, 503, 200]


def test_a_delivery_gives_up_after_the_attempt_limit(receiver, clock):
    inbox = receiver(default=500)
    client = webhook_client(inbox.url, clock, attempts=3)
    track(client, token_of(client.mint("anna")), "commenced")
    assert client.app.webhooks.wait(10)
    assert len(inbox.requests) == 3
    record = json.loads(client.call("GET", "/api/deliveries")[2])["deliveries"][0]
    assert record["state"] == "failed" and [a["status"] for a in record["attempts"]] == [500, 500, 500]


def test_a_receiver_that_is_down_is_retried_then_given_up(clock):
    client = webhook_client("http://127.0.0.1:%d/webhooks/coassemble" % free_port(), clock, attempts=2)
    track(client, token_of(client.mint("anna")), "commenced")
    assert client.app.webhooks.wait(10)
    record = client.app.webhooks.records()[0]
    assert record["state"] == "failed"
    assert [a["error"] for a in record["attempts"]] == ["ConnectionRefusedError"] * 2


def test_tracking_refuses_what_the_player_would_never_send(receiver, clock):
    inbox = receiver()
    client = webhook_client(inbox.url, clock)
    token = token_of(client.mint("anna"))
    assert track(client, token, "progress")[0] == 400
    assert track(client, token_of(client.mint("anna", action="edit")), "commenced")[0] == 400
    assert track(client, "forged.token.here", "commenced")[0] == 401
    assert track(client, None, "commenced")[0] == 401
    clock.now += 5
    assert track(client, token, "commenced")[0] == 410
    assert client.call("POST", "/api/tracking", raw=b"[]")[0] == 400
    assert client.app.webhooks.records() == [] and inbox.requests == []


def test_without_a_webhook_url_tracking_is_recorded_and_nothing_sent(client):
    status, answer = track(client, token_of(client.mint()), "completed")
    assert status == 200 and answer == {"sent": []}
    assert json.loads(client.call("GET", "/api/deliveries")[2]) == {"deliveries": []}


def test_no_secret_appears_in_any_answer(receiver, clock):
    inbox = receiver(plan=[500])
    client = webhook_client(inbox.url, clock)
    token = token_of(client.mint("anna"))
    client.session(token)
    track(client, token, "completed")
    client.embed({"action": "view"}, auth="COASSEMBLE:1000:wrong")
    client.app.webhooks.wait(10)
    client.call("GET", "/api/deliveries")
    secret = client.app._token_secret
    for body in client.bodies:
        assert KEY not in body and WEBHOOK_SECRET not in body
        assert secret.hex() not in body and tokens._b64(secret) not in body
    assert KEY not in repr(client.app)
