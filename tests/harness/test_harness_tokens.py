"""The simulated player and builder check their signed token, in real Chromium, through serve.py:
URLs minted by the app's POST /api/embed-url from the simulated Coassemble API (the demo flow),
embedded by a recorder page on a third origin that keeps every message the frame posts."""

import json
import os
import re
import time
import urllib.parse
import urllib.request

import pytest

from serving import start_serve

RECORDER_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>recorder</title></head>
<body><iframe id="course" width="700" height="560" title="course"></iframe>
<script>
  window.received = [];
  const frame = document.getElementById("course");
  addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow) return;
    try { received.push(JSON.parse(event.data)); } catch (error) { received.push({unparsed: String(event.data)}); }
  });
  frame.src = new URLSearchParams(location.search).get("src");
</script></body></html>
"""
SHORT_TTL_S = 3
WAIT_MS = 20_000


class Demo:
    def __init__(self, proc, app, harness):
        self.proc, self.app, self.harness = proc, app, harness

    def mint(self, learner, action="view", course=101):
        # The learner is the one serve.py's demo login signs a token for (the body names none).
        edit = "&edit=1" if action == "edit" else ""
        with urllib.request.urlopen(
            "%s/demo/login?learner=%s%s" % (self.app, urllib.parse.quote(learner), edit), timeout=30
        ) as response:
            login = json.loads(response.read())["token"]
        request = urllib.request.Request(
            self.app + "/api/embed-url",
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + login},
            data=json.dumps({"course": course, "action": action}).encode(),
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["url"]

    def deliveries(self):
        with urllib.request.urlopen(self.harness + "/api/deliveries", timeout=10) as response:
            return json.loads(response.read())["deliveries"]


def start_demo(*args):
    """serve.py in its offline demo mode (no Coassemble variable set), the builder allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COASSEMBLE_")}
    env["COURSEWIRE_ALLOW_EDIT"] = "1"
    return Demo(*start_serve(args=args, env=env))


def stop(served):
    """Stop serve.py; its whole output must not show the random demo key or webhook secret."""
    served.proc.terminate()
    served.proc.wait(10)
    with open(served.proc.log_path) as f:
        output = f.read()
    served.proc.stop()
    assert "Coassemble:   simulated on the harness origin" in output
    assert not re.search(r"[0-9a-f]{64}", output), output


@pytest.fixture(scope="module")
def demo():
    served = start_demo()
    yield served
    stop(served)


@pytest.fixture(scope="module")
def short_demo():
    served = start_demo("--harness-token-ttl", str(SHORT_TTL_S))
    yield served
    stop(served)


@pytest.fixture
def embed(page, guard, host_page):
    """embed(served, url) -> the harness Frame, inside the recorder page on a third origin."""
    recorder = host_page("token-recorder.html", RECORDER_HTML)

    def open_embedded(served, url):
        guard.origins |= {served.app, served.harness}
        page.goto(recorder + "?" + urllib.parse.urlencode({"src": url}))
        name = "player.html" if "/player.html" in url else "builder.html"
        for _ in range(300):
            frame = next((f for f in page.frames if name in f.url and f != page.main_frame), None)
            if frame:
                frame.wait_for_function("!!(window.harness && window.harness.session)", polling=100, timeout=WAIT_MS)
                return frame
            page.wait_for_timeout(50)
        raise AssertionError("no %s frame" % name)

    return open_embedded


def wait_for_message(page, event, type_="session"):
    page.wait_for_function(
        "([t, e]) => received.some((m) => m.type === t && m.event === e)",
        arg=[type_, event],
        polling=100,
        timeout=WAIT_MS,
    )


def received(page):
    return page.evaluate("received")


def names(messages):
    return ["%s:%s" % (m.get("type"), m.get("event")) for m in messages]


PAGES = [("view", "player.html"), ("edit", "builder.html")]


@pytest.mark.parametrize("action, page_name", PAGES)
def test_a_valid_token_opens_the_page_as_before(page, embed, demo, action, page_name):
    url = demo.mint("valid-%s" % action, action)
    assert "/%s?token=" % page_name in url
    frame = embed(demo, url)
    wait_for_message(page, "ready")
    assert "session:error" not in names(received(page)) and "session:expired" not in names(received(page))
    assert frame.get_attribute("html", "data-session") == "ready"
    if action == "view":
        assert frame.locator("#screen h2").inner_text() == "Why passwords still matter"
        frame.locator("#next").click()  # the course responds to the learner
        wait_for_message(page, "start", "screen")
    else:
        assert frame.evaluate("document.getElementById('editor').inert") is False
        frame.locator("#title").fill("Phishing basics")
        frame.locator("#save").click()
        wait_for_message(page, "created", "course")


