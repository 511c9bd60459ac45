"""/api/staff-session: staff sign in once with the admin token and get a signed, expiring cookie,
so the report page never holds a reusable secret.

    POST   {"token": "<COURSEWIRE_ADMIN_TOKEN>"}  200 {"signed_in": true, "expires_at": ISO} + Set-Cookie
    GET                                           200 {"signed_in": bool[, "expires_at": ISO]}
    DELETE                                        200 {"signed_in": false} + a cookie that clears it
    400 bad body · 401 wrong token · 403 another site's page · 413 too big · 415 not JSON ·
    429 too many wrong tokens (Retry-After; coursewire/server/limits.py: even the right one is
    refused then) · 503 no admin token configured (or no token secret can be read, or the
    database that counts wrong tokens is unavailable) — each {"error": one sentence}.

The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it),
`Path=/api` (only the API gets it) and `Secure` when the request came over HTTPS. Its value holds
no secret: an expiry time and a nonce, signed with HMAC-SHA256 under a key derived from the
server's token secret *and* the admin token, so rotating either ends every staff session. It is
valid for STAFF_SESSION_TTL_S; signing out clears it in that browser (the value itself stays
valid until it expires: no server-side session table).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING

from coursewire.core.vocabulary import is_int
from coursewire.server import limits
from coursewire.server.http import Refusal, refuse_other_sites
from coursewire.server.times import iso

if TYPE_CHECKING:
    from coursewire.server.http import Answer, Request
    from coursewire.server.wsgi import Context

PATH = "/api/staff-session"
COOKIE_NAME = "coursewire_staff"
COOKIE_PATH = "/api"
STAFF_SESSION_TTL_S = 12 * 3600  # one working day; the next day starts with a sign-in
MAX_BODY_BYTES = 4096
MAX_TOKEN_CHARS = 1024
MAX_COOKIE_CHARS = 512
OTHER_SITE = "Staff sign-in is accepted only from this site's own pages."  # login CSRF is refused
_PREFIX = "cws1."
_PURPOSE = b"coursewire staff session v1"  # another key than report tokens', from the same secret


class SessionRefused(ValueError):
    """A cookie that does not open a staff session; str() is one sentence for the 401."""


# -- the signed value --


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str | bytes, admin_token: str | None) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not secret or not admin_token:
        raise ValueError("A staff session needs a token secret and an admin token.")
    # The admin token enters the key only as a hash: the cookie is bound to it, never holds it.
    bound = hashlib.sha256(admin_token.encode("utf-8")).digest()
    return hmac.new(secret, _PURPOSE + b"\x00" + bound, hashlib.sha256).digest()


def issue_session(secret: str | bytes, admin_token: str, now: float, ttl_s: float = STAFF_SESSION_TTL_S) -> str:
    """A cookie value for a staff session valid for `ttl_s` seconds after `now` (Unix seconds)."""
    claims = {"x": int(now + ttl_s), "n": _b64(secrets.token_bytes(12))}
    body = _b64(json.dumps(claims, separators=(",", ":")).encode("ascii"))
    mac = hmac.new(_key(secret, admin_token), (_PREFIX + body).encode("ascii"), hashlib.sha256).digest()
    return _PREFIX + body + "." + _b64(mac)


def read_session(secret: str | bytes, admin_token: str | None, value: object, now: float) -> int:
    """The Unix time the staff session `value` expires at, or SessionRefused. The signature is
    checked, in constant time, before anything inside the value is read."""
    if (
        not isinstance(value, str)
        or len(value) > MAX_COOKIE_CHARS
        or not value.startswith(_PREFIX)
        or value.count(".") != 2
    ):
        raise SessionRefused("Your staff session is not valid: sign in again.")
    body, _, mac_text = value[len(_PREFIX) :].partition(".")
    try:
        mac = _unb64(mac_text)
        expected = hmac.new(_key(secret, admin_token), (_PREFIX + body).encode("ascii"), hashlib.sha256).digest()
    except (ValueError, UnicodeError):
        raise SessionRefused("Your staff session is not valid: sign in again.") from None
    if not hmac.compare_digest(mac, expected):
        raise SessionRefused("Your staff session is not valid: sign in again.")
    try:
        expires = json.loads(_unb64(body).decode("ascii"))["x"]
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise SessionRefused("Your staff session is not valid: sign in again.") from None
    if not is_int(expires) or now >= expires:
        raise SessionRefused("Your staff session has expired: sign in again.")
    return expires


# -- the request side --


def cookie_values(request: Request, name: str = COOKIE_NAME) -> list[str]:
    """Every value the request's Cookie header gives `name` (a browser may send two with one
    name from different paths); empty when there is none."""
    values = []
    for part in (request.header("Cookie") or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            values.append(value.strip().strip('"'))
    return values


def session_expiry(request: Request, context: Context) -> int | None:
    """When the request's staff session expires (Unix seconds), None when it sends no session
    cookie, or SessionRefused when the one it sends is forged, stale or expired."""
    values = cookie_values(request)
    if not values:
        return None
    secret, admin_token, now = context.token_secret(), context.settings.admin_token, context.clock()
    refusal: SessionRefused | None = None
    for value in values:
        try:
            return read_session(secret, admin_token, value, now)
        except SessionRefused as error:
            refusal = refusal or error
    raise refusal or SessionRefused("Your staff session is not valid: sign in again.")  # (values is not empty)


def _configured(context: Context) -> str:
    """The admin token; 503 when none is set."""
    if not context.settings.admin_token:
        raise Refusal(503, "Staff sign-in is not configured on this server: set COURSEWIRE_ADMIN_TOKEN.")
    return context.settings.admin_token


def _cookie(request: Request, value: str, max_age: float) -> tuple[str, str]:
    attributes = [
        COOKIE_NAME + "=" + value,
        "Path=" + COOKIE_PATH,
        "Max-Age=%d" % max_age,
        "HttpOnly",
        "SameSite=Strict",
    ]
    proto = (request.header("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
    if request.environ.get("wsgi.url_scheme") == "https" or proto == "https":
        attributes.append("Secure")
    return ("Set-Cookie", "; ".join(attributes))


# -- the routes --


def sign_in(request: Request, context: Context) -> Answer:
    """(200, {"signed_in": true, "expires_at"}, [Set-Cookie]) for the admin token, else a Refusal."""
    refuse_other_sites(request, OTHER_SITE, context.settings.allowed_origins)
    admin_token = _configured(context)
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Refusal(415, "Send the sign-in as JSON (Content-Type: application/json).")
    body = request.json_object(MAX_BODY_BYTES)
    unknown = sorted(name for name in body if name != "token")
    if unknown:
        raise Refusal(400, "Unknown field %r: only token is accepted." % unknown[0][:40])
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise Refusal(400, "The sign-in needs the admin token as a string in \"token\".")
    if len(token) > MAX_TOKEN_CHARS:
        raise Refusal(400, "The token is longer than %d characters." % MAX_TOKEN_CHARS)
    # Digests of equal length: the comparison's time says nothing of the token's length either.
    given = hashlib.sha256(token.encode("utf-8")).digest()
    expected = hashlib.sha256(admin_token.encode("utf-8")).digest()
    correct = hmac.compare_digest(given, expected)
    limits.guessing(request, context, correct)  # 429 during a lockout, right token or not
    if not correct:
        raise Refusal(401, "That is not this server's admin token.")
    now = context.clock()
    ttl_s = context.staff_session_ttl_s
    value = issue_session(context.token_secret(), admin_token, now, ttl_s)
    return 200, {"signed_in": True, "expires_at": _iso_second(now + ttl_s)}, [_cookie(request, value, ttl_s)]


def status(request: Request, context: Context) -> Answer:
    """(200, {"signed_in": bool[, "expires_at"]}): lets the page ask without a 401 in its console."""
    _configured(context)
    try:
        expires = session_expiry(request, context)
    except SessionRefused:
        expires = None
    if expires is None:
        return 200, {"signed_in": False}
    return 200, {"signed_in": True, "expires_at": _iso_second(expires)}


def sign_out(request: Request, context: Context) -> Answer:
    """(200, {"signed_in": false}, [a Set-Cookie that removes the cookie]), configured or not."""
    refuse_other_sites(request, OTHER_SITE, context.settings.allowed_origins)
    return 200, {"signed_in": False}, [_cookie(request, "", 0)]


def _iso_second(seconds: float) -> str:
    return iso(seconds)[:19] + "Z"
