"""The simulated Coassemble's webhook endpoints (GET/POST /api/v1/headless/webhooks, DELETE
.../webhooks/{id}) and erasure endpoints (DELETE /api/v1/headless/user/{identifier}, DELETE
/api/v1/headless/tracking), called as a WSGI application: Coassemble's shapes and refusals."""

import json
import sys

import pytest

from serving import ROOT
from wsgi_client import call_wsgi

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from harness.api import make_app  # noqa: E402

WORKSPACE, KEY = "1000", "harness-erasure-key-" + "3d" * 20
AUTH = {
    "Authorization": "COASSEMBLE:%s:%s" % (WORKSPACE, KEY),
    "Host": "localhost:8001",
    "Content-Type": "application/json",
}
UNAUTHORIZED = {"message": "Unauthorized", "error": {"code": "UNAUTHORIZED", "status": 401}}


@pytest.fixture
def api():
    return make_app(WORKSPACE, KEY, clock=lambda: 1_800_000_000.0)


def call(api, method, path, body=None, headers=AUTH, query=""):
    answer = call_wsgi(api, method, path, json.dumps(body).encode() if body is not None else b"", headers, query)
    return answer.status, json.loads(answer.body) if answer.headers["Content-Type"].startswith(
        "application/json"
    ) else answer.body.decode()


def test_an_endpoint_is_answered_with_its_secret_once_and_listed_without_it(api):
    assert call(api, "GET", "/api/v1/headless/webhooks") == (
        200,
        {"events": ["course.created", "course.commenced", "course.completed"], "endpoints": []},
    )
    status, endpoint = call(
        api,
        "POST",
        "/api/v1/headless/webhooks",
        {"url": "https://learn.example/webhooks/coassemble", "events": ["course.completed"], "enabled": True},
    )
    assert status == 201 and endpoint["secret"].startswith("whsec_")
    assert {k: v for k, v in endpoint.items() if k != "secret"} == {
        "id": 1,
        "url": "https://learn.example/webhooks/coassemble",
        "events": ["course.completed"],
        "enabled": True,
        "createdAt": "2027-01-15T08:00:00.000Z",
    }
    status, listed = call(api, "GET", "/api/v1/headless/webhooks")
    assert listed["endpoints"] == [{k: v for k, v in endpoint.items() if k != "secret"}]
    assert endpoint["secret"] not in json.dumps(listed)
    assert call(api, "DELETE", "/api/v1/headless/webhooks/1") == (200, {"message": "Webhook deleted", "id": 1})
    assert call(api, "DELETE", "/api/v1/headless/webhooks/1")[0] == 404
    assert call(api, "GET", "/api/v1/headless/webhooks")[1]["endpoints"] == []


@pytest.mark.parametrize(
    "body, says",
    [
        ({"url": "http://learn.example/hook", "events": ["course.completed"]}, "url must be an https URL"),
        ({"url": "ftp://learn.example/hook", "events": ["course.completed"]}, "url must be an https URL"),
        ({"url": 7, "events": ["course.completed"]}, "url must be an https URL"),
        ({"url": "https://learn.example/hook"}, "events must list some of"),
        ({"url": "https://learn.example/hook", "events": []}, "events must list some of"),
        ({"url": "https://learn.example/hook", "events": ["course.deleted"]}, "events must list some of"),
        (
            {"url": "https://learn.example/hook", "events": ["course.created"], "enabled": "yes"},
            "enabled must be a boolean",
        ),
    ],
)
def test_a_registration_coassemble_would_refuse_is_400(api, body, says):
    status, answer = call(api, "POST", "/api/v1/headless/webhooks", body)
    assert status == 400 and says in answer["message"] and answer["error"] == {"code": "BAD_REQUEST", "status": 400}


@pytest.mark.parametrize(
    "method, path, query",
    [
        ("GET", "/api/v1/headless/webhooks", ""),
        ("POST", "/api/v1/headless/webhooks", ""),
        ("DELETE", "/api/v1/headless/webhooks/1", ""),
        ("DELETE", "/api/v1/headless/user/anna", ""),
        ("DELETE", "/api/v1/headless/tracking", "id=101&identifier=anna"),
    ],
)
def test_every_endpoint_needs_the_key(api, method, path, query):
    headers = dict(AUTH, Authorization="COASSEMBLE:%s:wrong" % WORKSPACE)
    assert call(api, method, path, {}, headers, query) == (401, UNAUTHORIZED)


def test_erasing_a_user_and_a_tracking(api):
    status, _ = call(
        api,
        "POST",
        "/api/v1/headless/embed/course",
        {"action": "view", "courseId": 101, "identifier": "zoë@example.com"},
    )
    assert status == 200
    user_path = "/api/v1/headless/user/" + "zoë@example.com".encode().decode("latin-1")  # as WSGI gives it
    assert call(api, "DELETE", user_path) == (200, {"message": "User deleted"})
    assert call(api, "DELETE", user_path)[0] == 404  # nothing left
    assert call(api, "DELETE", "/api/v1/headless/tracking", query="id=101&identifier=nobody")[0] == 404
    status, answer = call(api, "DELETE", "/api/v1/headless/tracking", query="identifier=nobody")
    assert status == 400 and "id and identifier are required" in answer["message"]
    assert call(api, "GET", "/api/erasures")[1]["erasures"] == [
        {"method": "DELETE", "path": "user", "identifier": "zoë@example.com", "found": True},
        {"method": "DELETE", "path": "user", "identifier": "zoë@example.com", "found": False},
        {"method": "DELETE", "path": "tracking", "identifier": "nobody", "course": "101", "found": False},
    ]
    assert call(api, "GET", "/api/v1/headless/user/anna")[0] == 405
