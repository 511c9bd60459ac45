"""Which pages may mint (and sign staff in), behind reverse proxies: COURSEWIRE_ALLOWED_ORIGINS, or
else the page's Origin against the request's Host, port included. The proxies are simulated by
the headers they pass on (nginx's `Host $host` drops the port, its default `$proxy_host` names the
upstream, X-Forwarded-* come along); the routes are the WSGI application called directly."""

import json
import os
import subprocess
import sys

import pytest

from coursewire.server.coassemble import EmbedUrl
from coursewire.server.http import Refusal, Request, refuse_other_sites
from coursewire.server.settings import Settings
from coursewire.server.wsgi import Context, make_app

from serving import ROOT, free_port
from wsgi_client import call_wsgi

ADMIN_TOKEN = "allowed-origins-admin-token"
PAGE = "https://learn.example:8443"  # the host's site, on a port other than 443
MINT_SENTENCE = "Embed URLs are minted only for this site's own pages"

# What the app receives from a proxy in front of it, for a page at PAGE.
NGINX_HOST = {"Host": "learn.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
NGINX_HTTP_HOST = dict(NGINX_HOST, Host="learn.example:8443")
NGINX_DEFAULT = dict(NGINX_HOST, Host="127.0.0.1:8000")  # no Host line: the upstream's own address


class FakeMint:
    def __init__(self):
        self.calls = []

    def __call__(self, course_id, learner, action="view", settings=None, **extra):
        self.calls.append(course_id)
        return EmbedUrl("https://coassemble.example/embed/course/tok", None, False)


@pytest.fixture(autouse=True)
def record(store):
    """Every app here has a learner record: staff sign-in counts wrong guesses there, and without
    one it answers 503 rather than allow unlimited guesses (coursewire/server/limits.py)."""
    global RECORD
    RECORD = store
    yield store
    RECORD = None


RECORD = None


def app_for(env=None):
    settings = Settings.from_env(
        dict({"COURSEWIRE_ADMIN_TOKEN": ADMIN_TOKEN, "COURSEWIRE_SECRET": "s" * 32}, **(env or {}))
    )
    fake = FakeMint()
    return make_app(context=Context(settings, mint=fake, store=RECORD)), fake


def mint(app, origin, proxy_headers):
    headers = dict(proxy_headers, **{"Content-Type": "application/json", "Origin": origin})
    return call_wsgi(app, "POST", "/api/embed-url", json.dumps({"course": 101, "learner": "anna"}).encode(), headers)


def staff_sign_in(app, origin, proxy_headers):
    headers = dict(proxy_headers, **{"Content-Type": "application/json", "Origin": origin})
    return call_wsgi(app, "POST", "/api/staff-session", json.dumps({"token": ADMIN_TOKEN}).encode(), headers)


def page_origin(origin, proxy_headers, allowed=()):
    """What the check says of a request: the page's origin, None (no Origin), or the Refusal."""
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/embed-url"}
    for name, value in dict(proxy_headers, **({"Origin": origin} if origin is not None else {})).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    try:
        return refuse_other_sites(Request(environ), MINT_SENTENCE + ".", allowed)
    except Refusal as refusal:
        return refusal


def is_one_sentence(text):
    return isinstance(text, str) and text.endswith(".") and ". " not in text and "\n" not in text


# ---- Without COURSEWIRE_ALLOWED_ORIGINS: Host against Origin, port included ------------------


def test_a_proxy_that_drops_the_port_is_refused_with_both_origins_and_the_fix():
    app, fake = app_for()
    answer = mint(app, PAGE, NGINX_HOST)
    assert answer.status == 403 and fake.calls == []
    sentence = answer.json["error"]
    assert sentence == (
        MINT_SENTENCE + ": the page's origin is https://learn.example:8443 but this server was reached as "
        "https://learn.example; behind a proxy, pass the browser's Host on (nginx: proxy_set_header Host "
        "$http_host;) or list the page's origin in COURSEWIRE_ALLOWED_ORIGINS."
    )
    assert is_one_sentence(sentence)
    # The staff sign-in is refused the same way, in its own words.
    refused = staff_sign_in(app, PAGE, NGINX_HOST)
    assert refused.status == 403 and "https://learn.example:8443" in refused.json["error"]
    assert "Set-Cookie" not in refused.headers


def test_a_proxy_that_names_its_upstream_as_host_is_refused_naming_it():
    app, fake = app_for()
    answer = mint(app, "https://learn.example", NGINX_DEFAULT)
    assert answer.status == 403 and fake.calls == []
    assert (
        "the page's origin is https://learn.example but this server was reached as https://127.0.0.1:8000;"
        in answer.json["error"]
    )


def test_a_proxy_that_passes_the_browsers_host_on_is_the_same_site():
    app, _ = app_for()
    assert page_origin(PAGE, NGINX_HTTP_HOST) == PAGE
    assert staff_sign_in(app, PAGE, NGINX_HTTP_HOST).status == 200


@pytest.mark.parametrize(
    "origin, host",
    [
        ("https://learn.example", "learn.example"),  # the default port, as browsers send both
        ("https://learn.example", "learn.example:443"),
        ("http://learn.example", "learn.example:80"),
        ("http://127.0.0.1:8000", "127.0.0.1:8000"),
        ("http://[::1]:8000", "[::1]:8000"),
        ("https://Learn.Example", "learn.EXAMPLE"),
        # TLS ended at the proxy (the app itself is reached over http): only host and port are compared.
        ("https://learn.example:8443", "learn.example:8443"),
    ],
)
def test_default_ports_and_case_do_not_matter(origin, host):
    app, _ = app_for()
    assert page_origin(origin, {"Host": host}) is not None
    assert staff_sign_in(app, origin, {"Host": host}).status == 200


@pytest.mark.parametrize(
    "origin, host",
    [
        ("https://learn.example", "learn.example:8443"),
        ("http://learn.example", "learn.example:443"),  # another port than the page's scheme's own
        ("https://learn.example:8443", "learn.example:443"),
        ("http://127.0.0.1:8000", "127.0.0.1:8001"),
        ("http://127.0.0.1:8000", "localhost:8000"),
        ("http://evil.example", "127.0.0.1:8000"),
        ("http://127.0.0.1:8000.evil.example", "127.0.0.1:8000"),
        ("http://127.0.0.1:8000", ""),
    ],
)
def test_another_host_or_port_is_another_site(origin, host):
    app, fake = app_for()
    answer = mint(app, origin, {"Host": host} if host else {})
    assert answer.status == 403 and fake.calls == [] and is_one_sentence(answer.json["error"])
    assert answer.json["error"].startswith(MINT_SENTENCE + ": ")


def test_forwarded_headers_never_make_another_site_the_same_one():
    # Any client can send X-Forwarded-*: they must not turn a foreign page into this site's own.
    forged = {
        "Host": "127.0.0.1:8000",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "http",
        "Forwarded": "host=evil.example;proto=http",
    }
    app, fake = app_for()
    assert mint(app, "http://evil.example", forged).status == 403 and fake.calls == []


def test_an_opaque_origin_is_refused_in_one_sentence():
    app, fake = app_for()
    answer = mint(app, "null", {"Host": "127.0.0.1:8000"})
    assert answer.status == 403 and fake.calls == [] and is_one_sentence(answer.json["error"])
    assert "opaque origin" in answer.json["error"]


def test_a_request_without_origin_is_not_taken_for_a_page_of_this_site():
    # Browsers send Origin on every POST a page makes: no Origin means no page sent it. The check says
    # so (None, not the page's origin), and the route's own check (the login) is what decides.
    assert page_origin(None, {"Host": "127.0.0.1:8000"}) is None
    assert page_origin("http://127.0.0.1:8000", {"Host": "127.0.0.1:8000"}) == "http://127.0.0.1:8000"
    app, _ = app_for()
    wrong = call_wsgi(
        app,
        "POST",
        "/api/staff-session",
        json.dumps({"token": "a guess"}).encode(),
        {"Content-Type": "application/json", "Host": "127.0.0.1:8000"},
    )
    assert wrong.status == 401


# ---- With COURSEWIRE_ALLOWED_ORIGINS: the list decides ---------------------------------------

ALLOWED = {"COURSEWIRE_ALLOWED_ORIGINS": "https://learn.example:8443  https://WWW.learn.example:443\n"}


def test_listed_origins_may_mint_behind_a_proxy_that_drops_the_port():
    app, _ = app_for(ALLOWED)
    assert page_origin(PAGE, NGINX_HOST, Settings.from_env(ALLOWED).allowed_origins) == PAGE
    assert (
        page_origin("https://www.learn.example", NGINX_DEFAULT, Settings.from_env(ALLOWED).allowed_origins)
        == "https://www.learn.example"
    )
    assert staff_sign_in(app, PAGE, NGINX_HOST).status == 200
    assert staff_sign_in(app, "https://www.learn.example", NGINX_DEFAULT).status == 200


@pytest.mark.parametrize(
    "origin",
    [
        "http://learn.example:8443",  # the scheme counts here: the list names exact origins
        "https://learn.example",
        "https://evil.example",
        "https://learn.example:8443.evil.example",
    ],
)
def test_an_origin_not_listed_is_refused_even_when_it_matches_the_host(origin):
    app, fake = app_for(ALLOWED)
    host = {"Host": origin.split("://", 1)[1]} if origin != "https://learn.example:8443.evil.example" else {}
    answer = mint(app, origin, host)
    assert answer.status == 403 and fake.calls == [] and is_one_sentence(answer.json["error"])
    if origin != "https://learn.example:8443.evil.example":
        assert answer.json["error"] == (
            MINT_SENTENCE + ": the page's origin %s is not in COURSEWIRE_ALLOWED_ORIGINS "
            "(https://learn.example:8443, https://www.learn.example)." % origin
        )


def test_the_list_is_read_normalised():
    assert Settings.from_env(ALLOWED).allowed_origins == ("https://learn.example:8443", "https://www.learn.example")
    assert Settings.from_env({}).allowed_origins == ()
    assert Settings.from_env({"COURSEWIRE_ALLOWED_ORIGINS": "  "}).allowed_origins == ()
    assert "allowed_origins=('https://learn.example:8443'," in repr(Settings.from_env(ALLOWED))


@pytest.mark.parametrize(
    "value",
    [
        "learn.example",
        "https://learn.example/",
        "https://learn.example/app",
        "*",
        "null",
        "ftp://learn.example",
        "https://learn.example:99999",
        "https://user@learn.example",
        "https://learn.example https://x.example?q=1",
    ],
)
def test_a_bad_list_is_one_sentence_at_start_up(value):
    with pytest.raises(ValueError) as raised:
        Settings.from_env({"COURSEWIRE_ALLOWED_ORIGINS": value})
    sentence = str(raised.value)
    assert sentence.startswith("COURSEWIRE_ALLOWED_ORIGINS must list page origins such as https://learn.example")
    assert sentence.endswith(" is not one.") and "\n" not in sentence


def test_serve_py_refuses_a_bad_list_in_one_sentence(tmp_path):
    env = dict(os.environ, COURSEWIRE_ALLOWED_ORIGINS="https://learn.example/")
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "serve.py"),
            "--port",
            str(free_port()),
            "--harness-port",
            str(free_port()),
            "--db",
            str(tmp_path / "r.sqlite3"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "serve.py: COURSEWIRE_ALLOWED_ORIGINS must list page origins such as https://learn.example or "
        "http://127.0.0.1:8000 (scheme://host[:port], no path), separated by spaces; "
        "'https://learn.example/' is not one."
    ]
