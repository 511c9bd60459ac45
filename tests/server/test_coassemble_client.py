"""coursewire.server.coassemble.mint against a local fake Coassemble API: the exact request, each
answer and failure mapped to its typed error, the timeout honoured, and the key in no error text,
repr, exception chain or log line. CPython only: no browser."""

import base64
import datetime
import http.server
import json
import logging
import socket
import sys
import threading
import time
import traceback

import pytest

from serving import ROOT, free_port

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from coursewire.server import coassemble  # noqa: E402
from coursewire.server.coassemble import (  # noqa: E402
    AllowanceUsedUp,
    CoassembleUnavailable,
    CourseNotFound,
    InvalidMintRequest,
    KeyRejected,
    MintError,
    MintRefused,
    MintTimeout,
    NotConfigured,
    RateLimited,
    mint,
)
from coursewire.server.settings import Settings  # noqa: E402

WORKSPACE = "1000"
SECRET = "c0ffee" * 10 + "beef"  # 64 hex characters, like a real key's secret part
AUTH = "COASSEMBLE:%s:%s" % (WORKSPACE, SECRET)


def jwt(claims):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return "%s.%s.%s" % (part({"alg": "HS256"}), part(claims), "c2lnbmF0dXJl")


class FakeCoassemble:
    """A local HTTP server standing in for Coassemble: records each request and answers with
    `answer(request) -> (status, headers, body)`."""

    def __init__(self):
        self.requests = []
        self.answer = lambda request: (200, {"Content-Type": "text/plain"}, b"https://coassemble.example/embed/x")
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = {"path": self.path, "headers": dict(self.headers), "raw": raw}
                fake.requests.append(request)
                status, headers, body = fake.answer(request)
                if callable(body):
                    return body(self)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client that gave up mid-answer is expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def respond(self, status, body, content_type="application/json", headers=None):
        data = (
            body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        self.answer = lambda request: (status, dict({"Content-Type": content_type}, **(headers or {})), data)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api():
    fake = FakeCoassemble()
    yield fake
    fake.close()


def settings_for(url, key=SECRET, workspace=WORKSPACE, timeout=5.0):
    return Settings(workspace_id=workspace, api_key=key, api_url=url, mint_timeout_s=timeout)


def envelope(status, code, message):
    return {"message": message, "error": {"code": code, "status": status}}


# ---- The request -------------------------------------------------------------------------


def test_the_request_is_exactly_what_coassemble_documents(api):
    mint("4321", "user-42", settings=settings_for(api.url))
    request = api.requests[0]
    assert request["path"] == "/api/v1/headless/embed/course"
    assert request["headers"]["Authorization"] == AUTH  # the whole key, no "Bearer"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["raw"]) == {
        "action": "view",
        "courseId": 4321,
        "identifier": "user-42",
        "options": {"back": "event"},
    }


def test_optional_fields_are_sent_and_the_callers_options_merge_over_back_event(api):
    mint(
        4321,
        "user-42",
        action="edit",
        name="Ada Lovelace",
        client_identifier="acme",
        options={"back": "hidden", "language": "fr"},
        settings=settings_for(api.url),
    )
    mint(None, "author-1", action="edit", settings=settings_for(api.url))
    assert json.loads(api.requests[0]["raw"]) == {
        "action": "edit",
        "courseId": 4321,
        "identifier": "user-42",
        "clientIdentifier": "acme",
        "name": "Ada Lovelace",
        "options": {"back": "hidden", "language": "fr"},
    }
    assert json.loads(api.requests[1]["raw"]) == {
        "action": "edit",
        "identifier": "author-1",
        "options": {"back": "event"},
    }


@pytest.mark.parametrize(
    "key, workspace",
    [
        (AUTH, None),  # the key exactly as Coassemble shows it
        (AUTH, WORKSPACE),
        ("%s:%s" % (WORKSPACE, SECRET), None),  # without the scheme, as the Moodle plugin tolerates
    ],
)
def test_the_key_is_accepted_in_the_forms_coassemble_hands_it_out(api, key, workspace):
    mint("4321", "user-42", settings=settings_for(api.url, key=key, workspace=workspace))
    assert api.requests[0]["headers"]["Authorization"] == AUTH