@pytest.mark.parametrize("action, page_name", PAGES)
def test_no_token_posts_session_error_and_shows_why(page, embed, demo, action, page_name):
    frame = embed(demo, "%s/%s" % (demo.harness, page_name))
    wait_for_message(page, "error")
    error = next(m for m in received(page) if names([m]) == ["session:error"])
    sentence = error["data"]["message"]
    assert "without a session token" in sentence and sentence.endswith(".")
    assert "session:ready" not in names(received(page))
    assert frame.get_by_text(sentence).is_visible()
    assert frame.get_attribute("html", "data-session") == "refused"
    if action == "view":
        assert frame.locator("#nav").is_hidden() and frame.locator("[data-screen-id]").count() == 0
    else:
        assert frame.evaluate("document.getElementById('editor').inert") is True


@pytest.mark.parametrize("action, page_name", PAGES)
def test_a_forged_token_posts_session_error_and_shows_why(page, embed, guard, demo, action, page_name):
    guard.expect_console_error(r"status of 401")  # Chromium logs the refused /api/session request
    url = demo.mint("forger-%s" % action, action)
    head, _, signature = url.rpartition(".")
    forged = head + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    frame = embed(demo, forged)
    wait_for_message(page, "error")
    sentence = next(m for m in received(page) if names([m]) == ["session:error"])["data"]["message"]
    assert "not valid" in sentence
    assert frame.get_by_text(sentence).is_visible()
    assert "session:ready" not in names(received(page))


@pytest.mark.parametrize("action, page_name", PAGES)
def test_a_short_token_expires_while_the_page_is_open(page, embed, short_demo, action, page_name, capsys):
    url = short_demo.mint("expiring-%s" % action, action)
    minted_at = time.time()
    frame = embed(short_demo, url)
    wait_for_message(page, "ready")
    ready_after = time.time() - minted_at
    wait_for_message(page, "expired")
    expired_after = time.time() - minted_at
    sequence = [n for n in names(received(page)) if n.startswith("session:")]
    assert sequence == ["session:ready", "session:expired"]
    assert frame.get_attribute("html", "data-session") == "expired"
    if action == "view":
        assert frame.evaluate("document.getElementById('screen').inert && document.getElementById('nav').inert")
        assert frame.get_by_text("Your session has expired").is_visible()
    else:
        assert frame.evaluate("document.getElementById('editor').inert") is True
        assert frame.locator("#save").is_disabled()
        assert frame.locator("#expired").is_visible()
    with capsys.disabled():
        print(
            "\n[figure] %s, %d-s token: session:ready %.2f s and session:expired %.2f s after minting"
            % (page_name, SHORT_TTL_S, ready_after, expired_after)
        )


@pytest.mark.parametrize("action, page_name", PAGES)
def test_a_token_expired_before_loading_posts_session_expired(page, embed, guard, short_demo, action, page_name):
    guard.expect_console_error(r"status of 410")  # Chromium logs the refused /api/session request
    url = short_demo.mint("late-%s" % action, action)
    time.sleep(SHORT_TTL_S + 0.5)
    frame = embed(short_demo, url)
    wait_for_message(page, "expired")
    assert "session:ready" not in names(received(page))
    assert frame.get_attribute("html", "data-session") == "expired"


def test_the_player_reports_the_first_start_and_completion_for_coassembles_webhooks(page, embed, demo):
    learner = "tracked-%d" % time.time_ns()
    embed(demo, demo.mint(learner) + "&script=perfect&speed=0")
    wait_for_message(page, "completed", "course")
    for _ in range(100):
        mine = [d for d in demo.deliveries() if d["body"]["data"]["tracking"]["identifier"] == learner]
        if len(mine) == 2:
            break
        time.sleep(0.1)
    assert sorted(d["event"] for d in mine) == ["course.commenced", "course.completed"]
    assert all(d["url"] == demo.app + "/webhooks/coassemble" for d in mine)
