#!/usr/bin/env python3
"""Serve Coursewire on one origin and the demo harness on a second one.

    python3 serve.py                # app on http://127.0.0.1:8000, harness on http://localhost:8001
    python3 serve.py --open         # ... and open the course page in a browser

The two hosts differ on purpose: a real Coassemble course is always cross-site to the page that
embeds it, so every message must cross a real origin boundary here too. Standard library only.
"""

import argparse
import errno
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
import webbrowser
import wsgiref.handlers

ROOT = os.path.dirname(os.path.abspath(__file__))
MODULES = os.path.join(ROOT, "node_modules")

# URL prefix -> (folder in node_modules, the only files served from it). Only what the browser
# needs at run time is exposed: no source maps of the runtime, no package internals.
RUNTIME = {
    "/runtime/pyscript/": ("@pyscript/core/dist", None),  # None: every .js/.css in dist
    "/runtime/pyodide/": (
        "pyodide",
        {"pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"},
    ),
    "/runtime/micropython/": (
        "@micropython/micropython-webassembly-pyscript",
        {"micropython.mjs", "micropython.wasm"},
    ),
}
# What the app origin serves from the project itself; everything else (tests, node_modules,
# dotfiles, the venv) answers 404.
APP_FILES = {"index.html", "builder.html", "pyscript.toml", "mpy.toml"}
APP_FOLDERS = ("app/", "examples/", "bench/")
# Files whose presence means `npm ci` has run.
RUNTIME_MARKERS = [
    os.path.join(MODULES, "@pyscript/core/dist/core.js"),
    os.path.join(MODULES, "pyodide/pyodide.asm.wasm"),
    os.path.join(MODULES, "@micropython/micropython-webassembly-pyscript/micropython.wasm"),
]

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


