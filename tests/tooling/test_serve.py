"""serve.py: two origins, the right types and headers, only what should be served, clear errors."""

import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import ROOT
from serving import free_port, read_to_close


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, b""


def test_runtime_files_have_the_types_browsers_require(servers):
    status, headers, _ = fetch(servers.app + "/runtime/pyodide/pyodide.mjs")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    status, headers, _ = fetch(servers.app + "/runtime/micropython/micropython.wasm")
    assert status == 200 and headers["Content-Type"] == "application/wasm"
    status, headers, _ = fetch(servers.app + "/runtime/pyscript/core.js")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"


def test_only_run_time_files_the_library_and_the_app_are_served(servers):
    for path in (
        "/node_modules/pyodide/package.json",
        "/runtime/pyodide/package.json",
        "/runtime/pyscript/core.js.map",
        "/runtime/pyscript/codemirror_view-BsXnWedx.js",
        "/tests/conftest.py",
        "/.git/config",
        "/serve.py",
        "/runtime/pyodide/../../package.json",
        "/app/../serve.py",
        "/coursewire/server/settings.py",
        "/coursewire/deploy.py",
        "/coursewire/server/",
        "/coursewire/core/",
        "/requirements-dev.txt",
    ):
        assert fetch(servers.app + path)[0] == 404, path
    for path in (
        "/",
        "/builder.html",
        "/app/ui.py",
        "/pyscript.toml",
        "/examples/host-site.html",
        "/coursewire/core/session.py",
        "/coursewire/browser/embed.py",
        "/coursewire/browser/bridge.js",
        "/coursewire/browser/automount.py",
        "/coursewire/mpy.toml",
        "/coursewire/__init__.py",
    ):
        assert fetch(servers.app + path)[0] == 200, path


def raw_request(origin, line, timeout=5):
    """Send one raw request line (a client that does not normalise its path) and read the answer."""
    host, port = origin.split("//", 1)[1].rsplit(":", 1)
    with socket.create_connection(("127.0.0.1", int(port)), timeout=timeout) as conn:
        conn.sendall(("%s\r\nHost: %s:%s\r\nConnection: close\r\n\r\n" % (line, host, port)).encode())
        answer = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return answer.decode("latin-1")
            answer += chunk


@pytest.mark.parametrize(
    "line",
    [
        "GET ../serve.py HTTP/1.1",
        "GET ..%2fserve.py HTTP/1.1",
        "GET /..%2fserve.py HTTP/1.1",
        "GET /%2e%2e/serve.py HTTP/1.1",
        "GET /..%5cserve.py HTTP/1.1",
        "GET //etc/passwd HTTP/1.1",
        "GET /../README.md HTTP/1.1",
        "GET /%2e%2e%2ftests%2fconftest.py HTTP/1.1",
        "GET ../node_modules/pyodide/package.json HTTP/1.1",
        "GET http://x/../serve.py HTTP/1.1",
    ],
)
def test_no_request_line_reaches_a_file_outside_what_each_origin_serves(servers, line):
    for origin in (servers.app, servers.harness):
        answer = raw_request(origin, line)
        assert answer.startswith("HTTP/1.0 404") or answer.startswith("HTTP/1.0 400"), (origin, line, answer[:200])
        assert "ensure_runtime" not in answer and "Coursewire" not in answer.split("\r\n\r\n", 1)[-1][:2000]


