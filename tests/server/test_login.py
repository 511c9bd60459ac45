"""The learner comes from the host's login, never from the page: login tokens (JWT, HS256, PyJWT),
identify(environ), and POST /api/embed-url refusing every bad login before Coassemble is called.
Also README's two ways of issuing a token (Python with PyJWT, Node with jsonwebtoken), run as
README shows them, the public report-token function, and serve.py's demo login. CPython only."""

import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import jwt
import pytest

from serving import ROOT, start_serve
from wsgi_client import call_wsgi

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from coursewire.server import tokens  # noqa: E402
from coursewire.server.login import Login, LoginRefused, issue_login_token, verify_login_token  # noqa: E402
from coursewire.server.settings import Settings  # noqa: E402
from coursewire.server.store import open_store  # noqa: E402
from coursewire.server.wsgi import Context, application, make_app  # noqa: E402

from .test_embed_url_route import KEY, FakeMint, is_one_sentence  # noqa: E402

SECRET = "login-test-secret-" + "a7" * 24
OTHER_SECRET = "another-login-secret-" + "b8" * 16
NOW = 1_800_000_000


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**changes):
    value = {"sub": "ada", "aud": "coursewire", "exp": NOW + 600}
    value.update(changes)
    return {k: v for k, v in value.items() if v is not None}


def signed(payload, secret=SECRET, algorithm="HS256", headers=None):
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def unsigned(payload):
    return b64({"alg": "none", "typ": "JWT"}) + "." + b64(payload) + "."


# Every kind of bad login, with the words its sentence holds. Each is also sent to the route below.
BAD_TOKENS = {
    "alg none": (unsigned(claims()), "HS256"),
    "alg None, signed anyway": (b64({"alg": "None"}) + "." + b64(claims()) + ".c2ln", "HS256"),
    "HS512": (signed(claims(), algorithm="HS512"), "HS256"),
    "HS384": (signed(claims(), algorithm="HS384"), "HS256"),
    "RS256 header": (b64({"alg": "RS256", "typ": "JWT"}) + "." + b64(claims()) + ".c2lnbmF0dXJl", "HS256"),
    "no alg": (b64({"typ": "JWT"}) + "." + b64(claims()) + ".c2ln", "HS256"),
    "another audience": (signed(claims(aud="someone-else")), "not for Coursewire"),
    "an audience list": (signed(claims(aud=["coursewire", "other"])), "not for Coursewire"),
    "no audience": (signed(claims(aud=None)), "no aud claim"),
    "expired": (signed(claims(exp=NOW - 1)), "expired"),
    "expires right now": (signed(claims(exp=NOW)), "expired"),
    "more than 24 h ahead": (signed(claims(exp=NOW + 24 * 3600 + 1)), "more than 24 hours"),
    "no exp": (signed(claims(exp=None)), "no exp claim"),
    "exp not a number": (signed(claims(exp="tomorrow")), "Unix seconds"),
    "not valid yet": (signed(claims(nbf=NOW + 60)), "not valid yet"),
    "another secret": (signed(claims(), OTHER_SECRET), "signature"),
    "payload changed after signing": (None, "signature"),  # built below
    "no sub": (signed(claims(sub=None)), "no sub claim"),
    "sub a number": (signed(claims(sub=42)), "sub"),
    "sub with a control character": (signed(claims(sub="ad\u0007a")), "control characters"),
    "sub too long": (signed(claims(sub="x" * 257)), "at most 256"),
    "edit claim not a bool": (signed(claims(coursewire_edit="yes")), "coursewire_edit"),
    "course claim not an id": (signed(claims(course="10 1")), "course"),
    "not a JWT": ("not-a-token", "not a JWT"),
    "garbage in three parts": ("a.b.c", "not a JWT"),
    "too long": ("x" * 5000, "longer than"),
}
_good = signed(claims()).split(".")
BAD_TOKENS["payload changed after signing"] = (
    _good[0] + "." + b64(claims(sub="mallory")) + "." + _good[2],
    "signature",
)


# ---- verify_login_token / issue_login_token ------------------------------------------------


