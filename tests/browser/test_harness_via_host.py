"""Each harness script, driven through the real host pages on both runtimes: what the harness
sent arrives in Python, accepted, in the same order."""

import json

import pytest

from conftest import harness_frame, open_app


def sent_names(frame):
    names = []
    for text in frame.evaluate("harness.sent"):
        message = json.loads(text)
        names.append(message["type"] + (":" + message["event"] if message.get("event") else ""))
    return names


def received_names(page):
    page.click("#inspector summary")
    page.wait_for_selector("#event-log li")  # rows are built when the panel opens
    rows = page.eval_on_selector_all("#event-log li", "rows => rows.map(r => r.dataset.eventName || null)")
    return list(reversed(rows))  # the inspector is newest first


SCRIPTS = [
    ("index.html", "player.html", "perfect", ["session:ready", "course:start"], "course:completed"),
    ("index.html", "player.html", "fail-then-pass", ["session:ready", "course:start"], "course:completed"),
    ("index.html", "player.html", "abandon-halfway", ["session:ready", "course:start"], None),
    ("builder.html", "builder.html", "author", ["session:ready", "course:created"], None),
    ("builder.html", "builder.html", "errors", ["session:ready", "session:error"], "session:error"),
]


@pytest.mark.parametrize("path,harness,script,first,last", SCRIPTS, ids=[s[2] for s in SCRIPTS])
def test_script_arrives_in_order(page, servers, runtime, path, harness, script, first, last):
    open_app(page, servers, path, runtime=runtime, query="script=%s&speed=0" % script)
    frame = harness_frame(page, harness)
    frame.wait_for_selector("html[data-script-done='true']", state="attached", timeout=30_000)
    sent = sent_names(frame)
    page.wait_for_function(
        "(n) => document.getElementById('event-counts').textContent.startsWith(n + ' accepted')", arg=len(sent)
    )
    assert received_names(page) == sent
    assert sent[:2] == first
    if last:
        assert sent[-1] == last
    if script == "abandon-halfway":
        assert "course:completed" not in sent and page.inner_text("#course-status") == "In progress"


def test_an_expiring_builder_session_arrives_in_order_then_reconnects(page, servers, runtime):
    # script=expire: the author saves, then the session expires. The page mints a fresh signed URL
    # on its own and mounts it: what the first session sent arrives in order, then the new one's.
    loaded = []
    page.on(
        "request", lambda r: "/builder.html?token=" in r.url and loaded.append(r.url.split("token=")[1].split("&")[0])
    )
    open_app(page, servers, "builder.html", runtime=runtime, query="script=expire&speed=0")
    page.wait_for_function("document.getElementById('event-counts').textContent.startsWith('4 accepted')")
    page.wait_for_selector("#session-status[data-session='ready']")
    assert received_names(page) == ["session:ready", "course:created", "session:expired", "session:ready"]
    assert len(loaded) == 2 and loaded[0] != loaded[1]  # two sessions, two signed URLs
    assert page.inner_text("#draft-status").endswith("(revision 1)")  # the record was kept