@pytest.mark.parametrize(
    "path",
    [
        "/mpy.toml",
        "/pyscript.toml",
        "/coursewire/mpy.toml",
        "/config.js",
        "/",
        "/coursewire/core/wire.py",
        "/runtime/pyscript/core.js",
        "/nothing-here",
    ],
)
def test_head_agrees_with_get(servers, path):
    get = fetch(servers.app + path)
    request = urllib.request.Request(servers.app + path, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            head = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        head = error.code, error.headers, b""
    assert head[0] == get[0], path
    assert head[2] == b""
    if get[0] == 200:
        assert head[1]["Content-Length"] == get[1]["Content-Length"] == str(len(get[2])), path
        assert head[1]["Content-Type"] == get[1]["Content-Type"], path


def test_stalled_clients_do_not_stop_others_being_served(servers):
    import serve

    assert serve.Handler.timeout == 30  # what each connection gets; the test uses a shorter copy
    host, port = "127.0.0.1", int(servers.app.rsplit(":", 1)[1])
    # Many clients that send half a request and stall must not stop others from being served.
    stalled = []
    for _ in range(50):
        conn = socket.create_connection((host, port), timeout=5)
        conn.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")  # no blank line: never finishes
        stalled.append(conn)
    try:
        assert fetch(servers.app + "/index.html")[0] == 200
    finally:
        for conn in stalled:
            conn.close()


def test_the_harness_is_on_a_second_origin_with_its_own_files(servers):
    assert servers.harness.split(":")[1] != servers.app.split(":")[1]  # another host name
    assert fetch(servers.harness + "/player.html")[0] == 200
    assert fetch(servers.harness + "/index.html")[0] == 200
    assert fetch(servers.harness + "/coursewire/browser/embed.py")[0] == 404
    for path in ("/api.py", "/tokens.py", "/webhooks.py", "/__pycache__/api.cpython-311.pyc"):
        assert fetch(servers.harness + path)[0] == 404, path
    status, _, body = fetch(servers.app + "/config.js")
    assert status == 200 and servers.harness.encode() in body


SERVE_PY = os.path.join(ROOT, "serve.py")


def run_serve(args, env=None, script=SERVE_PY):
    return subprocess.run([sys.executable, script] + args, capture_output=True, text=True, timeout=30, env=env)


def test_a_port_in_use_gets_one_sentence_not_a_traceback():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_serve(["--port", str(port), "--harness-port", str(free_port())])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "serve.py: Port %d on 127.0.0.1 is already in use: stop the program using it or pick "
        "another port with --port / --harness-port." % port
    )


def test_same_host_for_both_origins_is_refused():
    result = run_serve(["--host", "localhost", "--harness-host", "localhost"])
    assert result.returncode == 2 and "must differ" in result.stderr and "Traceback" not in result.stderr


def test_missing_runtime_without_npm_says_what_to_install(tmp_path):
    # A copy of serve.py and the library with no node_modules beside it, on a PATH with no npm.
    shutil.copy(os.path.join(ROOT, "serve.py"), tmp_path / "serve.py")
    for folder in ("coursewire", "harness"):
        shutil.copytree(os.path.join(ROOT, folder), tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PATH=str(tmp_path))
    result = run_serve([], env=env, script=str(tmp_path / "serve.py"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "npm was not found" in result.stderr and "apt-get install -y npm" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ctrl_c_stops_both_servers_cleanly():
    app_port, harness_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "serve.py"), "--port", str(app_port), "--harness-port", str(harness_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert "Coursewire:" in line
    proc.send_signal(subprocess.signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err
    for port in (app_port, harness_port):
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # free again


def test_a_half_open_connection_is_closed_by_the_server():
    # The real timeout, measured on its own server with a short one (30 s in serve.py).
    import threading
    import time

    import serve

    class Quick(serve.AppHandler):
        timeout = 1

    server = serve.make_server("127.0.0.1", 0, Quick)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10)
        conn.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert conn.recv(100) == b""  # the server hung up
        assert time.monotonic() - started < 8
        conn.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "args, sentence",
    [
        (["build"], "The following arguments are required: DIR, --base-url (see --help)."),
        (["build", "out", "--base-url", "ftp://x"], "--base-url must be the http(s) URL the folder will be served at"),
        (["build", "out", "--base-url", "https://cdn.example/?q=1"], "--base-url must be the http(s) URL"),
        (["--port", "x"], "Argument --port: invalid int value: 'x' (see --help)."),
        (["--public-url", "cdn.example"], "--public-url must be the http(s) URL"),
    ],
)
def test_command_line_mistakes_get_one_sentence(args, sentence, tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "serve.py")] + args,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=str(tmp_path),
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and sentence in result.stderr


