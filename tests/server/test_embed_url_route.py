"""POST /api/embed-url, the WSGI application called directly: every status code it answers, with a
fake Coassemble client, then once end to end against the simulated Coassemble API. CPython only."""

import datetime
import json
import sys
import threading
import urllib.parse
import urllib.request
import wsgiref.simple_server
import wsgiref.util

import pytest

from serving import ROOT
from wsgi_client import call_wsgi

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from coursewire.server import coassemble  # noqa: E402
from coursewire.server.coassemble import EmbedUrl  # noqa: E402
from coursewire.server.login import issue_login_token  # noqa: E402
from coursewire.server.settings import Settings  # noqa: E402
from coursewire.server.wsgi import Context, make_app  # noqa: E402
from harness.api import make_app as make_harness_api  # noqa: E402

KEY = "route-test-key-" + "5e" * 24
LOGIN_SECRET = "route-test-login-secret-" + "3c" * 16
EXPIRES = datetime.datetime(2027, 1, 15, 11, 0, 0, 250000, tzinfo=datetime.UTC)


class FakeMint:
    """Stands in for coassemble.mint: records its calls, answers `result` (an EmbedUrl or an error)."""

    def __init__(self):
        self.calls = []
        self.result = EmbedUrl("https://coassemble.example/embed/course/tok", EXPIRES, False)

    def __call__(self, course_id, learner, action="view", settings=None, **extra):
        self.calls.append({"course": course_id, "learner": learner, "action": action, "extra": extra})
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def bearer(learner="anna", **claims):
    return "Bearer " + issue_login_token(LOGIN_SECRET, learner, **claims)