class CliError(Exception):
    """A mistake or missing piece the user can fix: printed as one sentence, no traceback."""


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with correct types, CORS for the wrapper, and quiet logs by default."""

    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES)
    verbose = False

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

    def resolve(self, url_path):
        """The file behind url_path, or None when it is not served."""
        raise NotImplementedError

    def translate_path(self, path):
        url_path = path.split("?", 1)[0].split("#", 1)[0]
        url_path = http.server.urllib.parse.unquote(url_path)
        if "/." in url_path or "\\" in url_path:
            return ""  # no dotfiles, no traversal
        found = self.resolve(url_path)
        return found if found and os.path.isfile(found) else ""

    def send_head(self):
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


class _BodyReader:
    """wsgi.input that ends at Content-Length, so an application can never block on the socket."""

    def __init__(self, stream, length):
        self.stream = stream
        self.left = length

    def read(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.stream.read(size) if size else b""
        self.left -= len(data)
        return data

    def readline(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.stream.readline(size) if size else b""
        self.left -= len(data)
        return data

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
        _BodyReader(handler.rfile, length), handler.wfile, sys.stderr, environ,
        multithread=True, multiprocess=False)
    runner.http_version = "1.1"
    runner.origin_server = True
    runner.server_software = "Coursewire"
    handler.close_connection = True  # one request per connection on these routes
    runner.run(app)


class AppHandler(Handler):
    harness_origin = ""
    wsgi_prefixes = ("/api/", "/webhooks/")

    def resolve(self, url_path):
        if url_path == "/":
            url_path = "/index.html"
        for prefix, (folder, allowed) in RUNTIME.items():
            if url_path.startswith(prefix):
                name = url_path[len(prefix):]
                if "/" in name:
                    return None
                if allowed is None and not name.endswith((".js", ".css")):
                    return None
                if allowed is not None and name not in allowed:
                    return None
                return os.path.join(MODULES, folder, name)
        rel = url_path.lstrip("/")
        if rel in APP_FILES or rel.startswith(APP_FOLDERS):
            return os.path.join(ROOT, rel)
        return None

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/config.js":
            # Tells the pages where the demo harness lives, since its port is a command-line choice.
            return self.send_text("window.coursewireConfig = {harnessOrigin: %r};\n" % self.harness_origin,
                                  "text/javascript")
        if path in ("/pyscript.toml", "/mpy.toml"):
            return self.send_pyscript_config(path)
        return super().do_GET()

    def send_pyscript_config(self, path):
        # PyScript resolves `interpreter` against the *page*, not the config file (files and
        # js_modules are config-relative). Making it absolute lets any page, on any path or any
        # origin, use this config: that is what the drop-in snippet needs.
        host = self.headers.get("Host", "")
        with open(os.path.join(ROOT, path.lstrip("/")), encoding="utf-8") as f:
            text = f.read()
        if re.fullmatch(r"[A-Za-z0-9.\-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?", host):
            text = text.replace('interpreter = "./', 'interpreter = "http://%s/' % host, 1)
        return self.send_text(text, TYPES[".toml"])

    def send_text(self, text, content_type):
        body = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HarnessHandler(Handler):
    wsgi_prefixes = ("/api/",)

    def resolve(self, url_path):
        if url_path == "/":
            url_path = "/index.html"
        return os.path.join(ROOT, "harness", url_path.lstrip("/"))


def ensure_runtime():
    """Install the pinned PyScript/Pyodide/MicroPython runtime from the lockfile on first run."""
    if all(os.path.isfile(marker) for marker in RUNTIME_MARKERS):
        return
    npm = shutil.which("npm")
    if not npm:
        raise CliError(
            "The browser runtime is not installed yet and npm was not found: install Node.js "
            "and npm (on Debian or Ubuntu: sudo apt-get install -y npm), then run this again."
        )
    print("Installing the pinned PyScript runtime with npm ci (first run only)...", flush=True)
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT)
    if result.returncode != 0 or not all(os.path.isfile(m) for m in RUNTIME_MARKERS):
        raise CliError("npm ci did not install the runtime; see npm's message above.")


def bind_address(host):
    # "localhost" may resolve to ::1 first; binding IPv4 keeps both names on one loopback stack.
    return "127.0.0.1" if host == "localhost" else host


def make_server(host, port, handler):
    try:
        server = http.server.ThreadingHTTPServer((bind_address(host), port), handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CliError(
                "Port %d on %s is already in use: stop the program using it or pick another "
                "port with --port / --harness-port." % (port, host)
            )
        raise CliError("Cannot listen on %s:%d: %s." % (host, port, error.strerror or error))
    server.daemon_threads = True
    return server


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Serve Coursewire and its demo harness on two origins.")
    parser.add_argument("--host", default="127.0.0.1", help="host name of the app origin (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port of the app origin (default 8000)")
    parser.add_argument(
        "--harness-host",
        default=None,
        help="host name of the harness origin; must differ from --host (default localhost, or 127.0.0.1 when --host is localhost)",
    )
    parser.add_argument("--harness-port", type=int, default=8001, help="port of the harness origin (default 8001)")
    parser.add_argument("--open", action="store_true", help="open the course page in a browser")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--harness-token-ttl", type=float, metavar="SECONDS",
        default=os.environ.get("COURSEWIRE_HARNESS_TOKEN_TTL") or 10800,
        help="lifetime of the embed URLs the simulated Coassemble API mints (default 10800, as Coassemble's "
             "3 hours; env COURSEWIRE_HARNESS_TOKEN_TTL)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.harness_token_ttl < 10 ** 7:
        parser.error("--harness-token-ttl must be a number of seconds above 0")
    if args.harness_host is None:
        args.harness_host = "127.0.0.1" if args.host == "localhost" else "localhost"
    if args.harness_host == args.host:
        parser.error("--harness-host must differ from --host, so that the course is cross-site as on Coassemble")
    for name in ("port", "harness_port"):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error("--%s must be between 0 and 65535" % name.replace("_", "-"))
    return args


def url(host, port):
    return "http://%s:%d" % (host, port)


def main(argv=None):
    args = parse_args(argv)
    ensure_runtime()
    Handler.verbose = args.verbose
    harness = make_server(args.harness_host, args.harness_port, HarnessHandler)
    AppHandler.harness_origin = url(args.harness_host, harness.server_address[1])
    try:
        app = make_server(args.host, args.port, AppHandler)
    except CliError:
        harness.server_close()
        raise
    app_url = url(args.host, app.server_address[1])

    # The server routes, and the simulated Coassemble API beside the harness pages. With no
    # Coassemble variable set, the app mints from the simulated API with a random per-process demo
    # key, so the demo runs the real signed-URL flow offline. No key is ever printed.
    import secrets
    from coursewire.server.settings import Settings
    from coursewire.server.wsgi import make_app
    from harness.api import make_app as make_harness_api
    demo_workspace, demo_key = "1000", secrets.token_hex(32)
    try:
        settings = Settings.from_env()
    except ValueError as error:
        raise CliError(str(error))
    simulated = not any(os.environ.get(name) for name in
                        ("COASSEMBLE_WORKSPACE_ID", "COASSEMBLE_API_KEY", "COASSEMBLE_API_URL"))
    if simulated:
        settings.workspace_id, settings.api_key, settings.api_url = demo_workspace, demo_key, AppHandler.harness_origin
    settings.webhook_secret = settings.webhook_secret or secrets.token_hex(32)
    AppHandler.mount(make_app(settings))
    HarnessHandler.mount(make_harness_api(
        demo_workspace, demo_key, token_ttl_s=args.harness_token_ttl,
        webhook_url=app_url + "/webhooks/coassemble", webhook_secret=settings.webhook_secret))

    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (app, harness)]
    for thread in threads:
        thread.start()
    print("Coursewire:   %s/  (builder: %s/builder.html)" % (app_url, app_url))
    print("Demo harness: %s/" % AppHandler.harness_origin)
    if simulated:
        print("Coassemble:   simulated on the harness origin (workspace %s, a random demo key; embed URLs "
              "last %g s)" % (demo_workspace, args.harness_token_ttl))
    else:
        print("Coassemble:   %s (workspace %s)" % (settings.api_url, settings.workspace_id or "not set"))
    print("Press Ctrl-C to stop.", flush=True)
    if args.open:
        webbrowser.open(app_url + "/")
    try:
        while any(t.is_alive() for t in threads):
            threads[0].join(0.5)
    except KeyboardInterrupt:
        print("\nStopping.")
    finally:
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
