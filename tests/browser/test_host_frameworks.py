"""Flask and Django hosts (the real packages) that mint in their OWN view and mount Coursewire's
routes, each run as README shows (tests/fixtures/hosts/: README's examples verbatim, checked
below): a page of the host with the snippet and a login token plays a course from the simulated
Coassemble (serve.py, whose webhooks go to the host's /webhooks/coassemble with --webhook-url),
reports its events to the host, and the host's record reads completed_verified once the signed
webhook arrived."""

import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from coursewire.server.login import issue_login_token

from conftest import BOOT_TIMEOUT_MS, DEMO_KEY, ROOT, harness_frame, serve_env
from serving import free_port, start_serve

HOSTS = os.path.join(ROOT, "tests", "fixtures", "hosts")
LOGIN_SECRET = "host-login-secret-for-the-framework-tests-0123456789"
WEBHOOK_SECRET = "host-webhook-secret-for-the-framework-tests"
ADMIN_TOKEN = "host-admin-token-for-the-framework-tests"
MODULES = {"flask": "flask_host", "django": "django_host"}
README_HEADINGS = {"flask": "### Mount the routes in Flask", "django": "### Mount the routes in Django"}


class Host:
    def __init__(self, framework, origin, coursewire, harness, pages, log_path):
        self.framework = framework
        self.origin = origin  # the host site: its pages, its mint view, Coursewire's routes mounted
        self.coursewire = coursewire  # where the snippet's files come from (serve.py's app origin)
        self.harness = harness  # the simulated Coassemble
        self.pages = pages
        self.log_path = log_path

    def put(self, name, html):
        with open(os.path.join(self.pages, name), "w", encoding="utf-8") as f:
            f.write(html)
        return "%s/pages/%s" % (self.origin, name)

    def call(self, method, path, body=None, headers=None):
        """(status, JSON answer) of a request to the host."""
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            self.origin + path,
            data=data,
            method=method,
            headers=dict({"Content-Type": "application/json"}, **(headers or {})),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def records(self, course="101"):
        status, answer = self.call(
            "GET", "/api/records?course=%s" % course, headers={"Authorization": "Bearer " + ADMIN_TOKEN}
        )
        assert status == 200, answer
        return {r["learner"]: r for r in answer["records"]}


