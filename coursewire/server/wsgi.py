"""The host server's routes as one WSGI application (PEP 3333): serve.py hosts it for the demo,
gunicorn runs it unchanged in production (`gunicorn 'coursewire.server.wsgi:application()'`).

Every route is `route(request, context) -> (status, payload)`; refusals are `http.Refusal`, and
any other exception is logged (without secrets) and answered 500 in one sentence.
"""

import logging
import time

from coursewire.server import coassemble, embed_url
from coursewire.server.http import Refusal, Request, json_answer
from coursewire.server.settings import Settings

log = logging.getLogger("coursewire.server")


class Context:
    """What routes share: the settings and the services built from them."""

    def __init__(self, settings, clock=time.time, mint=None):
        self.settings = settings
        self.clock = clock
        self.mint = mint or coassemble.mint  # tests inject a fake Coassemble client here


# (method, path) -> route. Each module that serves a route adds itself here.
ROUTES = {
    ("POST", embed_url.PATH): embed_url.route,
}


def make_app(settings=None, context=None):
    """The WSGI application for `settings` (default: from the environment)."""
    context = context or Context(settings or Settings.from_env())

    def app(environ, start_response):
        request = Request(environ)
        route = ROUTES.get((request.method, request.path))
        try:
            if route is None:
                if any(path == request.path for _, path in ROUTES):
                    allowed = ", ".join(sorted(m for m, p in ROUTES if p == request.path))
                    raise Refusal(405, "Use %s for %s." % (allowed, request.path), [("Allow", allowed)])
                raise Refusal(404, "There is no %s here." % request.path)
            status, payload = route(request, context)
            return json_answer(start_response, status, payload)
        except Refusal as refusal:
            return json_answer(start_response, refusal.status, {"error": refusal.sentence}, refusal.headers)
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            return json_answer(start_response, 500, {"error": "The server failed to handle this request."})

    return app


def application():
    """gunicorn's factory: `gunicorn 'coursewire.server.wsgi:application()'` builds the app from the
    environment once per worker."""
    return make_app()
