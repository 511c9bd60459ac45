"""Signed embed URLs, on both runtimes: the page asks its own server for one (POST /api/embed-url),
the simulated Coassemble API mints it, the course plays; when the token runs out the page mints a
fresh URL on its own and listens to the new session with nothing recorded lost; Reconnect does the
same by hand; a minting failure shows its sentence, never a blank frame; and the API key reaches
nothing the browser or a log sees."""

import base64
import json
import re

import pytest

from conftest import DEMO_KEY, Servers, harness_frame, open_app, serve_env
from serving import free_port, start_serve

SHORT_TTL_S = 6  # long enough for the page to boot and a few answers; short enough for a test


def post(frame, message):
    frame.evaluate("(m) => harness.post(m)", message)


def answer(frame, n):
    post(
        frame,
        {
            "type": "screen",
            "event": "answer",
            "data": {"id": "q%d" % n, "question": "Q%d" % n, "answer": "A%d" % n, "correct": True},
        },
    )


def frame_token(page):
    src = page.evaluate("document.querySelector('#course-frame iframe').src")
    return re.search(r"token=([^&]+)", src).group(1)


def quiz_answers(page):
    return page.eval_on_selector_all("#quiz-log tr td.answer", "cells => cells.map(c => c.textContent)")


@pytest.fixture(scope="module")
def short_servers():
    """serve.py whose simulated Coassemble mints URLs that last SHORT_TTL_S seconds."""
    proc, app, harness = start_serve(args=["--harness-token-ttl", str(SHORT_TTL_S)], env=serve_env())
    yield Servers(app, harness)
    proc.stop()


def test_the_demo_page_mints_its_url_from_the_host_server(page, servers, runtime):
    minted = []
    page.on("request", lambda r: r.url.endswith("/api/embed-url") and minted.append((r.method, r.headers, r.post_data)))
    open_app(page, servers, runtime=runtime, query="learner=grace")
    page.wait_for_selector("#session-status[data-session='ready']")
    assert len(minted) == 1
    method, headers, body = minted[0]
    assert method == "POST" and headers["content-type"] == "application/json"
    assert json.loads(body) == {"course": "101", "learner": "grace", "action": "view"}
    # Signed in through the demo login: the learner is the login token's, not the body's.
    assert headers["authorization"].startswith("Bearer ")
    claims = json.loads(base64.urlsafe_b64decode(headers["authorization"].split(".")[1] + "=="))
    assert claims["sub"] == "grace" and claims["aud"] == "coursewire"
    src = page.evaluate("document.querySelector('#course-frame iframe').src")
    assert src.startswith(servers.harness + "/player.html?token=")
    assert page.input_value("#learner") == "grace"


def test_an_expired_token_is_renewed_on_its_own_and_nothing_recorded_is_lost(page, short_servers, runtime, guard):
    guard.origins |= short_servers.origins()
    open_app(page, short_servers, runtime=runtime, query="learner=ada&burst=0")
    page.wait_for_selector("#session-status[data-session='ready']")
    first = frame_token(page)
    frame = harness_frame(page)
    post(frame, {"type": "course", "event": "progress", "data": {"progress": 40}})
    for n in range(3):
        answer(frame, n)
    page.wait_for_function("document.querySelectorAll('#quiz-log tr').length === 3")
    # The token runs out: the harness posts session:expired, the page mints a fresh URL.
    page.wait_for_function(
        "(t) => !document.querySelector('#course-frame iframe').src.includes(t)",
        arg=first,
        timeout=(SHORT_TTL_S + 20) * 1000,
    )
    page.wait_for_selector("#session-status[data-session='ready']", timeout=30_000)
    assert frame_token(page) != first
    fresh = harness_frame(page)
    fresh.wait_for_function("harness.session && harness.session.status === 'ready'", polling=100)
    answer(fresh, 3)
    post(fresh, {"type": "course", "event": "progress", "data": {"progress": 60}})
    page.wait_for_selector("#progress[aria-valuenow='60']")
    assert sorted(quiz_answers(page)) == ["A0", "A1", "A2", "A3"]  # the first session's answers kept
    page.click("#inspector summary")
    page.wait_for_selector("#event-log li")  # rows are built when the panel opens
    names = page.eval_on_selector_all("#event-log li", "rows => rows.map(r => r.dataset.eventName || null)")
    # One fresh session per expiry (on a busy machine the first may already have expired while
    # Pyodide booted: then `first` was the second session's token, and there is one more of each).
    assert "session:expired" in names and names.count("session:ready") == names.count("session:expired") + 1, str(names)


