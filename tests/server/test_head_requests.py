"""HEAD on every server route answers as GET would — the same status and headers — with no body
(issue 19, item 8: HEAD answered 405 with a body where GET answered 401)."""

import pytest

from coursewire.server.wsgi import ROUTES, make_app

from .record_client import WsgiClient, settings

PATHS = sorted(set(path for _, path in ROUTES)) + [
    "/api/nothing-here",
    "/api/learners/ada%40example.com",
    "/api/learners/ada@example.com/export",
]


@pytest.fixture
def client():
    return WsgiClient(make_app(settings()))


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_like_get_without_a_body(client, path):
    get = client.request("GET", path)
    head = client.request("HEAD", path)
    assert head.status == get.status, (path, head, get)
    assert head.body == b"" and get.body != b""
    assert head.headers == get.headers  # Content-Length included: what GET would send


def test_head_is_allowed_wherever_get_is():
    client = WsgiClient(make_app(settings()))
    answer = client.request("DELETE", "/api/records")
    assert answer.status == 405 and answer.headers["Allow"] == "GET, HEAD"
    answer = client.request("HEAD", "/webhooks/coassemble")
    assert answer.status == 405 and answer.headers["Allow"] == "POST" and answer.body == b""
