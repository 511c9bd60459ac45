"""The routes under gunicorn with 2 workers, unchanged (the production shape), on both backends."""

import json
import socket
import time

import pytest

from coursewire.server.store import open_store
from coursewire.server.wsgi import Context

from .record_client import (
    ADMIN_TOKEN,
    WEBHOOK_SECRET,
    Gunicorn,
    batch,
    delivery_body,
    delivery_headers,
    event,
    http_request,
    settings,
)


@pytest.fixture
def server(database, tmp_path):
    gunicorn = Gunicorn(database, workers=2, log_path=str(tmp_path / "gunicorn.log")).start()
    try:
        yield gunicorn
    finally:
        gunicorn.stop()


def test_webhooks_reports_and_records_under_gunicorn(server, database):
    body = delivery_body("course.commenced", course="101", learner="ada")
    headers = delivery_headers(body)
    first = http_request(server.base, "POST", "/webhooks/coassemble", body, headers)
    assert (first.status, first.json) == (200, {"status": "applied"})
    again = http_request(server.base, "POST", "/webhooks/coassemble", body, headers)
    assert (again.status, again.json) == (200, {"status": "duplicate"})
    forged = dict(headers, **{"X-Coassemble-Signature": "sha256=" + "1" * 64})
    assert http_request(server.base, "POST", "/webhooks/coassemble", body, forged).status == 401

    # The server keeps its token secret in the database: a token issued by another process on
    # the same database (here, the test) is accepted by either worker.
    store = open_store(database)
    try:
        token = Context(settings(token_secret=None), store=store).issue_report_token("101", "ada")
    finally:
        store.close()
    events = batch(token, [event(1, "course:start"), event(2, "course:progress", {"progress": 55})])
    for content_type, expected in (
        ("application/json", {"applied": 2, "duplicates": 0}),
        ("text/plain;charset=UTF-8", {"applied": 0, "duplicates": 2}),
    ):
        answer = http_request(server.base, "POST", "/api/events", events, {"Content-Type": content_type})
        assert (answer.status, answer.json) == (200, expected)

    unauthorised = http_request(server.base, "GET", "/api/records?course=101")
    assert unauthorised.status == 401
    answer = http_request(
        server.base, "GET", "/api/records?course=101", headers={"Authorization": "Bearer " + ADMIN_TOKEN}
    )
    (ada,) = answer.json["records"]
    assert (ada["learner"], ada["progress"], ada["verified_commenced_at"] is not None) == ("ada", 55, True)

    time.sleep(0.2)
    log = server.log_tail()
    assert log.count("Booting worker") == 2
    for secret in (WEBHOOK_SECRET, ADMIN_TOKEN, token):
        assert secret not in log


def test_a_body_announced_over_1_mib_is_refused_413_before_it_is_read(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /webhooks/coassemble HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (1024 * 1024 + 1)
        )
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body) == {"error": "The request body is larger than 1048576 bytes."}


def test_a_chunked_delivery_is_read_and_verified_like_any_other(server):
    import http.client

    body = delivery_body("course.commenced", course="101", learner="chunked")
    headers = delivery_headers(body)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(
            "POST", "/webhooks/coassemble", body=iter([body[:100], body[100:]]), headers=headers, encode_chunked=True
        )
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())) == (200, {"status": "applied"})
    finally:
        conn.close()
    big = iter([b"x" * 65536] * 16 + [b"x"])  # 1 MiB + 1 byte, with no Content-Length to refuse it up front
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", "/webhooks/coassemble", body=big, headers=headers, encode_chunked=True)
        assert conn.getresponse().status == 413
    finally:
        conn.close()
