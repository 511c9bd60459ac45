"""Coursewire's routes inside a host's own Python web application (CPython only).

A host whose own view mints (`coassemble.mint()` + `tokens.new_report_token()`) still wants the
routes that receive what the page reports, Coassemble's webhooks and the staff's reads. They are
one WSGI application (wsgi.application()); this module sends just those paths to it:

    Flask (any WSGI app):  app.wsgi_app = with_coursewire_routes(app.wsgi_app)   (+ /api/learners/...)
    Django:                path("", include("coursewire.server.django_urls"))  (django_urls.py)

The Coursewire application is built on the first request that needs it (settings from the
environment, as gunicorn's factory does), not at import: a server that forks its workers after
importing the host never shares a database connection between them.
"""

import threading
from collections.abc import Callable, Iterable

# The stock routes a host with its own mint view mounts: the page's reports, Coassemble's webhooks,
# and the staff's record reads with their sign-in (report.html). Not /api/embed-url: the host's
# own view mints.
ROUTES = (
    "/api/events",
    "/webhooks/coassemble",
    "/api/records",
    "/api/records/summary",
    "/api/records/answers",
    "/api/staff-session",
)
# And every path under these: the staff's erase and export of one learner (/api/learners/<id>...).
PREFIXES = ("/api/learners/",)

_lock = threading.Lock()
_shared: list[Callable] = []


def coursewire_app() -> Callable:
    """The process's Coursewire WSGI application, built once from the environment."""
    if not _shared:
        with _lock:
            if not _shared:
                from coursewire.server.wsgi import application

                _shared.append(application())
    return _shared[0]


def with_coursewire_routes(
    host_app: Callable, paths: Iterable[str] = ROUTES, app: "Callable | None" = None, prefixes: Iterable[str] = PREFIXES
) -> Callable:
    """A WSGI application answering `paths` (exact, relative to where the host is mounted) and the
    paths under `prefixes` with Coursewire's routes (`app`, default coursewire_app()) and every
    other request with `host_app`."""
    paths = frozenset(paths)
    prefixes = tuple(prefixes)

    def dispatch(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path in paths or path.startswith(prefixes):
            return (app or coursewire_app())(environ, start_response)
        return host_app(environ, start_response)

    return dispatch
