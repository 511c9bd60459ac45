#!/usr/bin/env python3
"""Serve Coursewire on one origin and the demo harness on a second one.

    python3 serve.py                # app on http://127.0.0.1:8000, harness on http://localhost:8001
    python3 serve.py --open         # ... and open the course page in a browser

The two hosts differ on purpose: a real Coassemble course is always cross-site to the page that
embeds it, so every message must cross a real origin boundary here too. Standard library only.
"""

import errno
import http.server
import io
import os
import secrets
import signal
import socket
import sys
import threading
import urllib.parse
import webbrowser
import wsgiref.handlers

from coursewire import bundle, deploy
from coursewire.cli import ArgumentParser as _Parser  # a command-line mistake is one sentence
from coursewire.cli import CliError, build_command

try:
    import jwt  # noqa: F401  (PyJWT: the login tokens that say who the learner is)
except ImportError:
    sys.exit(
        "serve.py: PyJWT is not installed (the server verifies login tokens with it): run "
        "`python3 -m pip install PyJWT`, or ./test.sh once and use .venv/bin/python."
    )

from coursewire.server.http import Refusal, Request, json_answer  # noqa: E402
from coursewire.server.login import issue_login_token  # noqa: E402
from coursewire.server.settings import Settings  # noqa: E402
from coursewire.server.store import StoreError, open_store  # noqa: E402
from coursewire.server.wsgi import make_app  # noqa: E402
from harness.api import make_app as make_harness_api  # noqa: E402

ROOT = deploy.ROOT
MODULES = deploy.MODULES
# What the app origin serves from the project itself, besides the runtime files (coursewire/deploy.py
# says which). Everything else (tests, the server module, node_modules, dotfiles, the venv) is 404.
APP_FILES = {"index.html", "builder.html", "report.html", "pyscript.toml", "mpy.toml"}
APP_FOLDERS = ("app/", "examples/", "bench/")
# The library's browser side; never coursewire/server/ or coursewire/deploy.py (CPython only).
LIBRARY_FOLDERS = ("coursewire/core/", "coursewire/browser/")
LIBRARY_FILES = set(deploy.library_paths())
CONFIGS = {"pyscript.toml", "mpy.toml"} | set(deploy.LIBRARY_CONFIGS.values())
# The demo's learner record when neither --db nor DATABASE_URL / COURSEWIRE_DB says otherwise.
DEMO_DATABASE = os.path.join(ROOT, "var", "coursewire.sqlite3")

TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".toml": "text/plain; charset=utf-8",
    ".py": "text/plain; charset=utf-8",
    ".zip": "application/zip",
    ".css": "text/css",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files confined to their folders, with correct types, CORS for the wrapper, a timeout
    per connection, and quiet logs by default. GET and HEAD always agree (same status, headers)."""

    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES)
    verbose = False
    # Seconds a connection may sit idle or half-sent before it is closed, so slow or half-open
    # clients cannot hold a thread each for as long as they like.
    timeout = 30
    # Seconds a whole request (line, headers, body) may take to arrive, however steadily it
    # trickles in (one header line every few seconds resets `timeout` each time): then 408.
    request_deadline = 60
    served_root = ROOT  # every file served lies under this folder (checked after symlinks)

    def handle_one_request(self):
        self._arrival = _Deadline(self.connection, self.request_deadline)
        try:
            super().handle_one_request()
        except OSError:
            if not self._arrival.expired:
                raise
            self.close_connection = True  # the deadline answered 408 and closed the socket
        finally:
            self._arrival.arrived()

    def parse_request(self):
        parsed = super().parse_request()
        length = self.headers.get("Content-Length", "0").strip() if parsed else ""
        if parsed and length in ("", "0") and "Transfer-Encoding" not in self.headers:
            self._arrival.arrived()  # nothing more to wait for; _BodyReader says so for a body
        return parsed

    def end_headers(self):
        # A host site on another origin may load the wrapper and the runtime from here.
        self.send_header("Access-Control-Allow-Origin", "*")
        if self.path.startswith("/runtime/"):
            self.send_header("Cache-Control", "public, max-age=86400")
        else:
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    def relative_path(self):
        """The request's path relative to the site root ("" for "/"), or None when it can never be
        served: not absolute, a dot segment (traversal or dotfile), a backslash or a NUL."""
        raw = self.path.split("?", 1)[0].split("#", 1)[0]
        if not raw.startswith("/"):
            return None
        path = urllib.parse.unquote(raw)
        if "\\" in path or "\x00" in path:
            return None
        parts = path.split("/")[1:]
        if any(part.startswith(".") for part in parts):
            return None
        return "/".join(parts)

    def resolve(self, rel):
        """The file behind a clean relative path, or None when it is not served."""
        raise NotImplementedError

    def generated(self, rel):
        """(text, content type) of a response made here rather than read from a file, or None."""
        return None

    def translate_path(self, path):
        rel = self.relative_path()
        found = self.resolve(rel) if rel is not None else None
        if not found or not os.path.isfile(found):
            return ""
        real, root = os.path.realpath(found), os.path.realpath(self.served_root)
        return found if real.startswith(root + os.sep) else ""

    def send_head(self):
        rel = self.relative_path()
        made = self.generated(rel) if rel is not None else None
        if made is not None:
            body = made[0].encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", made[1])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)  # do_GET copies it out, do_HEAD does not: they agree
        if not self.translate_path(self.path):
            self.send_error(404, "Not found")
            return None
        return super().send_head()

    # Routes under these prefixes go to `wsgi_app` (a PEP 3333 application), everything else is a
    # static file. None: no application on this origin.
    wsgi_prefixes = ()
    wsgi_app = None

    @classmethod
    def mount(cls, app):
        """Serve `app` (a WSGI application) under this origin's `wsgi_prefixes`."""
        cls.wsgi_app = staticmethod(app)

    def _wsgi_route(self):
        path = self.path.split("?", 1)[0]
        return self.wsgi_app is not None and path.startswith(self.wsgi_prefixes)

    def do_GET(self):
        if self._wsgi_route():
            return run_wsgi(self, self.wsgi_app)
        return super().do_GET()

    def do_HEAD(self):
        if self._wsgi_route():
            return run_wsgi(self, self.wsgi_app)
        return super().do_HEAD()

    def do_POST(self):
        if self._wsgi_route():
            return run_wsgi(self, self.wsgi_app)
        self.send_error(405, "Only GET and HEAD are served here")

    def do_OPTIONS(self):
        if self._wsgi_route():
            return run_wsgi(self, self.wsgi_app)
        self.send_error(405, "Only GET and HEAD are served here")

    def do_DELETE(self):
        # Staff sign-out and erasure on the app origin; the simulated Coassemble's DELETE user,
        # tracking and webhook on the harness origin. Nothing static answers DELETE.
        if self._wsgi_route():
            return run_wsgi(self, self.wsgi_app)
        self.send_error(405, "Only GET and HEAD are served here")


class _Deadline:
    """Answers 408 and closes `connection` unless `arrived()` is called within `seconds`."""

    def __init__(self, connection, seconds):
        self.connection = connection
        self.expired = False
        self._done = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire, (seconds,))
        self._timer.daemon = True
        self._timer.start()

    def arrived(self):
        with self._lock:
            self._done = True
        self._timer.cancel()

    def _expire(self, seconds):
        with self._lock:
            if self._done:
                return  # the request arrived just in time: its own answer is being written
            self.expired = True
        _refuse(
            self.connection,
            408,
            "Request Timeout",
            "The request did not arrive within %d seconds; send it again." % seconds,
        )


def _refuse(connection, status, reason, sentence, headers=""):
    """Answer `status` with {"error": sentence} on a raw connection and close it for writing."""
    body = ('{"error": "%s"}' % sentence).encode("utf-8")
    head = (
        "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n"
        "Connection: close\r\n%s\r\n" % (status, reason, len(body), headers)
    ).encode("ascii")
    try:
        connection.sendall(head + body)
    except OSError:
        pass  # the client is gone already
    try:
        connection.shutdown(socket.SHUT_RDWR)  # the handler's pending read ends now
    except OSError:
        pass