def test_build_refuses_a_folder_that_is_not_empty_and_not_a_build(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = run_serve(["build", str(tmp_path), "--base-url", "https://cdn.example/"])
    assert result.returncode == 2 and "is not empty" in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == ["keep.txt"]


# ---- serve.py's simulated Coassemble, used from a host's own backend ----------------------------


def wait_for_banner(proc, timeout_s=30):
    """serve.py's banner (everything it printed up to "Press Ctrl-C"), once it is all out."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        with open(proc.log_path) as f:
            output = f.read()
        if "Press Ctrl-C to stop." in output:
            return output
        assert time.monotonic() < deadline, output
        time.sleep(0.05)


@pytest.fixture
def own_backend(tmp_path):
    """A host's own backend on a port of its own: Coursewire's WSGI app with its own SQLite record,
    given its webhook secret once known (`start(secret)`). Yields an object with .url, .records()."""
    import threading
    import wsgiref.simple_server

    from coursewire.server.settings import Settings
    from coursewire.server.store import open_store
    from coursewire.server.wsgi import make_app

    class Quiet(wsgiref.simple_server.WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class Backend:
        servers = []

        def start(self, webhook_secret):
            self.store = open_store(str(tmp_path / "own-backend.sqlite3"))
            app = make_app(Settings(webhook_secret=webhook_secret, admin_token="own-admin"), store=self.store)
            server = wsgiref.simple_server.make_server("127.0.0.1", self.port, app, handler_class=Quiet)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self.servers.append(server)

        def records(self):
            return records_at(self.url, "own-admin")

    backend = Backend()
    backend.port = free_port()
    backend.url = "http://127.0.0.1:%d" % backend.port
    yield backend
    for server in backend.servers:
        server.shutdown()
        server.server_close()
    if hasattr(backend, "store"):
        backend.store.close()


ADMIN_TOKEN_OF_SERVE = "serve-admin-token-for-the-webhook-test"


def records_at(base, admin_token):
    """{learner: status} of course 101 in the learner record the app at `base` keeps."""
    import json

    request = urllib.request.Request(
        base + "/api/records?course=101", headers={"Authorization": "Bearer " + admin_token}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return {r["learner"]: r["status"] for r in json.loads(response.read())["records"]}


@pytest.mark.parametrize("secret_from", ["variable", "file"])
def test_webhook_url_sends_the_simulated_webhooks_to_a_host_backend_signed_as_the_banner_says(own_backend, secret_from):
    import json
    import re

    from coursewire.server import coassemble
    from coursewire.server.settings import Settings

    from conftest import serve_env
    from serving import start_serve

    env = serve_env(COURSEWIRE_ADMIN_TOKEN=ADMIN_TOKEN_OF_SERVE)
    env.pop("COURSEWIRE_DEMO_KEY")  # the key too comes from where the banner says
    if secret_from == "variable":
        env["COASSEMBLE_WEBHOOK_SECRET"] = "webhook-secret-shared-with-the-host-backend"
    proc, app, harness = start_serve(args=["--webhook-url", own_backend.url + "/webhooks/coassemble"], env=env)
    try:
        banner = wait_for_banner(proc)
        # What the banner tells a host developer to set, followed literally.
        api = re.search(
            r"COASSEMBLE_API_URL=(\S+) COASSEMBLE_WORKSPACE_ID=(\S+) COASSEMBLE_API_KEY=<the key in "
            r"(\S+)>",
            banner,
        )
        assert api and api.group(1) == harness, banner
        with open(api.group(3)) as f:
            key = f.read().strip()
        assert "Webhooks:     sent to %s/webhooks/coassemble, signed with " % own_backend.url in banner
        if secret_from == "variable":
            assert "signed with COASSEMBLE_WEBHOOK_SECRET (the receiver needs the same value)" in banner
            secret = env["COASSEMBLE_WEBHOOK_SECRET"]
        else:
            path = re.search(
                r"signed with the secret in (\S+) \(the receiver's COASSEMBLE_WEBHOOK_SECRET\)", banner
            ).group(1)
            with open(path) as f:
                secret = f.read().strip()
        assert key not in banner and secret not in banner
        own_backend.start(secret)

        # The host backend mints with the printed settings; the learner plays the course through.
        settings = Settings(workspace_id=api.group(2), api_key=key, api_url=api.group(1))
        embed = coassemble.mint("101", "grace", settings=settings)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(embed.url).query)["token"][0]
        request = urllib.request.Request(
            harness + "/api/tracking",
            method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"token": token, "event": "completed"}).encode(),
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202

        # Both webhooks arrive at the host backend, verified there: the learner is completed_verified.
        import time

        deadline = time.monotonic() + 30
        while own_backend.records().get("grace") != "completed_verified":
            assert time.monotonic() < deadline, own_backend.records()
            time.sleep(0.05)
        with urllib.request.urlopen(harness + "/api/deliveries", timeout=10) as response:
            deliveries = json.loads(response.read())["deliveries"]
        assert {d["url"] for d in deliveries} == {own_backend.url + "/webhooks/coassemble"}
        assert all(d["state"] == "delivered" and d["attempts"][0]["status"] == 200 for d in deliveries), deliveries
        assert records_at(app, ADMIN_TOKEN_OF_SERVE) == {}  # serve.py's own app received none of them
    finally:
        proc.stop()


@pytest.mark.parametrize("value", ["ftp://receiver.example/hook", "receiver.example/hook", "http:///hook"])
def test_a_webhook_url_that_is_not_http_gets_one_sentence(value, tmp_path):
    for args, env in ((["--webhook-url", value], None), ([], dict(os.environ, COURSEWIRE_DEMO_WEBHOOK_URL=value))):
        result = subprocess.run(
            [sys.executable, os.path.join(ROOT, "serve.py")] + args,
            capture_output=True,
            text=True,
            timeout=30,
            cwd=str(tmp_path),
            env=env,
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [
            "serve.py: --webhook-url must be the http(s) URL of a webhook receiver, such as "
            "http://127.0.0.1:5000/webhooks/coassemble (got %r) (see --help)." % value
        ]


def _quick_server(**limits):
    """serve.py's app server on a free port with short limits (the real ones: 30 s, 60 s, 128)."""
    import threading

    import serve

    handler = type("Quick", (serve.AppHandler,), {k: v for k, v in limits.items() if k != "max_connections"})
    server = serve.make_server("127.0.0.1", 0, handler)
    if "max_connections" in limits:
        server.max_connections = limits["max_connections"]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_request_trickling_in_is_answered_408_at_its_deadline_not_kept_open():
    # Issue 19, item 8: one header line every 10 s kept a connection open indefinitely (the 30 s
    # limit was per read). Here a line every 0.3 s, each well within the per-read limit.
    import serve

    assert serve.Handler.request_deadline == 60
    server = _quick_server(timeout=20, request_deadline=1)
    try:
        conn = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10)
        conn.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")
        answer, sent = b"", 0
        conn.settimeout(0.3)
        while sent < 100 and not answer:  # 30 s of trickling if nothing stopped it
            try:
                conn.sendall(b"X-Slow-%d: yes\r\n" % sent)
                sent += 1
                answer = conn.recv(65536)
                if not answer:
                    break
            except TimeoutError:
                continue
            except OSError:
                break  # reset by the server: it is gone, which the recv below shows too
        conn.settimeout(10)
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
        conn.close()
        assert sent < 100, "the server kept reading a request that never ends"
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b'{"error": "The request did not arrive within 1 seconds; send it again."}' in answer
    finally:
        server.shutdown()
        server.server_close()


