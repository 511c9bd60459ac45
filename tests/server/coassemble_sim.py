"""The simulated Coassemble (harness/api.py) on a real local port, for the server tests that call
it over HTTP as they would call Coassemble (reconcile, the worker)."""

import socketserver
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .record_client import ROOT, settings

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from harness.api import make_app  # noqa: E402

WORKSPACE = "1000"
API_KEY = "reconcile-test-key-" + "7e" * 24


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *values):
        pass


class SimulatedCoassemble:
    """`api` is the harness application (seed_tracking, set_trackings_switches,
    trackings_requests); `base` its URL; `settings(...)` server Settings pointing at it."""

    def __init__(self):
        self.api = make_app(WORKSPACE, API_KEY)
        self._server = make_server("127.0.0.1", 0, self.api, server_class=_Server, handler_class=_Quiet)
        self.base = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def settings(self, **changes):
        values = dict(workspace_id=WORKSPACE, api_key=API_KEY, api_url=self.base, mint_timeout_s=10.0)
        values.update(changes)
        return settings(**values)

    def env(self):
        """The environment variables that point a `coursewire` command at it."""
        return {"COASSEMBLE_WORKSPACE_ID": WORKSPACE, "COASSEMBLE_API_KEY": API_KEY, "COASSEMBLE_API_URL": self.base}

    def requests_for(self, learner):
        return sum(1 for query in self.api.trackings_requests if query.get("identifier") == learner)

    def close(self):
        self._server.shutdown()
        self._server.server_close()
