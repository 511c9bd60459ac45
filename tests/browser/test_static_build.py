"""The static build, deployed as a host would: `serve.py build DIR --base-url URL` from the checkout,
and `coursewire build DIR --base-url URL` from the package installed into a fresh venv outside the
checkout (tests/installed_package.py), run from a folder outside it; DIR served by a
plain static file server (stdlib, no Coursewire code, sending only the CORS header and the MIME
types README tells a static host to send) on one origin; a host page holding only README's snippet
(its origin replaced) on a second origin; the course from the harness on a third. Events arrive as
DOM events and in Python handlers, on both runtimes, with no request to any other host."""

import functools
import http.server
import os
import re
import subprocess
import sys
import threading

import pytest

import installed_package
from conftest import BOOT_TIMEOUT_MS, ROOT, harness_frame
from serving import free_port

README_ORIGIN = "https://coursewire.example"


def readme_block(language, after):
    """The first ```language block after the heading `after` in README.md."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text[text.index(after) :]
    return re.search(r"```%s\n(.*?)```" % language, section, re.S).group(1)


class StaticHost(http.server.SimpleHTTPRequestHandler):
    """What README asks of a static host, and nothing more: CORS on every file, and the types."""

    extensions_map = {
        "": "application/octet-stream",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".css": "text/css",
        ".html": "text/html",
        ".py": "text/plain",
        ".toml": "text/plain",
        ".zip": "application/zip",
    }

    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module", params=["checkout", "installed"])
def deployed(request, tmp_path_factory):
    """(origin, folder): the build served on its own origin, built for exactly that URL by
    serve.py in the checkout, or by the installed package's `coursewire build`."""
    folder = tmp_path_factory.mktemp("dist")
    port = free_port()
    origin = "http://127.0.0.1:%d" % port
    if request.param == "checkout":
        done = subprocess.run(
            [sys.executable, os.path.join(ROOT, "serve.py"), "build", str(folder), "--base-url", origin + "/"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    else:
        installed = installed_package.install(tmp_path_factory)
        done = installed.run(
            ["coursewire", "build", str(folder), "--base-url", origin + "/"],
            cwd=str(tmp_path_factory.mktemp("elsewhere")),
        )
    assert done.returncode == 0, done.stderr
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(StaticHost, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield origin, folder
    server.shutdown()
    server.server_close()


def snippet_page(deployed_origin, runtime, signed_url):
    html = readme_block("html", "## Embed in your site").replace(README_ORIGIN, deployed_origin)
    html = html.replace("SIGNED_EMBED_URL", signed_url.replace("&", "&amp;"))
    if runtime == "py":
        html = html.replace('type="mpy"', 'type="py"').replace("/coursewire/mpy.toml", "/coursewire/pyscript.toml")
    # The host's own page around the snippet: the unlockNextStep the snippet calls, and a record
    # of the DOM events it hears.
    return (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        "<script>window.heard = []; function unlockNextStep() { window.unlocked = true; }</script></head><body>"
        + html
        + "<script>['session:ready', 'course:progress', 'screen:answer', 'course:completed'].forEach("
        "(n) => document.getElementById('course').addEventListener(n, (e) => window.heard.push(e.detail.name)));"
        "</script></body></html>"
    )


def test_the_build_holds_only_what_a_host_needs(deployed):
    _, folder = deployed
    files = sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)
    assert "coursewire/browser/automount.py" in files and "coursewire/browser/bridge.js" in files
    assert not [f for f in files if f.startswith(("app/", "coursewire/server/", "tests/", "node_modules/"))]
    assert not [f for f in files if f.endswith(".map") or "codemirror" in f or "xterm" in f]
    with open(os.path.join(folder, "coursewire", "mpy.toml"), encoding="utf-8") as f:
        assert 'interpreter = "%s/runtime/micropython/micropython.mjs"' % deployed[0] in f.read()


def test_the_readme_snippet_works_from_the_static_build_on_a_third_origin(
    page, servers, runtime, host_page, deployed, guard
):
    origin, _ = deployed
    guard.origins.add(origin)
    signed = servers.signed(learner="static-%s" % runtime, query="script=perfect&speed=0")
    url = host_page("static-snippet-%s.html" % runtime, snippet_page(origin, runtime, signed))
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url)
    page.wait_for_selector("#course[data-coursewire-initialized='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
    page.wait_for_function("window.unlocked === true", timeout=30_000)  # README's course:completed listener
    frame = harness_frame(page)
    frame.wait_for_selector("html[data-script-done='true']", state="attached", timeout=30_000)
    page.wait_for_function("window.heard.includes('course:completed')")
    assert page.evaluate("window.heard")[0] == "session:ready"
    assert page.get_attribute("#my-bar", "value") == "100"  # data-progress-target
    hosts = {"/".join(u.split("/", 3)[:3]) for u in requested if u.startswith("http")}
    assert hosts <= {origin, servers.harness, url.rsplit("/", 1)[0]}, hosts
    assert any(u.startswith(origin + "/runtime/") for u in requested)
    # The library in one fetch (coursewire/bundle.py), beside the snippet's entry script.
    python = sorted(u[len(origin) :] for u in requested if u.startswith(origin) and u.endswith(".py"))
    stem = "mpy" if runtime == "mpy" else "pyscript"
    assert python == ["/coursewire/browser/automount.py", "/coursewire/%s-coursewire.py" % stem], python
    # bridge.js asks for the runtime, the bundle and the entry early; PyScript's own requests then
    # take those downloads (same URL, same CORS mode): nothing of ours is fetched twice (but
    # bridge.js itself: the page's <script> and the config's js_modules import are two requests).
    twice = sorted(u for u in set(requested) if u.startswith(origin) and requested.count(u) > 1)
    assert twice == [origin + "/coursewire/browser/bridge.js"], twice


def test_python_handlers_on_a_host_page_from_the_static_build(page, servers, runtime, host_page, deployed, guard):
    origin, _ = deployed
    guard.origins.add(origin)
    config = "coursewire/mpy.toml" if runtime == "mpy" else "coursewire/pyscript.toml"
    python = readme_block("python", "The Python API")
    # README's example, run as written, then what this test reads back.
    html = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module" src="%(origin)s/runtime/pyscript/core.js"></script></head>
<body><div id="course"></div><progress id="bar" max="100"></progress>
<script>window.SIGNED = "%(signed)s"; window.seen = [];</script>
<script type="%(runtime)s" config="%(origin)s/%(config)s">
from pyscript import window
signed_url = window.SIGNED
def unlock_next_step():
    window.seen.push("unlocked")
def redraw(changes):
    pass
%(readme)s
course.on("*", lambda event: window.seen.push(event.name))
</script></body></html>""" % {
        "origin": origin,
        "runtime": runtime,
        "config": config,
        "readme": python,
        "signed": servers.signed(learner="static-api-%s" % runtime, query="script=perfect&speed=0"),
    }
    page.goto(host_page("static-api-%s.html" % runtime, html))
    page.wait_for_function("window.seen.includes('course:completed')", timeout=BOOT_TIMEOUT_MS)
    seen = page.evaluate("window.seen")
    assert "course:progress" in seen and "screen:answer" in seen
    assert page.get_attribute("#bar", "value") == "100"  # README's @course.on("course:progress") handler
