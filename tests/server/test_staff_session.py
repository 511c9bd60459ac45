"""/api/staff-session: the admin token buys a signed, expiring HttpOnly cookie; the records API
takes that cookie or the Bearer header, never the admin token in a cookie or in the URL."""

import json
import logging

import pytest

from coursewire.server import staff_session
from coursewire.server.wsgi import Context, make_app

from .record_client import ADMIN_TOKEN, TOKEN_SECRET, WEBHOOK_SECRET, Clock, WsgiClient, batch, event, settings

NOW = 1_800_000_000.0
JSON = {"Content-Type": "application/json"}
TWELVE_HOURS = 12 * 3600


@pytest.fixture
def clock():
    return Clock(NOW)  # (context and client: tests/server/conftest.py)


def sign_in(client, token=ADMIN_TOKEN, headers=None):
    return client.request(
        "POST", "/api/staff-session", json.dumps({"token": token}).encode(), dict(JSON, **(headers or {}))
    )


def cookie_of(answer):
    """The cookie's value and its attributes, from the Set-Cookie header."""
    name_value, *attributes = [part.strip() for part in answer.headers["Set-Cookie"].split(";")]
    name, _, value = name_value.partition("=")
    assert name == staff_session.COOKIE_NAME
    return value, attributes


def records(client, cookie=None, headers=None, query="course=101"):
    headers = dict(headers or {})
    if cookie is not None:
        headers["Cookie"] = "%s=%s" % (staff_session.COOKIE_NAME, cookie)
    return client.request("GET", "/api/records", query=query, headers=headers)


def report_progress(client, context, learner="ada", progress=40):
    token = context.issue_report_token("101", learner)
    answer = client.request(
        "POST", "/api/events", batch(token, [event(1, "course:progress", {"progress": progress})]), JSON
    )
    assert answer.status == 200, answer


def test_signing_in_sets_an_httponly_strict_expiring_cookie_that_holds_no_secret(client):
    answer = sign_in(client)
    assert answer.status == 200, answer
    assert answer.json == {"signed_in": True, "expires_at": "2027-01-15T20:00:00Z"}  # NOW + 12 h
    value, attributes = cookie_of(answer)
    assert set(attributes) == {"Path=/api", "Max-Age=%d" % TWELVE_HOURS, "HttpOnly", "SameSite=Strict"}
    for secret in (ADMIN_TOKEN, TOKEN_SECRET, WEBHOOK_SECRET):
        assert secret not in value and secret not in answer.body.decode()
    assert sign_in(client).headers["Set-Cookie"] != answer.headers["Set-Cookie"]  # a fresh session each time


def test_the_cookie_is_secure_when_the_request_came_over_https(client):
    _, attributes = cookie_of(sign_in(client, headers={"X-Forwarded-Proto": "https"}))
    assert "Secure" in attributes


def test_the_records_are_reachable_with_the_cookie(client, context):
    report_progress(client, context, "ada", 40)
    value, _ = cookie_of(sign_in(client))
    answer = records(client, value)
    assert answer.status == 200, answer
    assert [(r["learner"], r["progress"]) for r in answer.json["records"]] == [("ada", 40)]
    status = client.request(
        "GET", "/api/staff-session", headers={"Cookie": "%s=%s" % (staff_session.COOKIE_NAME, value)}
    )
    assert status.json == {"signed_in": True, "expires_at": "2027-01-15T20:00:00Z"}
    # Beside other cookies, and when the browser also sends a stale one of the same name.
    many = "theme=dark; %s=cws1.stale.cookie; %s=%s; lang=en" % (
        staff_session.COOKIE_NAME,
        staff_session.COOKIE_NAME,
        value,
    )
    assert client.request("GET", "/api/records", query="course=101", headers={"Cookie": many}).status == 200


def test_without_a_session_the_page_can_ask_without_getting_a_401(client):
    answer = client.request("GET", "/api/staff-session")
    assert (answer.status, answer.json) == (200, {"signed_in": False})
    assert "Set-Cookie" not in answer.headers


@pytest.mark.parametrize(
    "token",
    [
        "wrong",
        ADMIN_TOKEN[:-1],
        ADMIN_TOKEN + "x",
        " " + ADMIN_TOKEN,
        ADMIN_TOKEN.upper(),
        "Bearer " + ADMIN_TOKEN,
        TOKEN_SECRET,
        "é" * 30,
    ],
)
def test_a_wrong_token_is_refused_401_in_one_sentence_and_sets_no_cookie(client, context, token, caplog):
    report_progress(client, context)
    with caplog.at_level(logging.DEBUG):
        answer = sign_in(client, token)
    assert answer.status == 401, answer
    assert answer.json == {"error": "That is not this server's admin token."}
    assert "Set-Cookie" not in answer.headers
    assert token not in caplog.text and ADMIN_TOKEN not in caplog.text