class _BodyReader:
    """wsgi.input that ends at Content-Length, so an application can never block on the socket."""

    def __init__(self, stream, length, arrived=lambda: None):
        self.stream = stream
        self.left = length
        self._arrived = arrived
        if not length:
            arrived()

    def read(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.stream.read(size) if size else b""
        self._count(data)
        return data

    def readline(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.stream.readline(size) if size else b""
        self._count(data)
        return data

    def _count(self, data):
        self.left -= len(data)
        if not self.left:
            self._arrived()  # the whole request is in: the request deadline no longer applies

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def run_wsgi(handler, app):
    """Answer the request `handler` holds with the WSGI application `app` (the same application
    gunicorn runs in production; here it shares serve.py's port with the static files)."""
    path, _, query = handler.path.partition("?")
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    if length < 0:
        handler.send_error(400, "Content-Length is not a number")
        return
    environ = {
        "REQUEST_METHOD": handler.command,
        "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote(path, "latin-1"),
        "QUERY_STRING": query,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(length) if length else "",
        "SERVER_NAME": handler.server.server_address[0],
        "SERVER_PORT": str(handler.server.server_address[1]),
        "SERVER_PROTOCOL": handler.request_version,
        "REMOTE_ADDR": handler.client_address[0],
    }
    for name, value in handler.headers.items():
        key = "HTTP_" + name.upper().replace("-", "_")
        if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            environ[key] = environ[key] + "," + value if key in environ else value
    runner = wsgiref.handlers.SimpleHandler(
        _BodyReader(handler.rfile, length, handler._arrival.arrived),
        handler.wfile,
        sys.stderr,
        environ,
        multithread=True,
        multiprocess=False,
    )
    runner.http_version = "1.1"
    runner.origin_server = True
    runner.server_software = "Coursewire"
    handler.close_connection = True  # one request per connection on these routes
    runner.run(app)


DEMO_LOGIN_PATH = "/demo/login"
DEMO_LOGIN_TTL_S = 3600


def with_demo_login(app, secret):
    """`app` plus the demo's login endpoint, `GET /demo/login?learner=ID[&edit=1]` -> {"token": a
    login token for that learner, 1 h}: the demo pages' stand-in for a host's own login, so that
    their learner picker works while /api/embed-url takes the learner only from a login. Demo
    only: it signs for anyone who asks, so it exists only here (never in the WSGI app a host
    runs), and only with serve.py's own per-process secret (`secret` None: off, 404)."""

    def demo_app(environ, start_response):
        if environ.get("PATH_INFO") != DEMO_LOGIN_PATH:
            return app(environ, start_response)
        body = demo_login(environ, start_response)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else body  # HEAD: GET's status and headers only

    def demo_login(environ, start_response):
        request = Request(environ)
        try:
            if secret is None:
                raise Refusal(
                    404,
                    "The demo login is off: COURSEWIRE_LOGIN_SECRET is set, so login tokens "
                    "come from the host's own backend.",
                )
            if request.method not in ("GET", "HEAD"):
                raise Refusal(405, "Use GET for %s." % DEMO_LOGIN_PATH, [("Allow", "GET, HEAD")])
            try:
                query = urllib.parse.parse_qs(request.query, max_num_fields=4)
            except ValueError:
                raise Refusal(400, "The demo login takes ?learner=ID and, for the builder, &edit=1.") from None
            try:
                token = issue_login_token(
                    secret,
                    (query.get("learner") or [""])[0],
                    DEMO_LOGIN_TTL_S,
                    edit=(query.get("edit") or [""])[0] == "1",
                )
            except ValueError as error:
                raise Refusal(400, str(error).replace("learner must", "?learner= must")) from error
            return json_answer(start_response, 200, {"token": token})
        except Refusal as refusal:
            return json_answer(start_response, refusal.status, {"error": refusal.sentence}, refusal.headers)

    return demo_app


class AppHandler(Handler):
    harness_origin = ""
    public_url = None  # --public-url: the origin as browsers reach it (behind a proxy)
    wsgi_prefixes = ("/api/", "/webhooks/", "/demo/")

    def resolve(self, rel):
        if rel == "":
            rel = "index.html"
        if rel.startswith("runtime/"):
            return deploy.runtime_file(rel)
        if rel in APP_FILES or rel in LIBRARY_FILES or rel.startswith(APP_FOLDERS + LIBRARY_FOLDERS):
            return os.path.join(ROOT, rel)
        return None

    def generated(self, rel):
        if rel == "config.js":
            # Tells the pages where the demo harness lives, since its port is a command-line choice.
            return "window.coursewireConfig = {harnessOrigin: %r};\n" % self.harness_origin, "text/javascript"
        # Each config is served with its [files] as one bundle per package (coursewire/bundle.py),
        # both made at each request, so an edit shows on the next reload.
        if rel in CONFIGS:
            text = deploy.config_text(rel, "%s/%s" % (self.site_url(), rel))
            return bundle.bundled_config(text, rel), TYPES[".toml"]
        config = bundle.config_of(rel)
        if config in CONFIGS:
            members = bundle.bundles(config).get(rel)
            if members:
                return bundle.bundle_text(members[1]), TYPES[".py"]
        return None

    bound_url = None  # "//<--host>:<port>": this origin as it listens (set by main)

    def site_url(self):
        """Where browsers reach this origin: --public-url, else the address this server listens
        on, scheme-relative (a page served over HTTPS asks for HTTPS). Never the request's Host
        header: no client may choose the interpreter URL the configs give other pages (behind a
        proxy, pass --public-url)."""
        if self.public_url:
            return self.public_url
        return self.bound_url or "//%s:%d" % self.server.server_address[:2]


class HarnessHandler(Handler):
    wsgi_prefixes = ("/api/",)
    served_root = os.path.join(ROOT, "harness")
    # The pages and their assets; never the simulated API's own Python (harness/api.py ...).
    served_types = (".html", ".js", ".css", ".svg", ".png", ".md")

    def resolve(self, rel):
        rel = rel or "index.html"
        return os.path.join(self.served_root, rel) if rel.endswith(self.served_types) else None


def ensure_runtime():
    """Install the pinned PyScript/Pyodide/MicroPython runtime from the lockfile on first run."""
    try:
        deploy.ensure_runtime()
    except deploy.RuntimeMissing as error:
        raise CliError(str(error)) from error


def bind_address(host):
    # "localhost" may resolve to ::1 first; binding IPv4 keeps both names on one loopback stack.
    return "127.0.0.1" if host == "localhost" else host


class _CappedServer(http.server.ThreadingHTTPServer):
    """One thread per connection, at most `max_connections` at once: past that a connection is
    answered 503 at once and closed, so slow clients cannot take every thread the machine has."""

    daemon_threads = True
    max_connections = 128

    def __init__(self, *args, **kwargs):
        self._open = 0
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with self._open_lock:
            full = self._open >= self.max_connections
            if not full:
                self._open += 1
        if full:
            _refuse(
                request,
                503,
                "Service Unavailable",
                "The server has %d connections open; try again shortly." % self.max_connections,
                "Retry-After: 5\r\n",
            )
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._closed()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._closed()

    def _closed(self):
        with self._open_lock:
            self._open -= 1


def make_server(host, port, handler):
    try:
        server = _CappedServer((bind_address(host), port), handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CliError(
                "Port %d on %s is already in use: stop the program using it or pick another "
                "port with --port / --harness-port." % (port, host)
            ) from error
        raise CliError("Cannot listen on %s:%d: %s." % (host, port, error.strerror or error)) from error
    server.daemon_threads = True
    return server


def parse_args(argv):
    parser = _Parser(
        description="Serve Coursewire and its demo harness on two origins. "
        "`serve.py build DIR --base-url URL` writes the static build instead."
    )
    parser.add_argument("--host", default="127.0.0.1", help="host name of the app origin (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port of the app origin (default 8000)")
    parser.add_argument(
        "--harness-host",
        default=None,
        help="host name of the harness origin; must differ from --host (default localhost, or 127.0.0.1 when --host is localhost)",
    )
    parser.add_argument("--harness-port", type=int, default=8001, help="port of the harness origin (default 8001)")
    parser.add_argument(
        "--public-url",
        default=None,
        help="the app origin as browsers reach it, e.g. https://coursewire.example behind a "
        "proxy (default: this server's own --host and --port, scheme-relative; never a request's Host header)",
    )
    parser.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="the learner record: an SQLite file, created on first run, or a postgresql:// URL "
        "(default: DATABASE_URL, else COURSEWIRE_DB, else var/coursewire.sqlite3 in the project)",
    )
    parser.add_argument("--open", action="store_true", help="open the course page in a browser")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--webhook-url",
        metavar="URL",
        default=os.environ.get("COURSEWIRE_DEMO_WEBHOOK_URL") or None,
        help="send the simulated Coassemble's webhooks to this receiver (your own backend's "
        "/webhooks/coassemble) instead of serve.py's own app; signed with COASSEMBLE_WEBHOOK_SECRET "
        "(env COURSEWIRE_DEMO_WEBHOOK_URL)",
    )
    parser.add_argument(
        "--harness-token-ttl",
        type=float,
        metavar="SECONDS",
        default=os.environ.get("COURSEWIRE_HARNESS_TOKEN_TTL") or 10800,
        help="lifetime of the embed URLs the simulated Coassemble API mints (default 10800, as Coassemble's "
        "3 hours; env COURSEWIRE_HARNESS_TOKEN_TTL)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.harness_token_ttl < 10**7:
        parser.error("--harness-token-ttl must be a number of seconds above 0")
    if args.harness_host is None:
        args.harness_host = "127.0.0.1" if args.host == "localhost" else "localhost"
    if args.harness_host == args.host:
        parser.error("--harness-host must differ from --host, so that the course is cross-site as on Coassemble")
    for name in ("port", "harness_port"):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error("--%s must be between 0 and 65535" % name.replace("_", "-"))
    if args.webhook_url is not None:
        parsed = urllib.parse.urlsplit(args.webhook_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.fragment:
            parser.error(
                "--webhook-url must be the http(s) URL of a webhook receiver, such as "
                "http://127.0.0.1:5000/webhooks/coassemble (got %r)" % args.webhook_url
            )
    if args.public_url is not None:
        try:
            args.public_url = deploy.check_base_url(args.public_url)
        except ValueError as error:
            parser.error(str(error).replace("--base-url", "--public-url"))
    return args


def demo_secret(value, path):
    """(secret, the file it is kept in or None) for a secret of the demo's: `value` (from its
    variable) when set, else the one kept in the file `path` (made on first run)."""
    if value:
        return value, None
    from coursewire.server.secret_file import SecretFileError, read_or_create

    try:
        return read_or_create(path), path
    except SecretFileError as error:
        raise CliError(str(error)) from error


def where(variable, noun, path):
    """Where the banner says a secret is: its variable, or the file serve.py keeps it in."""
    return "%s in %s" % (noun, path) if path else variable


def url(host, port):
    return "http://%s:%d" % (host, port)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["build"]:  # the same command as `coursewire build`
        return build_command(argv[1:], prog="serve.py build")
    args = parse_args(argv)
    ensure_runtime()
    Handler.verbose = args.verbose
    AppHandler.public_url = args.public_url
    try:
        settings = Settings.from_env()
    except ValueError as error:
        raise CliError(str(error)) from error
    settings.database = args.db or settings.database or DEMO_DATABASE
    if settings.database == DEMO_DATABASE:
        os.makedirs(os.path.dirname(DEMO_DATABASE), exist_ok=True)
    try:
        store = open_store(settings.database)
    except StoreError as error:
        raise CliError(str(error)) from error
    # The demo's own secrets, when their variable is unset: made once, kept beside the SQLite
    # database (else in var/) readable by their owner only, and never printed: only their path is.
    folder = os.path.dirname(store.path) if store.backend == "sqlite" else os.path.dirname(DEMO_DATABASE)
    try:
        # The admin token: staff sign-in on report.html.
        settings.admin_token, admin_token_file = demo_secret(settings.admin_token, os.path.join(folder, "admin-token"))
        # The simulated Coassemble API's key, which a host backend needs as its COASSEMBLE_API_KEY.
        demo_key, demo_key_file = demo_secret(os.environ.get("COURSEWIRE_DEMO_KEY"), os.path.join(folder, "demo-key"))
        # Signs the simulated webhooks; a receiver other than serve.py's app verifies with it too.
        settings.webhook_secret, webhook_secret_file = demo_secret(
            settings.webhook_secret, os.path.join(folder, "webhook-secret")
        )
    except CliError:
        store.close()
        raise
    harness = make_server(args.harness_host, args.harness_port, HarnessHandler)
    AppHandler.harness_origin = url(args.harness_host, harness.server_address[1])
    try:
        app = make_server(args.host, args.port, AppHandler)
    except CliError:
        harness.server_close()
        raise
    app_url = url(args.host, app.server_address[1])
    AppHandler.bound_url = "//%s:%d" % (args.host, app.server_address[1])

    # The server routes, and the simulated Coassemble API beside the harness pages. With no
    # Coassemble variable set, the app mints from the simulated API with the demo key, so the demo
    # runs the real signed-URL flow offline. No key or secret is ever printed, only where it is.
    demo_workspace = "1000"
    simulated = not any(
        os.environ.get(name) for name in ("COASSEMBLE_WORKSPACE_ID", "COASSEMBLE_API_KEY", "COASSEMBLE_API_URL")
    )
    if simulated:
        settings.workspace_id, settings.api_key, settings.api_url = demo_workspace, demo_key, AppHandler.harness_origin
        settings.allow_edit = True  # the demo builder page; nothing real can be edited offline
    # The learner comes only from a login. Without the host's COURSEWIRE_LOGIN_SECRET, the demo
    # signs its own login tokens (GET /demo/login, for the demo pages' learner picker) with a
    # secret of this process alone; with it, the demo login is off.
    demo_login_secret = None
    if not settings.login_secret:
        demo_login_secret = settings.login_secret = secrets.token_urlsafe(32)
    webhook_url = args.webhook_url or app_url + "/webhooks/coassemble"
    AppHandler.mount(with_demo_login(make_app(settings, store=store), demo_login_secret))
    HarnessHandler.mount(
        make_harness_api(
            demo_workspace,
            demo_key,
            token_ttl_s=args.harness_token_ttl,
            # Several secrets (a rotation under way): the simulated Coassemble signs with the newest, listed last.
            webhook_url=webhook_url,
            webhook_secret=settings.webhook_secret.split()[-1],
        )
    )

    # Ctrl-C (and SIGTERM) only set `stop`, from the moment the servers run: a signal that comes
    # while the banner is printed still stops both servers cleanly, never half-way.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (app, harness)]
    for thread in threads:
        thread.start()
    print("Coursewire:   %s/  (builder: %s/builder.html)" % (app_url, app_url))
    print("Demo harness: %s/" % AppHandler.harness_origin)
    print("Learner record: %s" % store.describe())
    print(
        "Login:        %s"
        % (
            "demo login for any learner at %s%s (COURSEWIRE_LOGIN_SECRET unset)" % (app_url, DEMO_LOGIN_PATH)
            if demo_login_secret
            else "login tokens signed with COURSEWIRE_LOGIN_SECRET by your backend"
        )
    )
    print(
        "Staff report: %s/report.html  (sign in with %s)"
        % (app_url, where("COURSEWIRE_ADMIN_TOKEN", "the admin token", admin_token_file))
    )
    if simulated:
        print("Coassemble:   simulated on the harness origin (embed URLs last %g s)" % args.harness_token_ttl)
    else:
        print(
            "Coassemble:   %s (workspace %s); a simulated one is on the harness origin"
            % (settings.api_url, settings.workspace_id or "not set")
        )
    # How a host's own backend mints from the simulated Coassemble and verifies its webhooks. The
    # values themselves are never printed (logs are kept), only where they are.
    print(
        "  From your own backend: COASSEMBLE_API_URL=%s COASSEMBLE_WORKSPACE_ID=%s COASSEMBLE_API_KEY=<%s>"
        % (
            AppHandler.harness_origin,
            demo_workspace,
            where("the value of COURSEWIRE_DEMO_KEY", "the key", demo_key_file),
        )
    )
    print(
        "Webhooks:     sent to %s, signed with %s%s"
        % (
            webhook_url,
            "the secret in %s (the receiver's COASSEMBLE_WEBHOOK_SECRET)" % webhook_secret_file
            if webhook_secret_file
            else "COASSEMBLE_WEBHOOK_SECRET (the receiver needs the same value)",
            "" if args.webhook_url else "; --webhook-url URL sends them to your own backend instead",
        )
    )
    print("Press Ctrl-C to stop.", flush=True)
    if args.open:
        webbrowser.open(app_url + "/")
    try:
        while not stop.is_set() and all(t.is_alive() for t in threads):
            stop.wait(0.5)
    finally:
        print("\nStopping.", flush=True)
        for server in (app, harness):
            server.shutdown()
            server.server_close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CliError as error:
        print("serve.py: %s" % error, file=sys.stderr)
        sys.exit(2)
