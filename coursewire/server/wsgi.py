"""The host server's routes as one WSGI application (PEP 3333): serve.py hosts it for the demo,
gunicorn runs it unchanged in production (`gunicorn 'coursewire.server.wsgi:application()'`).

Every route is `route(request, context) -> (status, payload[, headers])`; refusals are `http.Refusal`, and
any other exception is logged (without secrets) and answered 500 in one sentence.
"""

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from coursewire.server import (
    coassemble,
    embed_url,
    learners_api,
    limits,
    records_api,
    reports,
    staff_session,
    tokens,
    webhooks,
)
from coursewire.server.http import Refusal, Request, json_answer
from coursewire.server.settings import Settings
from coursewire.server.store import RecordStore, StoreUnavailable, open_store
from coursewire.server.times import iso

log = logging.getLogger("coursewire.server")

# identify(environ) -> None | learner id | {"learner", "edit", "name"} (see make_app).
Identify = Callable[[WSGIEnvironment], Any]


class Context:
    """What routes share: the settings and the services built from them.

    `store` is the learner record (coursewire.server.store.open_store), or None when no database
    is configured: the routes that need it then answer 503 in one sentence.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        store: RecordStore | None = None,
        report_token_ttl_s: float = tokens.REPORT_TOKEN_TTL_S,
        mint: Callable[..., Any] | None = None,
        staff_session_ttl_s: float = staff_session.STAFF_SESSION_TTL_S,
        identify: Identify | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._store = store
        self.report_token_ttl_s = report_token_ttl_s
        self.staff_session_ttl_s = staff_session_ttl_s
        self.mint: Callable[..., coassemble.EmbedUrl] = (
            mint or coassemble.mint
        )  # tests inject a fake Coassemble client here
        # identify(environ) -> None | learner id | {"learner", "edit", "name"}: the host's own
        # session says who is signed in (coursewire/server/identity.py); else the Bearer login token.
        self.identify = identify
        self.refusals = limits.RefusalMemo()  # this process's note of what the bounds refuse, and until when

    def has_store(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> RecordStore:
        if self._store is None:
            raise Refusal(503, "The learner record has no database: set DATABASE_URL or COURSEWIRE_DB.")
        return self._store

    def token_secret(self) -> str:
        """The secret report tokens and staff sessions are signed with (each under its own key)."""
        if self.settings.token_secret:
            return self.settings.token_secret
        try:
            return self.store.token_secret()  # generated once, kept in the database
        except StoreUnavailable:
            raise Refusal(503, "The learner record is unavailable; try again shortly.") from None

    def issue_report_token(self, course: str, learner: str) -> str:
        """An opaque report token binding (course, learner), for the page beside its signed embed
        URL. ValueError (one sentence) for an invalid course or learner id."""
        return tokens.issue_report_token(self.token_secret(), course, learner, self.clock(), self.report_token_ttl_s)

    def read_report_token(self, token: object) -> tuple[str, str]:
        """(course, learner) a report token binds; tokens.TokenRefused otherwise, also for a
        token issued before the learner's record was erased (store/erasure.py)."""
        course, learner, issued_at = tokens.read_report_token_claims(self.token_secret(), token, self.clock())
        try:
            erased = self.store.erased_at(learner)
        except StoreUnavailable:
            raise Refusal(503, "The learner record is unavailable; the batch was not stored, retry it later.") from None
        if erased is not None and (issued_at is None or iso(issued_at) < erased):
            raise tokens.TokenRefused(
                "The learner's record was erased after this report token was issued: reload the page for a new one."
            )
        return course, learner


# (method, path) -> route(request, context) -> (status, payload) or (status, payload, headers).
ROUTES = {
    ("POST", "/webhooks/coassemble"): webhooks.receive,
    ("POST", "/api/events"): reports.receive_batch,
    ("GET", "/api/records"): records_api.list_records,
    ("GET", "/api/records/summary"): records_api.course_summary,
    ("GET", "/api/records/answers"): records_api.record_answers,
    ("POST", embed_url.PATH): embed_url.route,
    ("POST", staff_session.PATH): staff_session.sign_in,
    ("GET", staff_session.PATH): staff_session.status,
    ("DELETE", staff_session.PATH): staff_session.sign_out,
}

# (method, compiled path pattern, route): for paths that carry an id. A pattern's named groups
# are passed to the route as keyword arguments: route(request, context, learner=...).
PATTERN_ROUTES = learners_api.PATTERN_ROUTES


def find_route(method: str, path: str) -> tuple[Callable[..., Any], dict[str, str]]:
    """(route, keyword arguments) for `method` on `path`, or Refusal(405 with Allow, or 404)."""
    route = ROUTES.get((method, path))
    if route is not None:
        return route, {}
    for pattern_method, pattern, pattern_route in PATTERN_ROUTES:
        match = pattern.fullmatch(path) if pattern_method == method else None
        if match:
            return pattern_route, match.groupdict()
    methods = set(m for m, p in ROUTES if p == path) | set(
        m for m, pattern, _ in PATTERN_ROUTES if pattern.fullmatch(path)
    )
    if methods:
        allowed = ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
        raise Refusal(405, "Use %s for %s." % (allowed, path), [("Allow", allowed)])
    raise Refusal(404, "There is no %s here." % path)


def make_app(
    settings: Settings | None = None,
    context: Context | None = None,
    store: RecordStore | None = None,
    identify: Identify | None = None,
) -> WSGIApplication:
    """The WSGI application for `settings` (default: from the environment). Without `context`
    or `store`, the learner record is opened (and migrated) from settings.database when set.

    `identify(environ)` (optional) tells who is signed in, for hosts that mount these routes behind
    their own session middleware: None (nobody), a learner id, or {"learner": id, "edit": bool,
    "name": str}. Without it (or when it answers None) the learner comes from the login token
    (`Authorization: Bearer`, COURSEWIRE_LOGIN_SECRET); never from the request body."""
    if context is None:
        settings = settings or Settings.from_env()
        if store is None and settings.database:
            store = open_store(settings.database)
        context = Context(settings, store=store, identify=identify)
    elif identify is not None:
        context.identify = identify

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = answer_route(Request(environ), start_response)
        # HEAD is answered as GET would be (status and headers, Content-Length included), without
        # the body (RFC 9110 9.3.2), on every path: a 405 or 404 too.
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else body

    def answer_route(request: Request, start_response: StartResponse) -> list[bytes]:
        method = "GET" if request.method == "HEAD" else request.method
        try:
            route, arguments = find_route(method, request.path)
            answer = route(request, context, **arguments)
            status, payload, headers = answer if len(answer) == 3 else answer + ((),)
            return json_answer(start_response, status, payload, headers)
        except Refusal as refusal:
            return json_answer(start_response, refusal.status, {"error": refusal.sentence}, refusal.headers)
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            return json_answer(start_response, 500, {"error": "The server failed to handle this request."})

    return app


def application(identify: Identify | None = None) -> WSGIApplication:
    """gunicorn's factory: `gunicorn 'coursewire.server.wsgi:application()'` builds the app from the
    environment once per worker. A Python host may pass `identify` (see make_app)."""
    return make_app(identify=identify)