def test_connections_past_the_cap_are_refused_503_and_served_again_once_one_closes():
    import time

    import serve

    assert serve._CappedServer.max_connections == 128
    server = _quick_server(timeout=20, request_deadline=20, max_connections=3)
    port = server.server_address[1]
    stalled = []
    try:
        for _ in range(3):  # slow-header clients holding every thread the cap allows
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            conn.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")
            stalled.append(conn)
        extra = socket.create_connection(("127.0.0.1", port), timeout=10)
        answer = read_to_close(extra)
        extra.close()
        assert answer.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 5" in answer
        assert answer.endswith(b'{"error": "The server has 3 connections open; try again shortly."}')
        stalled.pop().close()  # one slow client goes away: its thread ends and a place is free
        deadline = time.monotonic() + 20
        while True:
            status = fetch("http://127.0.0.1:%d/index.html" % port)[0]
            if status == 200 or time.monotonic() > deadline:
                break
        assert status == 200
    finally:
        for conn in stalled:
            conn.close()
        server.shutdown()
        server.server_close()


def test_the_configs_interpreter_url_never_comes_from_the_requests_host(servers):
    # Issue 19, item 8: the Host header was copied into the interpreter URL other pages then load.
    port = servers.app.rsplit(":", 1)[1]
    for path in ("/mpy.toml", "/coursewire/pyscript.toml"):
        with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as conn:
            conn.sendall(("GET %s HTTP/1.1\r\nHost: evil.example:666\r\nConnection: close\r\n\r\n" % path).encode())
            answer = read_to_close(conn)
        text = answer.decode("latin-1")
        assert text.startswith("HTTP/1.0 200") and "evil.example" not in text
        assert 'interpreter = "//127.0.0.1:%s/runtime/' % port in text
