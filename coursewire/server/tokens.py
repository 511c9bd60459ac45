"""Report tokens: what lets a browser report events for one learner in one course, for a while.

The server issues one next to each signed embed URL; the page sends it back with every batch of
events. A token is opaque to the page and bound to (course, learner) by an HMAC-SHA256 signature,
so a page cannot report for another learner or course, and it expires. The signing key is derived
from the server's token secret (settings.token_secret, or one the database keeps); a token and
the secret are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from coursewire.core.vocabulary import is_int
from coursewire.server.ids import course_id, learner_id

if TYPE_CHECKING:
    from coursewire.server.settings import Settings

REPORT_TOKEN_TTL_S = 24 * 3600  # a page open all day keeps reporting; a leaked token dies by tomorrow
MAX_TOKEN_CHARS = 2048
_PREFIX = "cwr1."
_PURPOSE = b"coursewire report token v1"  # a different key for each use of the one secret


class TokenRefused(ValueError):
    """A token that does not authorise a report; str() is one sentence for the 401."""


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not secret:
        raise ValueError("The report token secret is empty.")
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_report_token(
    secret: str | bytes, course: str, learner: str, now: float, ttl_s: float = REPORT_TOKEN_TTL_S
) -> str:
    """A token for `learner` in `course`, valid for `ttl_s` seconds after `now` (Unix seconds)."""
    # "i": when it was issued (Unix milliseconds), so an erasure can refuse the tokens issued before it.
    claims = {"c": course_id(course), "l": learner_id(learner), "i": int(now * 1000), "x": int(now + ttl_s)}
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    mac = hmac.new(_key(secret), (_PREFIX + body).encode("ascii"), hashlib.sha256).digest()
    return _PREFIX + body + "." + _b64(mac)


def read_report_token(secret: str | bytes, token: object, now: float) -> tuple[str, str]:
    """(course, learner) the token binds, or TokenRefused. The signature is checked, in constant
    time, before anything inside the token is read."""
    return read_report_token_claims(secret, token, now)[:2]


def read_report_token_claims(secret: str | bytes, token: object, now: float) -> tuple[str, str, float | None]:
    """(course, learner, issued_at) the token binds, issued_at in Unix seconds (None for a token
    issued before tokens carried it), or TokenRefused."""
    if not isinstance(token, str) or not token:
        raise TokenRefused("The batch has no report token.")
    if len(token) > MAX_TOKEN_CHARS or not token.startswith(_PREFIX) or token.count(".") != 2:
        raise TokenRefused("The report token is not valid.")
    body, _, mac_text = token[len(_PREFIX) :].partition(".")
    try:
        mac = _unb64(mac_text)
        expected = hmac.new(_key(secret), (_PREFIX + body).encode("ascii"), hashlib.sha256).digest()
    except (ValueError, UnicodeError):
        raise TokenRefused("The report token is not valid.") from None
    if not hmac.compare_digest(mac, expected):
        raise TokenRefused("The report token is not valid.")
    try:
        claims = json.loads(_unb64(body).decode("utf-8"))
        course, learner, expires = course_id(claims["c"]), learner_id(claims["l"]), claims["x"]
    except (ValueError, KeyError, TypeError, UnicodeError):
        # Signed by us but unreadable: only a change of format could do that.
        raise TokenRefused("The report token is not valid.") from None
    if not isinstance(expires, int) or now >= expires:
        raise TokenRefused("The report token has expired: reload the page for a new one.")
    issued = claims.get("i")
    return course, learner, issued / 1000 if is_int(issued) else None


_stored_secrets: dict[str, str] = {}  # database -> the token secret it keeps (read once per process)


def new_report_token(course: str, learner: str, settings: Settings | None = None) -> str:
    """A report token for `learner` in `course`, for a host's own backend that mints with
    `coassemble.mint()` and hands its page the token beside the URL (the stock POST /api/events
    accepts it). The learner must come from the host's login, never from the page.

    `settings` default `Settings.from_env()`; the secret is settings.token_secret (COURSEWIRE_SECRET)
    or the one the learner record keeps in settings.database, as the stock routes use.
    ValueError (one sentence) for an invalid id or when neither is configured."""
    import time

    from coursewire.server.settings import Settings

    settings = settings or Settings.from_env()
    secret = settings.token_secret or _stored_secret(settings.database)
    return issue_report_token(secret, course, learner, time.time())


def _stored_secret(database: str | None) -> str:
    if not database:
        raise ValueError(
            "Report tokens need COURSEWIRE_SECRET or the learner record's database (DATABASE_URL or COURSEWIRE_DB)."
        )
    if database not in _stored_secrets:
        from coursewire.server.store import StoreError, open_store

        try:
            store = open_store(database)
        except StoreError as error:
            raise ValueError(str(error)) from None
        try:
            _stored_secrets[database] = store.token_secret()
        except StoreError as error:
            raise ValueError(str(error)) from None
        finally:
            store.close()
    return _stored_secrets[database]