def test_an_api_url_ending_in_api_is_not_doubled(api):
    mint("4321", "user-42", settings=settings_for(api.url + "/api/"))
    assert api.requests[0]["path"] == "/api/v1/headless/embed/course"


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (("4321", "user-42"), {"action": "delete"}),
        (("4321", "user-42"), {"options": []}),
        (("4321", "user-42"), {"options": "back=event"}),
        ((None, "user-42"), {}),  # the player needs a course
        (("43 21", "user-42"), {}),
        (("4321", ""), {}),
        (("4321", "line\nbreak"), {}),
        (("4321", "user-42"), {"name": "x" * 300}),
    ],
)
def test_arguments_that_cannot_make_a_valid_request_are_refused_before_sending(api, args, kwargs):
    with pytest.raises(InvalidMintRequest) as caught:
        mint(*args, settings=settings_for(api.url), **kwargs)
    assert caught.value.status == 400 and isinstance(caught.value, ValueError)
    assert api.requests == []


# ---- The answer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("https://coassemble.example/embed/course/TOKEN\n", "text/plain"),
        ('"https://coassemble.example/embed/course/TOKEN"', "application/json"),
        ('{"url": "https://coassemble.example/embed/course/TOKEN"}', "application/json"),
    ],
)
def test_the_signed_url_is_read_as_text_json_string_or_object(api, body, content_type):
    api.respond(200, body, content_type)
    assert (
        mint("4321", "user-42", settings=settings_for(api.url)).url == "https://coassemble.example/embed/course/TOKEN"
    )


def test_the_expiry_comes_from_the_jwt_in_the_last_path_segment(api):
    exp = int(time.time()) + 1234
    api.respond(200, "https://coassemble.example/embed/course/" + jwt({"course": 4321, "exp": exp}), "text/plain")
    embed = mint("4321", "user-42", settings=settings_for(api.url))
    assert embed.expires_at == datetime.datetime.fromtimestamp(exp, datetime.UTC)
    assert embed.expires_at.tzinfo is not None and embed.expires_at_is_estimate is False


def test_without_a_readable_expiry_it_is_an_estimate_of_three_hours(api):
    api.respond(200, "https://coassemble.example/embed/course/opaque", "text/plain")
    before = datetime.datetime.now(datetime.UTC)
    embed = mint("4321", "user-42", settings=settings_for(api.url))
    after = datetime.datetime.now(datetime.UTC)
    assert embed.expires_at_is_estimate is True
    assert before + datetime.timedelta(hours=3) <= embed.expires_at <= after + datetime.timedelta(hours=3)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not a url",
        "/embed/course/relative",
        "ftp://coassemble.example/x",
        "javascript:alert(1)",
        "https://",
        "https://user:pass@coassemble.example/x",
        "https://coassemble.example/a b",
        "{}",
        '{"url": 5}',
        "[\"https://coassemble.example/x\"]",
        "<html>maintenance</html>",
        "https://coassemble.example/" + "x" * 9000,
        "https://[::1/embed",
        "https://coassemble.example:port/x",
    ],
)
def test_anything_but_an_absolute_http_url_is_refused(api, body):
    api.respond(200, body, "text/plain")
    with pytest.raises(CoassembleUnavailable) as caught:
        mint("4321", "user-42", settings=settings_for(api.url))
    assert caught.value.status == 502 and "valid signed embed URL" in caught.value.sentence


def test_a_url_that_contains_the_key_never_leaves(api):
    api.respond(200, "https://coassemble.example/embed?k=" + SECRET, "text/plain")
    with pytest.raises(CoassembleUnavailable):
        mint("4321", "user-42", settings=settings_for(api.url))


# ---- Each failure, typed -----------------------------------------------------------------

FAILURES = [
    # (status, body, headers, error class, host status, words in the sentence)
    (401, envelope(401, "UNAUTHORIZED", "Unauthorized"), {}, KeyRejected, 502, "refused the API key"),
    (
        403,
        envelope(403, "FORBIDDEN", "Your plan does not include api_authoring"),
        {},
        KeyRejected,
        502,
        "api_authoring",
    ),
    (
        403,
        envelope(403, "FORBIDDEN", "Learner allowance reached: upgrade your plan"),
        {},
        AllowanceUsedUp,
        502,
        "learner allowance is used up",
    ),
    (403, envelope(403, "LEARNER_LIMIT", "Forbidden"), {}, AllowanceUsedUp, 502, "allowance"),
    (
        402,
        envelope(402, "PAYMENT_REQUIRED", "Identified learner limit exceeded"),
        {},
        AllowanceUsedUp,
        502,
        "allowance",
    ),
    (404, envelope(404, "NOT_FOUND", "Course not found"), {}, CourseNotFound, 404, "no course 4321"),
    (
        400,
        envelope(400, "BAD_REQUEST", "themeId must be a number. Also other things."),
        {},
        MintRefused,
        502,
        "(HTTP 400: themeId must be a number)",
    ),
    (422, "plain reason from a proxy", {}, MintRefused, 502, "plain reason from a proxy"),
    (
        429,
        envelope(429, "TOO_MANY_REQUESTS", "Too many requests"),
        {"Retry-After": "23"},
        RateLimited,
        503,
        "try again in 23 seconds",
    ),
    (500, envelope(500, "INTERNAL_SERVER_ERROR", "boom at line 7"), {}, CoassembleUnavailable, 502, "HTTP 500"),
    (503, "<html><body>Service Unavailable</body></html>", {}, CoassembleUnavailable, 502, "not available"),
]


