"""An element the Python runtime never adopts says so, on both runtimes: README's snippet on a host
page, the static build served as a host would serve it, and the runtime kept from starting the
ways hosts have met: a server without the `.mjs` type (Debian's nginx sends application/octet-stream,
which browsers refuse for modules), PyScript blocked, PyScript left out (no signal at all: the
deadline). The course still plays; the element carries data-coursewire-error with the reason and
shows it. A healthy page never gets it, even long after the deadline."""

import functools
import http.server
import os
import re
import subprocess
import sys
import threading

import pytest

from conftest import BOOT_TIMEOUT_MS, ROOT, harness_frame, screenshot
from serving import free_port

README_ORIGIN = "https://coursewire.example"
ERROR = "#course[data-coursewire-error]"


class StaticHost(http.server.SimpleHTTPRequestHandler):
    """A plain static host: CORS on every file and a type table; `mjs` is what it sends for .mjs."""

    mjs = "text/javascript"

    def guess_type(self, path):
        types = {
            ".js": "text/javascript",
            ".mjs": self.mjs,
            ".wasm": "application/wasm",
            ".json": "application/json",
            ".css": "text/css",
            ".html": "text/html",
            ".py": "text/plain",
            ".toml": "text/plain",
            ".zip": "application/zip",
        }
        return types.get(os.path.splitext(path)[1], "application/octet-stream")

    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, *args):
        pass


class NoMjsType(StaticHost):
    mjs = "application/octet-stream"  # nginx's default_type, for a mime.types without mjs


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """{"right": origin, "no-mjs-type": origin}: the static build, each for its own origin."""
    origins, servers = {}, []
    for name, handler in (("right", StaticHost), ("no-mjs-type", NoMjsType)):
        folder = tmp_path_factory.mktemp("dist-" + name)
        port = free_port()
        origin = "http://127.0.0.1:%d" % port
        done = subprocess.run(
            [sys.executable, os.path.join(ROOT, "serve.py"), "build", str(folder), "--base-url", origin + "/"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        origins[name] = origin
        servers.append(server)
    yield origins
    for server in servers:
        server.shutdown()
        server.server_close()


def snippet_page(origin, runtime, signed_url, attributes="", without_pyscript=False):
    """README's snippet for `origin`, as a host pastes it (on Pyodide: its type="py" variant)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    html = re.search(r"```html\n(.*?)```", text[text.index("## Embed in your site") :], re.S).group(1)
    html = html.replace(README_ORIGIN, origin).replace("SIGNED_EMBED_URL", signed_url.replace("&", "&amp;"))
    if runtime == "py":
        html = html.replace('type="mpy"', 'type="py"').replace("/coursewire/mpy.toml", "/coursewire/pyscript.toml")
    if without_pyscript:  # the snippet's first line left out
        html = re.sub(r'<script type="module" src="[^"]*/core\.js"></script>\n', "", html)
        assert "core.js" not in html
    html = html.replace('data-coursewire="player"', 'data-coursewire="player" ' + attributes)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        "<script>function unlockNextStep() {}</script></head><body>" + html + "</body></html>"
    )


def open_snippet(page, servers, host_page, guard, origin, runtime, name, **options):
    guard.origins.add(origin)
    signed = servers.signed(learner="runtime-failure-%s-%s" % (name, runtime))
    page.goto(
        host_page("runtime-failure-%s-%s.html" % (name, runtime), snippet_page(origin, runtime, signed, **options))
    )


def assert_shown(page, reason):
    """The element carries the reason, and the page shows the same sentence; the course still plays."""
    page.wait_for_selector(ERROR, state="attached", timeout=BOOT_TIMEOUT_MS)
    said = page.get_attribute("#course", "data-coursewire-error")
    assert re.search(reason, said), said
    assert said.endswith("so Coursewire cannot follow this course (its progress is not tracked).")
    shown = page.locator("#course [role=alert]")
    assert shown.is_visible() and shown.inner_text() == said
    assert page.get_attribute("#course", "data-coursewire-initialized") is None
    harness_frame(page)  # the course itself is there (the bridge mounted it before Python)


def test_a_runtime_served_without_the_mjs_type_marks_the_element(page, servers, runtime, host_page, builds, guard):
    origin = builds["no-mjs-type"]
    guard.expect_console_error(r"Failed to load module script: .*MIME type of \"application/octet-stream\"")
    guard.expect_console_error(r"^Coursewire: The Python runtime ")
    open_snippet(page, servers, host_page, guard, origin, runtime, "no-mjs-type")
    interpreter = "%s/runtime/%s" % (
        origin,
        "pyodide/pyodide.mjs" if runtime == "py" else "micropython/micropython.mjs",
    )
    assert_shown(
        page,
        r"^The Python runtime %s could not be loaded \(a missing file, or a server that does not "
        r"send \.mjs files as text/javascript\)" % re.escape(interpreter),
    )
    for width in (360, 1280):  # looked at on a phone and a desktop
        page.set_viewport_size({"width": width, "height": 800})
        screenshot(page, "runtime-failure-%s-%d" % (runtime, width))
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_blocked_pyscript_marks_the_element(page, servers, runtime, host_page, builds, guard):
    guard.expect_console_error(r"Failed to load resource: net::ERR_BLOCKED_BY_CLIENT")
    guard.expect_console_error(r"^Coursewire: PyScript ")
    page.route("**/runtime/pyscript/core.js", lambda route: route.abort("blockedbyclient"))  # an ad blocker, a CSP
    open_snippet(page, servers, host_page, guard, builds["right"], runtime, "blocked")
    assert_shown(
        page,
        r"^PyScript %s/runtime/pyscript/core\.js could not be loaded \(blocked, missing, or not sent as "
        r"text/javascript\)" % re.escape(builds["right"]),
    )


def test_with_no_signal_at_all_the_deadline_marks_the_element(page, servers, runtime, host_page, builds, guard):
    # PyScript never loads and nothing fails: only the deadline can tell (shortened here to 2 s).
    guard.expect_console_error(r"^Coursewire: Python did not start within 2 s")
    open_snippet(
        page,
        servers,
        host_page,
        guard,
        builds["right"],
        runtime,
        "no-pyscript",
        attributes='data-runtime-timeout="2"',
        without_pyscript=True,
    )
    assert_shown(page, r"^Python did not start within 2 s \(see the console for why\)")


def test_a_healthy_page_never_gets_it_even_long_after_the_deadline(page, servers, runtime, host_page, builds, guard):
    page.clock.install()  # the page's timers, fast-forwarded below past the default deadline
    open_snippet(page, servers, host_page, guard, builds["right"], runtime, "healthy")
    page.wait_for_selector("#course[data-coursewire-initialized='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
    page.clock.fast_forward(10 * 60 * 1000)  # ten minutes of the page's time: every timer due by then fires
    page.wait_for_function("window.coursewireBridge !== undefined")
    assert page.get_attribute("#course", "data-coursewire-error") is None
    assert page.locator("#course [role=alert]").count() == 0
