"""Shared test fixtures: serve.py on free ports, real Chromium, and a guard on every page.

Every browser test fails on a page error, a console error, or a request to any host other than
the app origin and the harness origin. Tests under tests/browser/, any test that takes Playwright's
`page`, and modules that say so (`pytestmark = pytest.mark.browser`) carry the `browser` marker,
so `pytest -m "not browser"` runs the CPython tests alone, without Chromium or Playwright.
"""

import functools
import http.server
import os
import re
import threading

import pytest

from serving import ROOT, start_serve

BROWSER_FOLDERS = ("browser",)  # under tests/: everything there needs Chromium


def _playwright_installed():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def _asked_for(config, folder):
    """Whether the command line's paths (or testpaths) include tests/<folder>."""
    target = os.path.join(ROOT, "tests", folder)
    for arg in config.args:
        path = os.path.abspath(str(arg).split("::")[0])
        if path == target or path.startswith(target + os.sep) or target.startswith(path + os.sep):
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    # Without Playwright, `-m "not browser"` (or a run of other folders) must still collect: the
    # browser folder imports it. Asking for the browser tests without it is a clear mistake.
    if collection_path.name in BROWSER_FOLDERS and collection_path.parent.name == "tests":
        if not _playwright_installed():
            if "not browser" in (config.getoption("markexpr") or "") or not _asked_for(config, collection_path.name):
                return True
            raise pytest.UsageError(
                "Playwright is not installed: run ./test.sh (it installs the test dependencies), "
                "or `pytest -m \"not browser\"` for the CPython tests alone."
            )
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = os.path.relpath(str(item.path), os.path.join(ROOT, "tests")).split(os.sep)[0]
        if folder in BROWSER_FOLDERS or "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


ARTIFACTS = os.path.join(ROOT, "test-artifacts")
RUNTIMES = ["py", "mpy"]
BOOT_TIMEOUT_MS = 60_000  # Pyodide boots in ~3 s here; a loaded CI machine may take far longer