@pytest.mark.parametrize("status, body, headers, error, host_status, words", FAILURES)
def test_each_refusal_becomes_its_typed_error_with_one_sentence(api, status, body, headers, error, host_status, words):
    api.respond(status, body, "application/json" if isinstance(body, dict) else "text/html", headers)
    with pytest.raises(error) as caught:
        mint("4321", "user-42", settings=settings_for(api.url))
    failure = caught.value
    assert type(failure) is error and failure.status == host_status and failure.coassemble_status == status
    assert words in failure.sentence
    assert failure.sentence.endswith(".") and ". " not in failure.sentence.replace("e.g. ", "")
    assert "<" not in failure.sentence and "line 7" not in failure.sentence  # no markup, no 5xx internals
    if error is RateLimited:
        assert failure.retry_after == 23


def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else(api):
    elsewhere = FakeCoassemble()
    try:
        api.respond(302, b"", headers={"Location": elsewhere.url + "/steal"})
        with pytest.raises(CoassembleUnavailable) as caught:
            mint("4321", "user-42", settings=settings_for(api.url))
        assert "redirect" in caught.value.sentence
        assert elsewhere.requests == []
    finally:
        elsewhere.close()


def test_a_refused_connection_means_coassemble_is_down():
    with pytest.raises(CoassembleUnavailable) as caught:
        mint("4321", "user-42", settings=settings_for("http://127.0.0.1:%d" % free_port()))
    assert caught.value.status == 502 and "connection refused" in caught.value.sentence
    assert caught.value.coassemble_status is None


@pytest.mark.parametrize(
    "settings, words",
    [
        (Settings(workspace_id=WORKSPACE, api_key=None), "COASSEMBLE_API_KEY"),
        (Settings(workspace_id=None, api_key=SECRET), "COASSEMBLE_WORKSPACE_ID"),
        (Settings(workspace_id=WORKSPACE, api_key=SECRET + "\nX-Evil: 1"), "characters an HTTP header"),
        (Settings(workspace_id=WORKSPACE, api_key="secret with spaces " + SECRET), "characters an HTTP header"),
        (Settings(workspace_id="10:00", api_key=SECRET), "COASSEMBLE_WORKSPACE_ID"),
        (Settings(workspace_id="2000", api_key=AUTH), "workspace 1000, not to COASSEMBLE_WORKSPACE_ID 2000"),
        (Settings(workspace_id=WORKSPACE, api_key=SECRET, api_url="ftp://api.coassemble.com"), "COASSEMBLE_API_URL"),
        (
            Settings(workspace_id=WORKSPACE, api_key=SECRET, api_url="https://user:pw@api.coassemble.com"),
            "COASSEMBLE_API_URL",
        ),
        (Settings(workspace_id=WORKSPACE, api_key=SECRET, api_url="http://[::1"), "COASSEMBLE_API_URL"),
    ],
)
def test_missing_or_unusable_configuration_is_not_configured_and_sends_nothing(api, settings, words):
    if settings.api_url.startswith("https://api.coassemble.com"):
        settings.api_url = api.url  # never reach the real service from a test
    with pytest.raises(NotConfigured) as caught:
        mint("4321", "user-42", settings=settings)
    assert caught.value.status == 503 and words in caught.value.sentence
    assert api.requests == []


def test_settings_come_from_the_environment_when_not_given(api, monkeypatch):
    monkeypatch.setenv("COASSEMBLE_WORKSPACE_ID", WORKSPACE)
    monkeypatch.setenv("COASSEMBLE_API_KEY", SECRET)
    monkeypatch.setenv("COASSEMBLE_API_URL", api.url)
    mint("4321", "user-42")
    assert api.requests[0]["headers"]["Authorization"] == AUTH


# ---- The timeout -------------------------------------------------------------------------


def run_bounded(function, limit_s=60):
    """Run `function` on a thread: (raised error, seconds taken). A liveness bound, not a speed check."""
    outcome = {}

    def target():
        started = time.monotonic()
        try:
            function()
        except BaseException as error:  # noqa: B902 - handed back to the test
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit_s)
    assert not thread.is_alive(), "mint() was still waiting after %d s: the timeout is not honoured" % limit_s
    return outcome.get("error"), outcome["seconds"]