@pytest.mark.parametrize(
    "body, headers, status",
    [
        (b'{"token": ""}', JSON, 400),
        (b'{"token": 12345}', JSON, 400),
        (b'{"token": null}', JSON, 400),
        (b"{}", JSON, 400),
        (('{"token": "%s", "admin": true}' % ADMIN_TOKEN).encode(), JSON, 400),
        (b"token=" + ADMIN_TOKEN.encode(), {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        (('{"token": "%s"}' % ADMIN_TOKEN).encode(), {"Content-Type": "text/plain"}, 415),
        (b"not json", JSON, 400),
        (b"[]", JSON, 400),
        (json.dumps({"token": "x" * 5000}).encode(), JSON, 413),
        (json.dumps({"token": "x" * 2000}).encode(), JSON, 400),
        (
            ('{"token": "%s"}' % ADMIN_TOKEN).encode(),
            dict(JSON, Origin="http://evil.example", Host="127.0.0.1:8000"),
            403,
        ),
        (('{"token": "%s"}' % ADMIN_TOKEN).encode(), dict(JSON, Origin="null", Host="127.0.0.1:8000"), 403),
    ],
)
def test_a_bad_sign_in_is_refused_with_its_status_and_one_sentence(client, body, headers, status):
    answer = client.request("POST", "/api/staff-session", body, headers)
    assert answer.status == status, answer
    sentence = answer.json["error"]
    assert sentence.endswith(".") and sentence.count(". ") == 0 and ADMIN_TOKEN not in sentence
    assert "Set-Cookie" not in answer.headers


def test_a_sign_in_from_this_sites_own_page_is_accepted(client):
    answer = sign_in(client, headers={"Origin": "http://127.0.0.1:8000", "Host": "127.0.0.1:8000"})
    assert answer.status == 200


def test_an_expired_session_is_refused_and_the_page_is_told_to_sign_in_again(client, clock):
    value, _ = cookie_of(sign_in(client))
    clock.now += TWELVE_HOURS - 1
    assert records(client, value).status == 200
    clock.now += 1
    answer = records(client, value)
    assert answer.status == 401
    assert answer.json == {"error": "Your staff session has expired: sign in again."}
    assert client.request(
        "GET", "/api/staff-session", headers={"Cookie": "%s=%s" % (staff_session.COOKIE_NAME, value)}
    ).json == {"signed_in": False}


def _tampered(value):
    body, mac = value[len("cws1.") :].split(".")
    claims = json.loads(staff_session._unb64(body))
    claims["x"] += 10**6  # a longer session, with the old signature
    return "cws1." + staff_session._b64(json.dumps(claims).encode()) + "." + mac


@pytest.mark.parametrize(
    "forge",
    [
        "admin token itself",
        "bearer form",
        "tampered expiry",
        "other secret",
        "rotated admin token",
        "empty",
        "garbage",
        "flipped mac",
        "huge",
    ],
)
def test_a_forged_or_foreign_cookie_is_refused_401(client, forge):
    value, _ = cookie_of(sign_in(client))
    cookie = {
        "admin token itself": ADMIN_TOKEN,
        "bearer form": "Bearer " + ADMIN_TOKEN,
        "tampered expiry": _tampered(value),
        "other secret": staff_session.issue_session("another-secret", ADMIN_TOKEN, NOW),
        "rotated admin token": staff_session.issue_session(TOKEN_SECRET, "the-previous-admin-token", NOW),
        "empty": "",
        "garbage": "cws1.%%%.***",
        "flipped mac": value[:-2] + ("AA" if value[-2:] != "AA" else "BB"),
        "huge": "cws1." + "A" * 5000 + ".x",
    }[forge]
    answer = records(client, cookie)
    assert answer.status == 401, answer
    assert answer.json["error"] in (
        "Your staff session is not valid: sign in again.",
        "Sign in as staff on the report page, or send Authorization: Bearer and the admin token.",
    )
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "query",
    [
        "course=101&token=%s" % ADMIN_TOKEN,
        "course=101&access_token=%s" % ADMIN_TOKEN,
        "course=101&admin_token=%s" % ADMIN_TOKEN,
        "course=101&authorization=Bearer+%s" % ADMIN_TOKEN,
    ],
)
def test_the_admin_token_in_the_url_opens_nothing(client, context, query):
    report_progress(client, context)
    answer = records(client, query=query)
    assert answer.status in (400, 401), answer
    assert "records" not in answer.json and "ada" not in answer.body.decode()


def test_a_wrong_bearer_header_is_refused_even_beside_a_valid_cookie(client):
    value, _ = cookie_of(sign_in(client))
    answer = records(client, value, headers={"Authorization": "Bearer wrong"})
    assert answer.status == 401
    assert records(client, headers={"Authorization": "Bearer " + ADMIN_TOKEN}).status == 200  # curl, scripts


def test_signing_out_clears_the_cookie(client):
    sign_in(client)
    answer = client.request("DELETE", "/api/staff-session")
    assert (answer.status, answer.json) == (200, {"signed_in": False})
    value, attributes = cookie_of(answer)
    assert value == "" and "Max-Age=0" in attributes
    assert {"Path=/api", "HttpOnly", "SameSite=Strict"} <= set(attributes)  # the same cookie, or it would not clear
    refused = client.request(
        "DELETE", "/api/staff-session", headers={"Origin": "http://evil.example", "Host": "127.0.0.1"}
    )
    assert refused.status == 403 and "Set-Cookie" not in refused.headers


def test_without_an_admin_token_configured_sign_in_and_records_answer_503(store):
    client = WsgiClient(make_app(context=Context(settings(admin_token=None), store=store)))
    for answer in (sign_in(client, "anything"), client.request("GET", "/api/staff-session"), records(client, "x")):
        assert answer.status == 503, answer
        assert answer.json["error"].endswith("set COURSEWIRE_ADMIN_TOKEN.")
    # Nothing to sign in to, but signing out still clears whatever the browser holds.
    assert client.request("DELETE", "/api/staff-session").status == 200


def test_a_session_survives_a_restart_with_the_databases_own_secret(store, clock):
    """Without COURSEWIRE_SECRET the store's generated secret signs sessions: a restart keeps them."""
    first = WsgiClient(make_app(context=Context(settings(token_secret=None), clock=clock, store=store)))
    value, _ = cookie_of(sign_in(first))
    again = WsgiClient(make_app(context=Context(settings(token_secret=None), clock=clock, store=store)))
    assert records(again, value).status == 200
    assert records(WsgiClient(make_app(context=Context(settings(), clock=clock, store=store))), value).status == 401