class Servers:
    def __init__(self, app, harness):
        self.app = app  # http://127.0.0.1:PORT
        self.harness = harness  # http://localhost:PORT

    def origins(self):
        return {self.app, self.harness}

    def login(self, learner="test-learner", edit=False):
        """A login token for `learner` from serve.py's demo login (GET /demo/login), as a host's
        own login would issue one."""
        import json
        import urllib.parse
        import urllib.request

        query = urllib.parse.urlencode(dict({"learner": learner}, **({"edit": "1"} if edit else {})))
        with urllib.request.urlopen("%s/demo/login?%s" % (self.app, query), timeout=30) as response:
            return json.loads(response.read())["token"]

    def mint(self, product="player", learner="test-learner", query="", course="101"):
        """A signed embed URL from the app's own /api/embed-url, as a host's server hands its page
        one (server to server: no browser Origin), for the learner a login token names, with
        `query` appended (demo harness parameters such as script=perfect). Returns (url, report_token)."""
        import json
        import urllib.request

        builder = product == "builder"
        body = json.dumps({"course": course, "action": "edit" if builder else "view"}).encode()
        request = urllib.request.Request(
            self.app + "/api/embed-url",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + self.login(learner, builder)},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
        assert answer["learner"] == learner
        url = answer["url"] + ("&" + query if query else "")
        return url, answer.get("report_token")

    def signed(self, product="player", learner="test-learner", query=""):
        """Just the signed embed URL (see mint)."""
        return self.mint(product, learner, query)[0]

    def records(self, course="101"):
        """GET /api/records as the host's staff: {learner: record}."""
        import json
        import urllib.request

        request = urllib.request.Request(
            "%s/api/records?course=%s" % (self.app, course), headers={"Authorization": "Bearer " + ADMIN_TOKEN}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return {r["learner"]: r for r in json.loads(response.read())["records"]}


# Known to the tests (never printed by serve.py): the staff token of GET /api/records, and the
# simulated Coassemble API's key, which tests search for in everything a run produced.
ADMIN_TOKEN = "test-admin-token-4f1c2b"
DEMO_KEY = "test-demo-key-9d8e7f6a5b4c3d2e1f00"


def serve_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COASSEMBLE_", "COURSEWIRE_", "DATABASE_URL"))}
    env.update(COURSEWIRE_ADMIN_TOKEN=ADMIN_TOKEN, COURSEWIRE_DEMO_KEY=DEMO_KEY)
    # The hostile floods (tests/browser/test_hostile.py) post tens of thousands of events as one
    # learner: past the server's report bounds, which test_report_limits.py tests on its own server.
    env.update(
        COURSEWIRE_LIMITS=" ".join(
            "%s=%d" % (name, 10**12) for name in ("report_events", "report_bytes", "session_events", "session_bytes")
        )
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def servers():
    proc, app, harness = start_serve(env=serve_env())
    served = Servers(app, harness)
    served.log_path = proc.log_path
    yield served
    proc.stop()


class Pages:
    """Test-only pages on a third origin (127.0.0.1, another port): a host site elsewhere.

    (Pages fulfilled by page.route cannot embed the harness: Chromium treats a routed document
    as public and blocks its iframe's navigation to a local address.)
    """

    def __init__(self, root, origin):
        self.root = root
        self.origin = origin

    def put(self, name, html):
        with open(os.path.join(self.root, name), "w", encoding="utf-8") as f:
            f.write(html)
        return "%s/%s" % (self.origin, name)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def pages(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("pages"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Pages(root, "http://127.0.0.1:%d" % server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def host_page(pages, guard):
    """put(name, html) -> URL of a page on the third origin, allowed by this test's guard."""
    guard.origins.add(pages.origin)
    return pages.put


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = dict(browser_type_launch_args)
    if os.path.exists("/usr/bin/chromium"):
        args["executable_path"] = "/usr/bin/chromium"
    args["args"] = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    return args


class PageGuard:
    """Collects what must never happen on a page; checked when the test ends."""

    def __init__(self, page, servers):
        self.errors = []
        self.allowed_console = []  # regexes a test expects to see (a raising host handler ...)
        self.origins = servers.origins()
        page.on("pageerror", lambda error: self.errors.append("page error: %s" % error))
        page.on("console", self._console)
        page.on("request", self._request)

    def expect_console_error(self, pattern):
        self.allowed_console.append(re.compile(pattern))

    def _console(self, message):
        if message.type == "error" and not any(p.search(message.text) for p in self.allowed_console):
            self.errors.append("console error: %s" % message.text[:500])

    def _request(self, request):
        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            return
        origin = "/".join(url.split("/", 3)[:3])
        if origin not in self.origins:
            self.errors.append("request to a third host: %s" % url)

    def check(self):
        assert not self.errors, "\n".join(self.errors)


@pytest.fixture(autouse=True)
def _guard_every_page(request):
    """Attach a PageGuard to every test that uses a page, so none can forget it."""
    if "page" not in request.fixturenames:
        yield None
        return
    guard = PageGuard(request.getfixturevalue("page"), request.getfixturevalue("servers"))
    request.node.page_guard = guard
    yield guard
    guard.check()


@pytest.fixture
def guard(request, _guard_every_page):
    return _guard_every_page


@pytest.fixture(params=RUNTIMES)
def runtime(request):
    return request.param


def open_app(page, servers, path="index.html", runtime="py", query=""):
    """Open a Coursewire page and wait until Python handles messages."""
    sep = "&" if "?" in path else "?"
    page.goto("%s/%s%sruntime=%s%s" % (servers.app, path, sep, runtime, ("&" + query) if query else ""))
    page.wait_for_selector("html[data-listening='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
    assert page.get_attribute("html", "data-runtime") == runtime
    return page


def harness_frame(page, name="player.html", timeout_ms=15_000):
    """The harness iframe's Frame (Playwright only refreshes page.frames inside its own calls)."""
    waited = 0
    while waited < timeout_ms:
        for frame in page.frames:
            if name in frame.url and frame != page.main_frame:
                # Its script may still be loading; interval polling, since an offscreen
                # cross-origin frame gets no animation frames.
                frame.wait_for_function("!!window.harness", polling=100, timeout=timeout_ms)
                return frame
        page.wait_for_timeout(50)
        waited += 50
    raise AssertionError("no frame for %s" % name)


def screenshot(page, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, name + ".png"), full_page=True)


# --- Hostile suite (tests/browser/test_hostile.py): its figures table and JSON at the end of the run.
from hostile_report import hostile_figures, pytest_terminal_summary  # noqa: E402,F401
