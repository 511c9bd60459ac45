"""Start serve.py on free ports and wait until it answers (shared by the tests and bench/)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(probe="/index.html", timeout_s=120, args=(), env=None):
    """(process, app origin, harness origin). The first run may install the runtime (npm ci).
    `args` are extra serve.py arguments; `env` replaces the environment (default: inherited)."""
    app_port, harness_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "serve.py"), "--port", str(app_port),
         "--harness-port", str(harness_port)] + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    app = "http://127.0.0.1:%d" % app_port
    deadline = time.time() + timeout_s
    while True:
        try:
            urllib.request.urlopen(app + probe, timeout=2).close()
            return proc, app, "http://localhost:%d" % harness_port
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("serve.py exited: " + proc.stdout.read())
            if time.time() > deadline:
                proc.kill()
                raise RuntimeError("serve.py did not start within %d s" % timeout_s)
            time.sleep(0.1)