def test_a_good_token_says_who_the_learner_is():
    token = issue_login_token(SECRET, "ada", ttl_s=600, now=NOW)
    assert verify_login_token(token, SECRET, now=NOW + 599) == Login("ada", False, None, None)
    full = issue_login_token(SECRET, "grace@example.org", ttl_s=60, course=101, name="Grace Hopper", edit=True, now=NOW)
    assert verify_login_token(full, SECRET.encode(), now=NOW) == Login("grace@example.org", True, "Grace Hopper", "101")
    header = jwt.get_unverified_header(full)
    assert header["alg"] == "HS256"
    assert (
        jwt.decode(
            full,
            SECRET,
            algorithms=["HS256"],
            audience="coursewire",
            options={"verify_exp": False, "verify_iat": False},
        )["coursewire_edit"]
        is True
    )


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_every_bad_token_is_refused_in_one_sentence(kind):
    token, words = BAD_TOKENS[kind]
    with pytest.raises(LoginRefused) as refused:
        verify_login_token(token, SECRET, now=NOW)
    sentence = str(refused.value)
    assert words.lower() in sentence.lower() and is_one_sentence(sentence), sentence
    assert token[:40] not in sentence and SECRET not in sentence


def test_a_token_is_refused_once_it_has_expired():
    token = issue_login_token(SECRET, "ada", ttl_s=60, now=NOW)
    verify_login_token(token, SECRET, now=NOW + 59)
    with pytest.raises(LoginRefused, match="expired"):
        verify_login_token(token, SECRET, now=NOW + 60)


@pytest.mark.parametrize("secret", ["", "short", None, "x" * 31])
def test_a_secret_too_short_to_be_safe_is_refused_in_one_sentence(secret):
    with pytest.raises(ValueError, match="at least 32 characters"):
        issue_login_token(secret, "ada")
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings.from_env({"COURSEWIRE_LOGIN_SECRET": secret or "y"})


def test_the_login_secret_is_read_from_the_environment_and_never_shown():
    settings = Settings.from_env({"COURSEWIRE_LOGIN_SECRET": SECRET})
    assert settings.login_secret == SECRET
    assert SECRET not in repr(settings) and "login_secret='<set>'" in repr(settings)
    assert Settings.from_env({}).login_secret is None


# ---- POST /api/embed-url: the learner is the login's ----------------------------------------


def app_with(
    fake, login_secret=SECRET, allow_edit=False, identify=None, clock=lambda: NOW, store=None, token_secret=None
):
    settings = Settings(
        workspace_id="1000", api_key=KEY, allow_edit=allow_edit, login_secret=login_secret, token_secret=token_secret
    )
    return make_app(context=Context(settings, mint=fake, clock=clock, store=store), identify=identify)


def post(app, body, authorization=None, environ_extra=None):
    headers = {"Content-Type": "application/json", "Host": "127.0.0.1:8000"}
    if authorization is not None:
        headers["Authorization"] = authorization
    answer = call_wsgi(app, "POST", "/api/embed-url", json.dumps(body).encode(), dict(headers, **(environ_extra or {})))
    return answer.status, answer.headers, answer.json


def token(learner="ada", **extra):
    return "Bearer " + issue_login_token(SECRET, learner, ttl_s=600, now=NOW, **extra)


@pytest.fixture
def fake():
    return FakeMint()


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_every_bad_login_is_401_and_coassemble_is_not_called(fake, kind):
    status, headers, answer = post(app_with(fake), {"course": 101}, "Bearer " + BAD_TOKENS[kind][0])
    assert status == 401 and is_one_sentence(answer["error"]), answer
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert fake.calls == []


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer   ", "Basic YWRhOnB3", "ada", "Token " + issue_login_token(SECRET, "ada", now=NOW)],
)
def test_an_anonymous_request_is_401_whatever_the_body_says(fake, authorization):
    status, _, answer = post(app_with(fake), {"course": 101, "learner": "ada"}, authorization)
    assert status == 401 and "Sign in" in answer["error"] and is_one_sentence(answer["error"])
    assert fake.calls == []


def test_with_no_login_configured_the_route_answers_503(fake):
    for authorization in (None, token()):
        status, _, answer = post(app_with(fake, login_secret=None), {"course": 101, "learner": "ada"}, authorization)
        assert status == 503 and "COURSEWIRE_LOGIN_SECRET" in answer["error"] and is_one_sentence(answer["error"])
    assert fake.calls == []