@pytest.fixture(scope="module", params=sorted(MODULES))
def host(request, tmp_path_factory):
    framework = request.param
    folder = tmp_path_factory.mktemp(framework)
    pages = folder / "pages"
    pages.mkdir()
    host_port, harness_port = free_port(), free_port()
    origin = "http://127.0.0.1:%d" % host_port
    # The simulated Coassemble, sending its signed webhooks to the host.
    proc, coursewire, harness = start_serve(
        args=["--webhook-url", origin + "/webhooks/coassemble"],
        env=serve_env(COASSEMBLE_WEBHOOK_SECRET=WEBHOOK_SECRET),
        ports=(free_port(), harness_port),
    )
    # The host, configured as README's table says, pointed at the simulated Coassemble.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COASSEMBLE_", "COURSEWIRE_", "DATABASE_URL"))}
    env.update(
        PYTHONPATH=ROOT,
        COASSEMBLE_API_URL=harness,
        COASSEMBLE_WORKSPACE_ID="1000",
        COASSEMBLE_API_KEY=DEMO_KEY,
        COASSEMBLE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        COURSEWIRE_LOGIN_SECRET=LOGIN_SECRET,
        COURSEWIRE_ADMIN_TOKEN=ADMIN_TOKEN,
        COURSEWIRE_DB=str(folder / "record.sqlite3"),
        HOST_PAGES=str(pages),
        HOST_SECRET_KEY="django-secret-key-for-the-test-host-only",
    )
    log_path = str(folder / "host.log")
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, os.path.join(HOSTS, "run_host.py"), MODULES[framework], str(host_port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        assert server.stdout.readline().strip() == "listening", open(log_path).read()
        yield Host(framework, origin, coursewire, harness, str(pages), log_path)
    finally:
        server.terminate()
        server.wait(30)
        proc.stop()


def readme_block(heading):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    return re.search(r"```python\n(.*?)```", text[text.index(heading) :], re.S).group(1)


@pytest.mark.parametrize("framework", sorted(MODULES))
def test_the_readme_examples_are_the_code_the_hosts_run(framework):
    with open(os.path.join(HOSTS, MODULES[framework] + ".py"), encoding="utf-8") as f:
        fixture = f.read()
    ran = fixture.split("# --- README:", 1)[1].split("\n", 1)[1].split("# --- end of README's example", 1)[0]
    written = readme_block(README_HEADINGS[framework])
    # The fixture's own lint markers aside, the same lines.
    assert [re.sub(r"  # noqa: E402.*$", "", line) for line in ran.strip().splitlines()] == written.strip().splitlines()


def snippet_page(host, runtime, login_token):
    """README's snippet (its origin replaced by where the files are served) with README's minting
    element, the login given as data-login-token, and a DOM-event listener of the host's own."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        section = f.read().split("## Embed in your site", 1)[1]
    loader, element = re.findall(r"```html\n(.*?)```", section, re.S)[:2]
    loader = loader.split('<div id="course"', 1)[0].replace("https://coursewire.example", host.coursewire)
    if runtime == "py":
        loader = loader.replace('type="mpy"', 'type="py"').replace("/coursewire/mpy.toml", "/coursewire/pyscript.toml")
    element = re.sub(r'data-login-url="[^"]*"', 'data-login-token="%s"' % login_token, element)
    assert 'data-login-token="%s"' % login_token in element and 'data-report-url="/api/events"' in element
    return (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'></head><body>"
        + loader
        + element
        + "<script>document.getElementById('course').addEventListener("
        "'course:completed', () => { window.completed = true; });</script></body></html>"
    )


def wait_for_record(host, learner, check, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    record = None
    while time.monotonic() < deadline:
        record = host.records().get(learner)
        if record is not None and check(record):
            return record
        time.sleep(0.3)
    raise AssertionError("the host's record never matched: %r" % (record,))


def test_a_host_page_with_a_login_token_plays_reports_and_is_verified(page, host, runtime, guard):
    learner = "%s-learner-%s" % (host.framework, runtime)
    guard.origins.update({host.origin, host.coursewire, host.harness})
    token = issue_login_token(LOGIN_SECRET, learner, ttl_s=600, name="Ada Lovelace")
    page.goto(host.put("course-%s.html" % runtime, snippet_page(host, runtime, token)))
    page.wait_for_selector("#course[data-coursewire-initialized='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
    frame = harness_frame(page, timeout_ms=30_000)
    # The learner plays the course through (the harness's click-by-click "perfect" learner).
    frame.evaluate("harness.playerScripts.start('perfect', harness.player.learner)")
    frame.wait_for_selector("html[data-script-done='true']", state="attached", timeout=60_000)
    page.wait_for_function("window.completed === true", timeout=30_000)
    record = wait_for_record(
        host,
        learner,
        lambda r: (
            r["status"] == "completed_verified" and r["reported_completed_at"] is not None and r["progress"] == 100
        ),
    )
    assert record["verified_completed_at"] is not None and record["answers"]
    assert page.get_attribute("#course", "data-coursewire-error") is None
    with open(host.log_path) as f:
        assert "Traceback" not in f.read()


def test_the_mounted_routes_answer_refusals_in_one_sentence(host):
    # Through the framework, as from the stock application: status and {"error": sentence}.
    status, answer = host.call("POST", "/api/events", {"batch": []})
    assert status == 401 and set(answer) == {"error"}
    status, answer = host.call("GET", "/api/records?course=101")
    assert status == 401 and set(answer) == {"error"}
    # The paths that carry a learner id reach Coursewire's routes through the framework too.
    status, answer = host.call("DELETE", "/api/learners/nobody%40example.com")
    assert status == 401 and set(answer) == {"error"}
    staff = {"Authorization": "Bearer " + ADMIN_TOKEN}
    for method, path in (("DELETE", "/api/learners/nob%C3%B6dy%2Fx"), ("GET", "/api/learners/nob%C3%B6dy%2Fx/export")):
        assert host.call(method, path, headers=staff) == (404, {"error": "Nothing is held about this learner."})
    status, answer = host.call(
        "POST",
        "/webhooks/coassemble",
        {"id": "x", "type": "course.completed"},
        headers={"X-Coassemble-Signature": "sha256=00", "X-Coassemble-Timestamp": "1"},
    )
    assert status == 401 and set(answer) == {"error"}
    # Announced larger than the route takes (1 MB) and than Django reads (2.5 MB): 413, one sentence,
    # before any of it is read. (Only the headers are sent: a server that refuses unread bytes may
    # reset the connection before the client reads its answer.)
    connection = http.client.HTTPConnection(host.origin.split("//", 1)[1], timeout=30)
    connection.putrequest("POST", "/webhooks/coassemble")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", "3000000")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and set(json.loads(response.read())) == {"error"}
    connection.close()
    # The host's own view: no login, another learner, a bad body.
    status, answer = host.call("POST", "/api/embed-url", {"course": "101"})
    assert status == 401 and set(answer) == {"error"}
    token = issue_login_token(LOGIN_SECRET, "own-view-learner", ttl_s=600)
    bearer = {"Authorization": "Bearer " + token}
    status, answer = host.call("POST", "/api/embed-url", {"course": "101", "learner": "someone-else"}, bearer)
    assert status == 403 and set(answer) == {"error"}
    status, answer = host.call("POST", "/api/embed-url", b"[1]", bearer)
    assert status == 400 and set(answer) == {"error"}
    status, answer = host.call("POST", "/api/embed-url", {"course": "101"}, bearer)
    assert status == 200 and answer["learner"] == "own-view-learner"
    assert set(answer) == {"url", "expires_at", "learner", "report_token"}
    assert answer["url"].startswith(host.harness + "/player.html?token=")
