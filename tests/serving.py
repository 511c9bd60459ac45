"""Start serve.py on free ports and wait until it answers (shared by the tests and bench/)."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_to_close(conn):
    """Everything a raw socket receives until the server closes it (an HTTP client library would
    hide what a HEAD answer or a refusal really carries)."""
    answer = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return answer
        answer += chunk


def start_serve(probe="/index.html", timeout_s=120, args=(), env=None, ports=None):
    """(process, app origin, harness origin). The first run may install the runtime (npm ci).

    `args` are extra serve.py arguments; `env` replaces the environment (default: inherited);
    `ports` is (app port, harness port) when the caller must know them beforehand.
    Unless `args` name a --db, the learner record is a fresh SQLite file in a temporary folder.
    Everything serve.py prints goes to `process.log_path` (never an unread pipe that could fill
    and stall the server); `process.stop()` ends it and removes the folder.
    """
    app_port, harness_port = ports or (free_port(), free_port())
    folder = tempfile.mkdtemp(prefix="coursewire-serve-")
    args = list(args)
    if "--db" not in args:
        args += ["--db", os.path.join(folder, "record.sqlite3")]
    log_path = os.path.join(folder, "serve.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                os.path.join(ROOT, "serve.py"),
                "--port",
                str(app_port),
                "--harness-port",
                str(harness_port),
            ]
            + args,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
    proc.log_path = log_path

    def stop():
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)

    proc.stop = stop
    app = "http://127.0.0.1:%d" % app_port
    deadline = time.time() + timeout_s
    while True:
        try:
            urllib.request.urlopen(app + probe, timeout=2).close()
            return proc, app, "http://localhost:%d" % harness_port
        except OSError:
            if proc.poll() is not None:
                with open(log_path) as f:
                    output = f.read()
                stop()
                raise RuntimeError("serve.py exited: " + output) from None
            if time.time() > deadline:
                stop()
                raise RuntimeError("serve.py did not start within %d s" % timeout_s) from None
            time.sleep(0.1)