def test_a_valid_login_mints_for_its_sub_only(fake):
    status, _, answer = post(app_with(fake), {"course": 101}, token("ada"))
    assert status == 200 and answer["learner"] == "ada"
    status, _, answer = post(app_with(fake), {"course": 101, "learner": "ada"}, token("ada"))
    assert status == 200 and answer["learner"] == "ada"
    assert [call["learner"] for call in fake.calls] == ["ada", "ada"]


def test_a_body_naming_another_learner_is_403_and_nothing_is_minted(fake):
    status, _, answer = post(app_with(fake), {"course": 101, "learner": "cfo@victim.example"}, token("ada"))
    assert status == 403 and "another learner" in answer["error"] and is_one_sentence(answer["error"])
    assert "cfo@victim.example" not in answer["error"]
    assert fake.calls == []


def test_a_token_for_one_course_mints_that_course_only(fake):
    status, _, answer = post(app_with(fake), {"course": 102}, token("ada", course=101))
    assert status == 403 and "another course" in answer["error"] and fake.calls == []
    status, _, _ = post(app_with(fake), {"course": "101"}, token("ada", course=101))
    assert status == 200 and fake.calls[0]["course"] == "101"


def test_the_logins_name_goes_to_coassemble(fake):
    post(app_with(fake), {"course": 101}, token("ada", name="Ada Lovelace"))
    assert fake.calls[0]["extra"] == {"name": "Ada Lovelace"}


@pytest.mark.parametrize(
    "allow_edit, claim, status", [(False, False, 403), (False, True, 403), (True, False, 403), (True, True, 200)]
)
def test_the_builder_needs_allow_edit_and_the_authoring_claim(fake, allow_edit, claim, status):
    answered, _, answer = post(
        app_with(fake, allow_edit=allow_edit), {"course": 101, "action": "edit"}, token("author", edit=claim)
    )
    assert answered == status, answer
    if status == 403:
        assert ("COURSEWIRE_ALLOW_EDIT" if not allow_edit else "coursewire_edit") in answer["error"]
        assert fake.calls == []
    else:
        assert fake.calls == [{"course": "101", "learner": "author", "action": "edit", "extra": {}}]


def test_the_report_token_binds_the_logins_learner(fake, tmp_path):
    store = open_store(str(tmp_path / "record.sqlite3"))
    try:
        context = Context(
            Settings(workspace_id="1000", api_key=KEY, login_secret=SECRET), mint=fake, clock=lambda: NOW, store=store
        )
        status, _, answer = post(make_app(context=context), {"course": 101}, token("ada"))
        assert status == 200
        assert context.read_report_token(answer["report_token"]) == ("101", "ada")
    finally:
        store.close()


# ---- identify(environ): a host's own session says who is signed in ---------------------------


@pytest.mark.parametrize(
    "answer, learner, edit",
    [
        ("grace", "grace", False),
        (42, "42", False),
        ({"learner": "grace", "edit": True, "name": "Grace Hopper"}, "grace", True),
        ({"learner": "grace"}, "grace", False),
    ],
)
def test_identify_says_who_is_signed_in(fake, answer, learner, edit):
    seen = []

    def identify(environ):
        seen.append(environ.get("HTTP_COOKIE"))
        return answer

    app = app_with(fake, login_secret=None, allow_edit=True, identify=identify)
    status, _, minted = post(
        app, {"course": 101, "action": "edit" if edit else "view"}, environ_extra={"Cookie": "session=abc"}
    )
    assert status == 200 and minted["learner"] == learner
    assert fake.calls[0]["learner"] == learner and seen == ["session=abc"]
    if isinstance(answer, dict) and answer.get("name"):
        assert fake.calls[0]["extra"] == {"name": "Grace Hopper"}
    if not edit:  # a plain learner id never opens the builder
        status, _, refused = post(app, {"course": 101, "action": "edit"})
        assert status == 403 and "coursewire_edit" in refused["error"]


def test_identify_answering_none_is_401_and_coassemble_is_not_called(fake):
    app = app_with(fake, login_secret=None, identify=lambda environ: None)
    status, _, answer = post(app, {"course": 101, "learner": "ada"}, token("ada"))
    assert status == 401 and is_one_sentence(answer["error"]) and fake.calls == []
    # With a login secret too, a token still signs in whoever has one.
    status, _, answer = post(app_with(fake, identify=lambda environ: None), {"course": 101}, token("ada"))
    assert status == 200 and answer["learner"] == "ada"


