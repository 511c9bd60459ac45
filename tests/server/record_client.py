"""What the server tests share: a WSGI client, signed Coassemble deliveries, report batches, and
real server processes (gunicorn) on free ports."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

from coursewire.server.settings import Settings
from coursewire.server.webhooks import sign_delivery

from wsgi_client import Answer, call_wsgi  # noqa: F401 (Answer: for the tests that import it here)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEBHOOK_SECRET = "whsec_test-secret-for-coursewire"
ADMIN_TOKEN = "admin-token-for-tests"
TOKEN_SECRET = "token-secret-for-tests"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings(database=None, **changes):
    values = dict(webhook_secret=WEBHOOK_SECRET, admin_token=ADMIN_TOKEN, database=database, token_secret=TOKEN_SECRET)
    values.update(changes)
    return Settings(**values)


class Clock:
    """A clock a test sets by hand (Unix seconds): expiry and freshness are tested exactly."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class WsgiClient:
    """Calls a WSGI application in-process, as a server would."""

    def __init__(self, app):
        self.app = app

    def request(self, method, path, body=b"", headers=None, query="", content_length=True):
        return call_wsgi(self.app, method, path, body, headers, query, content_length)


# -- Coassemble webhook deliveries --


def delivery_body(
    event_type="course.completed",
    course="101",
    learner="ada@example.com",
    title="Safety basics",
    occurred_at="2026-11-28T08:00:00.000Z",
    **extra,
):
    message = {
        "id": "evt_" + uuid.uuid4().hex,
        "type": event_type,
        "occurredAt": occurred_at,
        "workspaceId": "ws_1",
        "data": {"course": {"id": course, "title": title, "key": "safety", "clientIdentifier": "team-a"}},
    }
    if event_type != "course.created":
        message["data"]["tracking"] = {
            "id": 7,
            "identifier": learner,
            "email": learner,
            "commenced": True,
            "completed": event_type == "course.completed",
            "totalTime": 120,
        }
    message.update(extra)
    return json.dumps(message).encode("utf-8")


def delivery_headers(body, timestamp=None, delivery=None, secret=WEBHOOK_SECRET, event=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "X-Coassemble-Timestamp": str(timestamp),
        "X-Coassemble-Signature": sign_delivery(secret, timestamp, body),
        "X-Coassemble-Delivery": delivery or str(uuid.uuid4()),
    }
    if event is not None:
        headers["X-Coassemble-Event"] = event
    return headers


# -- browser report batches --


def event(seq, name, data=None, time_text="2026-11-28T08:00:00.000Z"):
    msg_type, _, sub = name.partition(":")
    item = {"seq": seq, "type": msg_type, "data": data or {}, "time": time_text}
    if sub:
        item["event"] = sub
    return item


def batch(token, events, session="session-0001", **extra):
    value = {"token": token, "session": session, "events": events}
    value.update(extra)
    return json.dumps(value).encode("utf-8")


# -- real HTTP servers --


def http_request(base, method, path, body=b"", headers=None, timeout=30):
    """One request on its own connection -> Answer; OSError when the server cannot be reached."""
    host, port = base.split("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()


def server_env(database, **extra):
    env = dict(os.environ)
    for name in ("DATABASE_URL", "COURSEWIRE_DB", "COURSEWIRE_SECRET"):
        env.pop(name, None)
    env.update({"COASSEMBLE_WEBHOOK_SECRET": WEBHOOK_SECRET, "COURSEWIRE_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONPATH": ROOT})
    env["DATABASE_URL" if database.startswith("postgres") else "COURSEWIRE_DB"] = database
    env.update(extra)
    return env


class Gunicorn:
    """`gunicorn 'coursewire.server.wsgi:application()'` in its own process group, so a test can
    SIGKILL the master and its workers at once, as a crash would."""

    def __init__(self, database, workers=2, port=None, log_path=None, **env):
        self.database = database
        self.workers = workers
        self.port = port or free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.env = server_env(database, **env)
        self.log_path = log_path
        self.proc = None

    def start(self, timeout_s=60):
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--bind",
                "127.0.0.1:%d" % self.port,
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "coursewire.server.wsgi:application()",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if log is not subprocess.DEVNULL:
            log.close()
        deadline = time.time() + timeout_s
        while True:
            try:
                # Any answer from the application (a 405 for GET on the webhook) means it is up.
                if http_request(self.base, "GET", "/webhooks/coassemble", timeout=2).status == 405:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited with %s: %s" % (self.proc.returncode, self.log_tail()))
            if time.time() > deadline:
                self.kill()
                raise RuntimeError("gunicorn did not answer within %d s: %s" % (timeout_s, self.log_tail()))
            time.sleep(0.1)

    def log_tail(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return "(no log)"
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()[-3000:]

    def kill(self):
        """SIGKILL the whole process group: no shutdown code runs, like a power cut to the process."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def print_figures(capsys, title, lines):
    """Figures straight to the terminal (tests never fail on timing; they show it)."""
    load = os.getloadavg()
    with capsys.disabled():
        print("\n  == %s  (machine: %d cores, load average %.2f %.2f %.2f)" % ((title, os.cpu_count()) + load))
        for line in lines:
            print("     " + line)
