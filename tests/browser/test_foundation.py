"""The first vertical slice on both runtimes: vendored runtime, two origins, Python listening,
origin + source checks. (serve.py's own behaviour is in test_serve.py.)"""

import json

from conftest import harness_frame, open_app

READY = json.dumps({"type": "session", "event": "ready"})


def test_course_page_boots_offline_and_shows_the_first_message(page, servers, runtime):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    open_app(page, servers, runtime=runtime)
    page.wait_for_selector("#session-status[data-session='ready']")
    assert page.inner_text("#session-status") == "Session ready"
    label = page.inner_text("#runtime-label")
    assert ("MicroPython" in label) if runtime == "mpy" else ("Pyodide" in label)
    # The runtime came from the app origin, the course from the harness origin, nothing else.
    runtime_files = [u for u in requested if "/runtime/" in u]
    assert runtime_files and all(u.startswith(servers.app + "/runtime/") for u in runtime_files)
    assert any(u.startswith(servers.harness + "/player.html") for u in requested)
    wanted = "/runtime/micropython/micropython.wasm" if runtime == "mpy" else "/runtime/pyodide/pyodide.asm.wasm"
    assert any(u.endswith(wanted) for u in requested)
    # The library and the demo app arrive as one bundle each (coursewire/bundle.py), not module by module.
    stem = "mpy" if runtime == "mpy" else "pyscript"
    python = sorted(u.split("?")[0][len(servers.app) :] for u in requested if u.split("?")[0].endswith(".py"))
    assert python == ["/app/page_player.py", "/%s-app.py" % stem, "/%s-coursewire.py" % stem], python


def test_runtime_defaults_to_pyodide(page, servers):
    page.goto(servers.app + "/index.html")
    assert page.get_attribute("html", "data-runtime") == "py"
    page.wait_for_selector("html[data-listening='true']", state="attached", timeout=60_000)
    assert "Pyodide" in page.inner_text("#runtime-label")


def _inspector_rows(page):
    page.click("#inspector summary")
    return page.locator("#event-log li")


def test_messages_from_the_page_itself_and_a_same_origin_sibling_are_ignored(page, servers, runtime):
    open_app(page, servers, runtime=runtime)
    page.wait_for_selector("#session-status[data-session='ready']")
    # A second iframe on the course's own origin, and the host page, post well-formed messages.
    page.evaluate(
        """(url) => new Promise((done) => {
            const f = document.createElement('iframe');
            f.id = 'sibling'; f.src = url; f.onload = () => done(); document.body.appendChild(f);
        })""",
        servers.harness + "/player.html?origin=" + servers.app,
    )
    sibling = next(f for f in page.frames if f.url.startswith(servers.harness) and f != harness_frame(page))
    progress = json.dumps({"type": "course", "event": "progress", "data": {"progress": 90}})
    sibling.evaluate("(m) => parent.postMessage(m, '*')", progress)
    page.evaluate("(m) => window.postMessage(m, '*')", progress)
    rows = _inspector_rows(page)
    page.wait_for_function("document.querySelectorAll('#event-log li[data-rejected]').length >= 2")
    page.wait_for_timeout(300)  # give a wrongly accepted message time to show
    assert page.get_attribute("#progress", "aria-valuenow") != "90"
    reasons = set(
        rows.nth(i).get_attribute("data-rejected")
        for i in range(rows.count())
        if rows.nth(i).get_attribute("data-rejected")
    )
    # The page itself fails the origin check; the sibling has the course's origin but is not
    # the course's frame, so it fails the source check.
    # (The sibling harness also posts its own session:ready etc.: refused for the same reason.)
    assert reasons == {"wrong origin (%s)" % servers.app, "wrong source (not this embed's course frame)"}


def test_a_message_from_the_course_frame_is_accepted(page, servers, runtime):
    open_app(page, servers, runtime=runtime)
    frame = harness_frame(page)
    frame.evaluate(
        "(m) => parent.postMessage(m, '*')",
        json.dumps({"type": "course", "event": "progress", "data": {"progress": 42}}),
    )
    page.wait_for_selector("#progress[aria-valuenow='42']")
    assert page.inner_text("#progress-text") == "42%"