def test_the_body_cannot_override_identify(fake):
    app = app_with(fake, login_secret=None, identify=lambda environ: "grace")
    status, _, answer = post(app, {"course": 101, "learner": "ada"})
    assert status == 403 and fake.calls == []


def test_identify_naming_an_unusable_learner_id_is_403_in_one_sentence(fake):
    app = app_with(fake, login_secret=None, identify=lambda environ: {"learner": "bad\nid"})
    status, _, answer = post(app, {"course": 101})
    assert status == 403 and "control characters" in answer["error"] and fake.calls == []


def test_application_takes_identify_too(monkeypatch):
    # gunicorn's factory, built from the environment: with identify= and no login secret, a
    # request is minted for whoever identify() says (here Coassemble is not configured: 503 from
    # Coassemble's side proves the login part let it through), and nobody signed in is 401.
    for name in list(os.environ):
        if name.startswith(("COASSEMBLE_", "COURSEWIRE_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    app = application(identify=lambda environ: environ.get("HTTP_X_USER"))
    status, _, answer = post(app, {"course": 101}, environ_extra={"X-User": "grace"})
    assert status == 503 and "Coassemble is not configured" in answer["error"]
    status, _, answer = post(app, {"course": 101})
    assert status == 401
    status, _, answer = post(application(), {"course": 101})
    assert status == 503 and "COURSEWIRE_LOGIN_SECRET" in answer["error"]


# ---- A host's own backend: the public report-token function -----------------------------------


def test_new_report_token_is_the_token_the_stock_events_route_takes(tmp_path):
    database = str(tmp_path / "record.sqlite3")
    settings = Settings(database=database)
    token_text = tokens.new_report_token("101", "ada", settings)
    app = make_app(Settings(database=database))
    batch = {
        "token": token_text,
        "session": "host-backend-1",
        "learner": "ada",
        "events": [
            {
                "seq": 1,
                "type": "course",
                "event": "progress",
                "data": {"progress": 30},
                "time": "2026-11-28T09:00:00.000Z",
            }
        ],
    }
    answer = call_wsgi(app, "POST", "/api/events", json.dumps(batch).encode(), {"Content-Type": "application/json"})
    assert answer.status == 200 and answer.json["applied"] == 1
    batch["learner"] = "bob"
    answer = call_wsgi(app, "POST", "/api/events", json.dumps(batch).encode(), {"Content-Type": "application/json"})
    assert answer.status == 401
    # With COURSEWIRE_SECRET the token is signed with it, no database needed.
    fixed = Settings(token_secret="fixed-" + "9" * 40)
    assert tokens.read_report_token(fixed.token_secret, tokens.new_report_token(101, "ada", fixed), time.time()) == (
        "101",
        "ada",
    )
    with pytest.raises(ValueError, match="COURSEWIRE_SECRET"):
        tokens.new_report_token("101", "ada", Settings())


# ---- README's issuing snippets, run as README shows them ----------------------------------------


def readme_block(language, marker):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    blocks = [b for b in re.findall(r"```%s\n(.*?)```" % language, text, re.S) if marker in b]
    assert len(blocks) == 1, "README shows one %s block with %r" % (language, marker)
    return blocks[0]


def test_readmes_python_snippet_issues_a_token_the_route_accepts(fake, monkeypatch):
    monkeypatch.setenv("COURSEWIRE_LOGIN_SECRET", SECRET)
    scope = {}
    exec(readme_block("python", "jwt.encode("), scope)  # noqa: S102 (README's own code)

    class User:
        id, name = "ada@example.org", "Ada Lovelace"

    issued = scope["login_token"](User())
    status, _, answer = post(app_with(fake, clock=time.time), {"course": 101}, "Bearer " + issued)
    assert status == 200 and answer["learner"] == "ada@example.org"
    assert fake.calls[0]["extra"] == {"name": "Ada Lovelace"}


def test_readmes_node_snippet_issues_a_token_the_route_accepts(fake):
    program = (
        'const user = {id: "grace@example.org", name: "Grace Hopper"};\n'
        + readme_block("js", "jsonwebtoken")
        + "\nprocess.stdout.write(token);\n"
    )
    issued = subprocess.run(
        ["node", "-e", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, COURSEWIRE_LOGIN_SECRET=SECRET),
        check=True,
    ).stdout
    assert jwt.get_unverified_header(issued)["alg"] == "HS256"
    status, _, answer = post(app_with(fake, clock=time.time), {"course": 101}, "Bearer " + issued)
    assert status == 200 and answer["learner"] == "grace@example.org"
    # The same Node token signed with another secret is refused, before Coassemble.
    forged = subprocess.run(
        ["node", "-e", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, COURSEWIRE_LOGIN_SECRET=OTHER_SECRET),
        check=True,
    ).stdout
    status, _, _ = post(app_with(fake, clock=time.time), {"course": 101}, "Bearer " + forged)
    assert status == 401 and len(fake.calls) == 1


# ---- serve.py's demo login ---------------------------------------------------------------------


def fetch(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def mint_on(origin, body, login=None):
    headers = {"Content-Type": "application/json"}
    if login:
        headers["Authorization"] = "Bearer " + login
    return fetch(origin + "/api/embed-url", json.dumps(body).encode(), headers)


def test_serves_demo_login_signs_for_the_learner_asked_and_the_route_takes_no_one_else(servers):
    status, headers, answer = fetch(servers.app + "/demo/login?learner=demo-login-grace")
    assert status == 200 and headers["Cache-Control"] == "no-store" and "Access-Control-Allow-Origin" not in headers
    login = answer["token"]
    claims_seen = jwt.decode(login, options={"verify_signature": False})
    assert claims_seen["sub"] == "demo-login-grace" and claims_seen["aud"] == "coursewire"
    assert 3500 <= claims_seen["exp"] - time.time() <= 3600 and "coursewire_edit" not in claims_seen
    status, _, answer = mint_on(servers.app, {"course": 101}, login)
    assert status == 200 and answer["learner"] == "demo-login-grace"
    # The issue's reproduction: an anonymous request naming a victim.
    status, _, answer = mint_on(servers.app, {"course": 101, "learner": "cfo@victim.example"})
    assert status == 401 and is_one_sentence(answer["error"])
    status, _, answer = mint_on(servers.app, {"course": 101, "learner": "cfo@victim.example"}, login)
    assert status == 403
    # The builder needs the authoring claim, which only &edit=1 asks for.
    status, _, _ = mint_on(servers.app, {"course": 101, "action": "edit"}, login)
    assert status == 403
    status, _, builder = fetch(servers.app + "/demo/login?learner=demo-author&edit=1")
    status, _, answer = mint_on(servers.app, {"course": 101, "action": "edit"}, builder["token"])
    assert status == 200 and answer["learner"] == "demo-author"


@pytest.mark.parametrize("query", ["", "learner=", "learner=a%07b", "learner=" + "x" * 300])
def test_serves_demo_login_refuses_a_bad_learner_in_one_sentence(servers, query):
    status, _, answer = fetch(servers.app + "/demo/login?" + query)
    assert status == 400 and "?learner=" in answer["error"] and is_one_sentence(answer["error"])


def test_with_a_login_secret_of_its_own_serve_py_has_no_demo_login():
    from conftest import serve_env

    proc, app, _ = start_serve(env=serve_env(COURSEWIRE_LOGIN_SECRET=SECRET))
    try:
        status, _, answer = fetch(app + "/demo/login?learner=ada")
        assert status == 404 and "COURSEWIRE_LOGIN_SECRET" in answer["error"]
        status, _, answer = mint_on(app, {"course": 101}, issue_login_token(SECRET, "ada"))
        assert status == 200 and answer["learner"] == "ada"
        with open(proc.log_path, encoding="utf-8") as f:
            output = f.read()
        assert "login tokens signed with COURSEWIRE_LOGIN_SECRET" in output and SECRET not in output
    finally:
        proc.stop()


def test_serves_demo_login_answers_head_as_get_without_a_body(servers):
    # Read off the socket: an HTTP client library drops a body after HEAD on its own.
    import socket
    import urllib.parse

    from serving import read_to_close

    where = urllib.parse.urlsplit(servers.app)
    with socket.create_connection((where.hostname, where.port), timeout=30) as conn:
        conn.sendall(
            b"HEAD /demo/login?learner=ada HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % where.netloc.encode()
        )
        answer = read_to_close(conn)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: " in head and b"Content-Length: 0" not in head
    assert body == b""