def call(app, body=None, method="POST", content_type="application/json", headers=None, raw=None, login="anna"):
    """One request to the route, signed in as `login` (a learner id, a whole Authorization value
    starting "Bearer ", or None: no login)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    sent = {"Content-Type": content_type, "Host": "127.0.0.1:8000"}
    if login is not None:
        sent["Authorization"] = login if login.startswith("Bearer ") else bearer(login)
    answer = call_wsgi(app, method, "/api/embed-url", data, dict(sent, **(headers or {})))
    return answer.status, answer.headers, answer.json


@pytest.fixture
def fake():
    return FakeMint()


def app_with(fake, allow_edit=False):
    settings = Settings(workspace_id="1000", api_key=KEY, allow_edit=allow_edit, login_secret=LOGIN_SECRET)
    return make_app(context=Context(settings, mint=fake))


def is_one_sentence(text):
    return isinstance(text, str) and text.endswith(".") and ". " not in text and "\n" not in text


# ---- 200 ---------------------------------------------------------------------------------


def test_a_good_request_answers_the_url_and_its_expiry_in_utc(fake):
    status, headers, answer = call(app_with(fake), {"course": 101, "learner": "anna"})
    assert status == 200
    assert answer == {
        "url": "https://coassemble.example/embed/course/tok",
        "expires_at": "2027-01-15T11:00:00Z",
        "learner": "anna",
    }
    assert fake.calls == [{"course": "101", "learner": "anna", "action": "view", "extra": {}}]
    assert headers["Cache-Control"] == "no-store"


def test_edit_is_minted_when_the_server_allows_it(fake):
    status, _, _ = call(
        app_with(fake, allow_edit=True),
        {"course": "4321", "learner": "author-1", "action": "edit"},
        login=bearer("author-1", edit=True),
    )
    assert status == 200 and fake.calls[0]["action"] == "edit"


def test_a_same_site_origin_and_a_json_charset_are_fine(fake):
    status, _, _ = call(
        app_with(fake),
        {"course": 101, "learner": "anna", "action": "view"},
        content_type="application/json; charset=utf-8",
        headers={"Origin": "http://127.0.0.1:8000"},
    )
    assert status == 200


# ---- 400, 413, 415, 405 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, words",
    [
        ({"learner": "anna"}, "needs a course"),
        ({"course": 101, "learner": "anna", "url": "https://evil.example/"}, "Unknown field 'url'"),
        ({"course": 101, "learner": "anna", "options": {"back": "hidden"}}, "Unknown field 'options'"),
        ({"course": "10 1", "learner": "anna"}, "course must be"),
        ({"course": True, "learner": "anna"}, "course must be"),
        ({"course": 101, "learner": ""}, "learner must be"),
        ({"course": 101, "learner": ["anna"]}, "learner must be"),
        ({"course": 101, "learner": "an\u0007na"}, "control characters"),
        ({"course": 101, "learner": "an\u0000na"}, "a NUL character"),
        ({"course": 101, "learner": "x" * 257}, "at most 256"),
        ({"course": 101, "learner": "anna", "action": "delete"}, "action must be"),
        ({"course": 101, "learner": "anna", "action": None}, "action must be"),
    ],
)
def test_bad_input_is_400_with_one_sentence_and_nothing_minted(fake, body, words):
    status, _, answer = call(app_with(fake, allow_edit=True), body)
    assert status == 400 and words in answer["error"] and is_one_sentence(answer["error"])
    assert fake.calls == []


@pytest.mark.parametrize("raw", [b"not json", b"[101, \"anna\"]", b"\xff", b""])
def test_a_body_that_is_not_a_json_object_is_400(fake, raw):
    status, _, answer = call(app_with(fake), raw=raw)
    assert status == 400 and is_one_sentence(answer["error"]) and fake.calls == []


def test_a_large_body_is_413_before_it_is_read(fake):
    status, _, answer = call(app_with(fake), {"course": 101, "learner": "anna", "pad": "x" * 5000})
    assert status == 413 and is_one_sentence(answer["error"]) and fake.calls == []


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_only_json_is_accepted_so_another_site_cannot_post_a_simple_form(fake, content_type):
    status, _, answer = call(app_with(fake), {"course": 101, "learner": "anna"}, content_type=content_type)
    assert status == 415 and is_one_sentence(answer["error"]) and fake.calls == []


def test_other_methods_are_405(fake):
    status, headers, answer = call(app_with(fake), method="GET")
    assert status == 405 and headers["Allow"] == "POST" and is_one_sentence(answer["error"])


# ---- 403 ---------------------------------------------------------------------------------


def test_edit_is_403_unless_the_server_allows_it(fake):
    status, _, answer = call(
        app_with(fake), {"course": 101, "learner": "anna", "action": "edit"}, login=bearer("anna", edit=True)
    )
    assert status == 403 and "COURSEWIRE_ALLOW_EDIT" in answer["error"] and is_one_sentence(answer["error"])
    assert fake.calls == []


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://127.0.0.1:8001", "http://127.0.0.1:8000.evil.example"]
)
def test_a_request_from_another_sites_page_is_403(fake, origin):
    status, _, answer = call(app_with(fake), {"course": 101, "learner": "anna"}, headers={"Origin": origin})
    assert status == 403 and is_one_sentence(answer["error"]) and fake.calls == []


# ---- What Coassemble answered: 404, 502, 503, 504 ------------------------------------------


@pytest.mark.parametrize(
    "error, status, retry_after",
    [
        (
            coassemble.KeyRejected(
                "Coassemble refused the API key (HTTP 401): check COASSEMBLE_WORKSPACE_ID and COASSEMBLE_API_KEY.", 401
            ),
            502,
            None,
        ),
        (
            coassemble.AllowanceUsedUp(
                "Coassemble refused a new learner because the workspace's learner allowance is "
                "used up (HTTP 403: Learner allowance reached).",
                403,
            ),
            502,
            None,
        ),
        (
            coassemble.MintRefused(
                "Coassemble refused the embed URL request (HTTP 400: themeId must be a number).", 400
            ),
            502,
            None,
        ),
        (coassemble.CoassembleUnavailable("Coassemble is not available right now (HTTP 503).", 503), 502, None),
        (coassemble.CoassembleUnavailable("Coassemble could not be reached (connection refused)."), 502, None),
        (
            coassemble.CourseNotFound(
                "Coassemble has no course 101 in this workspace (HTTP 404: Course not found).", 404
            ),
            404,
            None,
        ),
        (coassemble.NotConfigured("Coassemble is not configured: set COASSEMBLE_API_KEY on the server."), 503, None),
        (
            coassemble.RateLimited(
                "Coassemble is receiving too many requests from this server; try again in 23 seconds.", 429, 23
            ),
            503,
            "23",
        ),
        (coassemble.MintTimeout("Coassemble did not answer within 10 seconds."), 504, None),
    ],
)
def test_each_minting_failure_answers_its_status_and_coassembles_reason(fake, error, status, retry_after):
    fake.result = error
    answered, headers, answer = call(app_with(fake), {"course": 101, "learner": "anna"})
    assert answered == status and answer == {"error": error.sentence}
    assert headers.get("Retry-After") == retry_after


def test_an_unexpected_failure_is_500_in_one_sentence(fake, caplog):
    fake.result = RuntimeError("internal detail")
    status, _, answer = call(app_with(fake), {"course": 101, "learner": "anna"})
    assert status == 500 and is_one_sentence(answer["error"]) and "internal detail" not in answer["error"]


# ---- End to end: the real client against the simulated Coassemble API ---------------------


@pytest.fixture
def simulated_coassemble():
    """harness/api.py on a real local port, as serve.py hosts it on the harness origin."""

    class Quiet(wsgiref.simple_server.WSGIRequestHandler):
        def log_message(self, *args):
            pass

    harness = make_harness_api("1000", KEY, token_ttl_s=60, learner_allowance=2)
    server = wsgiref.simple_server.make_server("127.0.0.1", 0, harness, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def real_app(api_url, key=KEY, allow_edit=False):
    return make_app(
        Settings(
            workspace_id="1000",
            api_key=key,
            api_url=api_url,
            allow_edit=allow_edit,
            mint_timeout_s=10,
            login_secret=LOGIN_SECRET,
        )
    )


def test_end_to_end_a_minted_url_opens_a_session_for_that_learner(simulated_coassemble):
    status, _, answer = call(real_app(simulated_coassemble), {"course": 101, "learner": "anna"})
    assert status == 200 and answer["url"].startswith(simulated_coassemble + "/player.html?token=")
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(answer["url"]).query)["token"][0]
    with urllib.request.urlopen(simulated_coassemble + "/api/session?token=" + token, timeout=10) as response:
        session = json.loads(response.read())
    assert session["learner"] == "anna" and session["course"] == 101 and session["action"] == "view"
    # The expiry the host answers is the token's own, not an estimate.
    assert answer["expires_at"] == session["expires_at"][:19] + "Z"


def test_end_to_end_coassembles_refusals_reach_the_browser_as_sentences(simulated_coassemble):
    bodies = []
    for app, body, status, words in [
        (real_app(simulated_coassemble, key="wrong"), {"course": 101, "learner": "anna"}, 502, "refused the API key"),
        (real_app(simulated_coassemble), {"course": 999, "learner": "anna"}, 404, "no course 999"),
        (real_app(simulated_coassemble), {"course": 101, "learner": "anna"}, 200, None),
        (real_app(simulated_coassemble), {"course": 101, "learner": "bob"}, 200, None),  # allowance: 2
        (real_app(simulated_coassemble), {"course": 101, "learner": "carol"}, 502, "learner allowance is used up"),
        (real_app("http://127.0.0.1:9"), {"course": 101, "learner": "anna"}, 502, "could not be reached"),
        (real_app(simulated_coassemble, key=None), {"course": 101, "learner": "anna"}, 503, "not configured"),
    ]:
        answered, _, answer = call(app, body, login=body["learner"])
        bodies.append(json.dumps(answer))
        assert answered == status, answer
        if words:
            assert words in answer["error"] and is_one_sentence(answer["error"].replace("e.g. ", ""))
    assert not any(KEY in body for body in bodies)
