"""Who is asking: the learner as the host's login says, for the routes that act for a learner.

Two sources, never the request body:
- `identify(environ)`, given to `wsgi.make_app(..., identify=fn)` by a host that mounts the routes
  behind its own session middleware: None (nobody signed in), a learner id, or
  `{"learner": id, "edit": bool, "name": str}`;
- a login token (login.py) in `Authorization: Bearer <token>`, verified with
  settings.login_secret (COURSEWIRE_LOGIN_SECRET).

With neither configured, nobody can be identified: 503, in one sentence. Without a login, or with
a bad one: 401 (with `WWW-Authenticate: Bearer`), before anything is minted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coursewire.server import ids
from coursewire.server.http import Refusal
from coursewire.server.login import Login, LoginRefused, verify_login_token

if TYPE_CHECKING:
    from coursewire.server.http import Request
    from coursewire.server.wsgi import Context

_CHALLENGE = [("WWW-Authenticate", 'Bearer realm="coursewire"')]


def login_of(request: Request, context: Context) -> Login:
    """The request's Login, or Refusal(401 | 503)."""
    secret = context.settings.login_secret
    if context.identify is not None:
        login = _identified(context.identify(request.environ))
        if login is not None:
            return login
    elif not secret:
        raise Refusal(
            503,
            "No login is configured on this server: set COURSEWIRE_LOGIN_SECRET, or mount the routes with identify=.",
        )
    token = _bearer(request.header("Authorization"))
    if token is None or not secret:
        raise Refusal(401, "Sign in first: the request carries no login.", _CHALLENGE)
    try:
        return verify_login_token(token, secret, context.clock())
    except LoginRefused as refusal:
        raise Refusal(401, str(refusal), _CHALLENGE) from None


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _identified(found: object) -> Login | None:
    """What identify() answered, as a Login (None: nobody). A learner id the routes cannot use is
    a 403 in one sentence; any other answer is the host's bug (TypeError, logged as a 500)."""
    if found is None:
        return None
    if isinstance(found, Login):
        return found
    if isinstance(found, (str, int)) and not isinstance(found, bool):
        found = {"learner": found}
    if not isinstance(found, dict) or "learner" not in found:
        raise TypeError("identify() must answer None, a learner id or {'learner': id, 'edit': bool, 'name': str}")
    edit = found.get("edit", False)
    name = found.get("name")
    if not isinstance(edit, bool) or not (name is None or isinstance(name, str)):
        raise TypeError("identify()'s edit must be a bool and its name a str")
    try:
        learner = ids.learner_id(found["learner"], "The signed-in learner's id")
    except ValueError as error:
        raise Refusal(403, str(error)) from None
    return Login(learner, edit, name or None)