def test_reconnect_by_hand_mints_a_fresh_url_and_keeps_the_record(page, servers, runtime):
    asked = []
    page.on(
        "request",
        lambda r: (
            asked.append(r.url.split("?")[0].rsplit("/", 2)[-2:])
            if r.url.split("?")[0].endswith(("/demo/login", "/api/embed-url"))
            else None
        ),
    )
    open_app(page, servers, runtime=runtime, query="learner=alan&burst=0")
    page.wait_for_selector("#session-status[data-session='ready']")
    frame = harness_frame(page)
    answer(frame, 1)
    post(frame, {"type": "session", "event": "error", "data": {"message": "Signature expired"}})
    page.wait_for_selector("#session-status[data-session='error']")
    assert page.inner_text("#session-status") == "Session error: Signature expired"
    first = frame_token(page)
    page.click("#reconnect")
    page.wait_for_function("(t) => !document.querySelector('#course-frame iframe').src.includes(t)", arg=first)
    page.wait_for_selector("#session-status[data-session='ready']")
    assert page.is_hidden("#reconnect")
    assert quiz_answers(page) == ["A1"]
    # Each mint, the Reconnect's too, first asks the login for a fresh token.
    assert asked == [["demo", "login"], ["api", "embed-url"]] * 2


@pytest.fixture(scope="module", params=["wrong-key", "api-down"])
def failing_servers(request):
    """serve.py pointed at a Coassemble that refuses its key, or at one that is not there."""
    app_port, harness_port = free_port(), free_port()
    api = "http://localhost:%d" % harness_port if request.param == "wrong-key" else "http://127.0.0.1:%d" % free_port()
    env = serve_env(COASSEMBLE_WORKSPACE_ID="1000", COASSEMBLE_API_KEY="not-the-right-key", COASSEMBLE_API_URL=api)
    proc, app, harness = start_serve(env=env, ports=(app_port, harness_port))
    served = Servers(app, harness)
    served.case = request.param
    yield served
    proc.stop()


def test_a_minting_failure_shows_its_sentence_not_a_blank_frame(page, failing_servers, runtime, guard):
    guard.origins |= failing_servers.origins()
    guard.expect_console_error(r"Failed to load resource: the server responded with a status of 502")
    open_app(page, failing_servers, runtime=runtime)
    page.wait_for_selector("#course-frame .coursewire-mint-error")
    sentence = page.inner_text("#course-frame .coursewire-mint-error")
    assert page.locator("#course-frame iframe").count() == 0
    expected = "refused the api key" if failing_servers.case == "wrong-key" else "could not be reached"
    assert expected in sentence.lower() and sentence.endswith(".") and "\n" not in sentence
    page.wait_for_selector("#session-status[data-session='error']")
    assert page.inner_text("#session-status") == "No course: " + sentence
    assert page.is_visible("#reconnect")
    assert "not-the-right-key" not in page.content()


def test_the_api_key_reaches_no_page_response_console_or_log(page, servers, runtime):
    seen = []
    page.on("console", lambda m: seen.append(m.text))
    page.on("response", lambda r: seen.append(_body(r)))
    for path, query in (("index.html", "script=perfect&speed=0"), ("builder.html", "script=author&speed=0")):
        open_app(page, servers, path, runtime=runtime, query=query)
        frame = harness_frame(page, path.replace("index.html", "player.html"))
        frame.wait_for_selector("html[data-script-done='true']", state="attached", timeout=30_000)
        seen.append(page.content())
        seen.extend(f.content() for f in page.frames)
        seen.append(page.evaluate("JSON.stringify(localStorage)"))
    with open(servers.log_path, encoding="utf-8") as f:
        seen.append(f.read())
    assert len(seen) > 20 and any("token=" in text for text in seen)  # it really looked at the flow
    leaks = [text[:200] for text in seen if DEMO_KEY in text]
    assert leaks == []


def _body(response):
    try:
        return response.text()
    except Exception:  # redirects and bodies the browser did not keep
        return ""


def test_a_learner_is_never_another_learners_record(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query="learner=ada&burst=0")
    page.wait_for_selector("#session-status[data-session='ready']")
    post(harness_frame(page), {"type": "course", "event": "progress", "data": {"progress": 30}})
    page.wait_for_selector("#progress[aria-valuenow='30']")
    open_app(page, servers, runtime=runtime, query="learner=grace&burst=0")
    page.wait_for_selector("#session-status[data-session='ready']")
    assert page.get_attribute("#progress", "aria-valuenow") == "0"
    post(harness_frame(page), {"type": "course", "event": "progress", "data": {"progress": 10}})
    page.wait_for_selector("#progress[aria-valuenow='10']")
    open_app(page, servers, runtime=runtime, query="learner=ada&burst=0")  # a new signed URL, the same record
    page.wait_for_selector("#session-status[data-session='ready']")
    assert page.get_attribute("#progress", "aria-valuenow") == "30"
    keys = page.evaluate("Object.keys(localStorage).filter(k => !/:(outbox|quiz|screens|feedback)(:[0-9]+)?$/.test(k))")
    assert (
        "coursewire:v1:player:course:101:learner:ada" in keys
        and "coursewire:v1:player:course:101:learner:grace" in keys
    )