def test_a_server_that_never_answers_times_out(capsys):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the kernel; nothing ever reads or answers
    try:
        url = "http://127.0.0.1:%d" % silent.getsockname()[1]
        error, seconds = run_bounded(lambda: mint("4321", "user-42", settings=settings_for(url, timeout=0.5)))
    finally:
        silent.close()
    assert isinstance(error, MintTimeout) and error.status == 504
    assert error.sentence == "Coassemble did not answer within 0.5 seconds."
    with capsys.disabled():
        print("\n[figure] mint() against a silent server, timeout 0.5 s: gave up after %.2f s" % seconds)


def test_a_server_that_trickles_its_answer_is_cut_off_at_the_deadline(api, capsys):
    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):  # one byte every 0.1 s: each read is quick, the whole is 10 s
            handler.wfile.write(b"h")
            handler.wfile.flush()
            time.sleep(0.1)

    api.answer = lambda request: (200, {}, trickle)
    error, seconds = run_bounded(lambda: mint("4321", "user-42", settings=settings_for(api.url, timeout=0.5)))
    assert isinstance(error, MintTimeout)
    with capsys.disabled():
        print("\n[figure] mint() against a 1-byte-per-0.1-s server, timeout 0.5 s: gave up after %.2f s" % seconds)


# ---- The key stays secret ----------------------------------------------------------------


def every_failure(api):
    """(name, settings, answer) for each way mint() can fail, the key set in every one."""

    def answering(status, body, headers=None):
        return lambda: api.respond(status, body, headers=headers)

    cases = [("%d %s" % (f[0], f[3].__name__), settings_for(api.url), answering(f[0], f[1], f[2])) for f in FAILURES]
    cases += [
        (
            "echoes the key",
            settings_for(api.url),
            answering(403, envelope(403, "FORBIDDEN", "Key %s is not valid for %s" % (AUTH, SECRET))),
        ),
        ("echoes the key in plain text", settings_for(api.url), answering(400, "bad key " + SECRET)),
        ("url holds the key", settings_for(api.url), answering(200, "https://x.example/?k=" + SECRET)),
        ("not a url", settings_for(api.url), answering(200, "nonsense")),
        ("redirect", settings_for(api.url), answering(307, b"", {"Location": "http://127.0.0.1:1/"})),
        ("refused", settings_for("http://127.0.0.1:%d" % free_port()), lambda: None),
        ("header injection", settings_for(api.url, key=SECRET + "\r\nX: 1"), lambda: None),
        ("wrong workspace", settings_for(api.url, key=AUTH, workspace="2000"), lambda: None),
        ("bad api url", settings_for("file:///etc/" + SECRET), lambda: None),
    ]
    return cases


def test_no_error_text_repr_chain_or_log_line_contains_the_key(api, caplog):
    caplog.set_level(logging.DEBUG)
    checked = 0
    for name, settings, prepare in every_failure(api):
        prepare()
        with pytest.raises(MintError) as caught:
            mint("4321", "user-42", settings=settings)
        error = caught.value
        texts = [
            str(error),
            repr(error),
            error.sentence,
            "".join(traceback.format_exception(error)),
            json.dumps({k: str(v) for k, v in vars(error).items()}),
        ]
        for text in texts:
            assert SECRET not in text, "%s: %s" % (name, text)
        assert error.__cause__ is None and error.__context__ is None, name  # no chain to internals
        checked += 1
    assert checked == len(every_failure(api))
    assert any(record.levelno == logging.WARNING for record in caplog.records)  # failures are logged...
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records) + caplog.text
    assert SECRET not in logged  # ...without the key
    assert "[redacted]" in logged  # Coassemble's echo of the key was scrubbed, not dropped silently


def test_a_success_logs_nothing_secret_and_the_repr_hides_the_url(api, caplog):
    caplog.set_level(logging.DEBUG)
    api.respond(200, "https://coassemble.example/embed/course/" + jwt({"exp": int(time.time()) + 60}), "text/plain")
    embed = mint("4321", "user-42", settings=settings_for(api.url))
    assert SECRET not in caplog.text and "user-42" not in caplog.text
    assert "embed/course" not in repr(embed) and "coassemble.example" in repr(embed)
    assert SECRET not in repr(settings_for(api.url))


def test_every_public_error_is_a_mint_error_with_a_host_status():
    for error in (
        InvalidMintRequest,
        NotConfigured,
        KeyRejected,
        CourseNotFound,
        AllowanceUsedUp,
        MintRefused,
        RateLimited,
        CoassembleUnavailable,
        MintTimeout,
    ):
        assert issubclass(error, MintError) and error.status in (400, 404, 502, 503, 504)
    assert coassemble.EMBED_PATH == "/api/v1/headless/embed/course"
