"""The Coassemble headless API client: mint signed embed URLs, and `api_call` for its other endpoints (CPython only).

    from coursewire.server.coassemble import mint, MintError
    embed = mint("4321", "user-42", name="Ada Lovelace")   # settings from the environment
    embed.url          # the signed URL to put in the iframe (never store it)
    embed.expires_at   # aware UTC datetime

What Coassemble expects and answers, and where that is written down:
- Request: `POST <api>/api/v1/headless/embed/course`, header `Authorization:
  COASSEMBLE:<workspaceId>:<key>` (the whole key, no "Bearer"), JSON body `action`, `courseId`
  (a number; required for view), `identifier` (required), optional `clientIdentifier`, `name`,
  `options` (an object). Sources: developers.coassemble.com/get-started; coassemble/embed-starter
  `README.md` and `api/embed.js`; coassemble/moodle-mod_coassemble `classes/api/client.php`
  (`issue_course_embed`, `request`).
- `options` must be a JSON *object*: Coassemble refuses `[]` (moodle-mod_coassemble
  `classes/api/client.php` `strip_empty_options`, and `tests/api/client_test.php`). We always send
  one, with `back: "event"` so Back posts `{type: "back"}` instead of navigating the iframe away.
- Answer: the signed URL as plain text (embed-starter `api/embed.js` reads `.text()`); the Moodle
  plugin also accepts a JSON string or `{"url": ...}` (`client.php` `request`, `$rawstring`). The
  URL lives about 3 hours (embed-starter `README.md`); its last path segment is a JWT whose
  claims we may read, unverified (`client.php` `course_id_from_embed_url`).
- Failures: a JSON envelope `{"message", "error": {"code", "status"}}`; 400 bad body, 401 bad
  key, 403 a plan entitlement is missing, 404 unknown course, 429 rate limit with Retry-After,
  5xx Coassemble's side (developers.coassemble.com/errors). A used-up learner allowance is not
  documented separately: embed-starter `api/embed.js` maps 403 to "check the key, plan and
  learner allowance". So a 403 (or a 402) whose message or code speaks of an allowance, learner
  limit, seats or quota is `AllowanceUsedUp`; any other 403 is `KeyRejected`.
- The key is a credential: embed-starter refuses a signed URL that contains it and never shows a
  provider body; the Moodle plugin logs only method, path, status and errno (`classes/local/
  diagnostics.php`). Same here: no error text, repr, exception chain or log line holds the key,
  and Coassemble's own reason is scrubbed of it before we repeat it.

Standard library only (urllib); redirects are refused, because urllib would replay the
Authorization header to wherever a redirect points.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from coursewire.server import ids
from coursewire.server.settings import Settings

log = logging.getLogger("coursewire.server.coassemble")

# (status, headers, raw body, failure): `failure` a MintError when no answer came (status None then).
Sent = tuple[Any, Any, bytes, "MintError | None"]

EMBED_PATH = "/api/v1/headless/embed/course"
ACTIONS = ("view", "edit")
DEFAULT_OPTIONS = {"back": "event"}
# When the URL carries no readable expiry: Coassemble documents "about 3 hours".
ESTIMATED_LIFETIME = datetime.timedelta(hours=3)
MAX_ANSWER_BYTES = 64 * 1024  # a signed URL is a few hundred bytes; an error body a few more
MAX_URL_CHARS = 8192
MAX_REASON_CHARS = 200
_ALLOWANCE_WORDS = re.compile(r"allowance|seat|quota|learner.{0,30}?limit|limit.{0,30}?learner", re.IGNORECASE)
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what an HTTP header value can carry as is


# ---- Errors ------------------------------------------------------------------------------


class MintError(Exception):
    """Minting failed. `status` is what a host endpoint should answer its browser, `sentence` says
    why in one sentence (never containing the key), `coassemble_status` is the HTTP status
    Coassemble answered, or None when it did not answer."""

    status = 502

    def __init__(self, sentence: str, coassemble_status: int | None = None) -> None:
        Exception.__init__(self, sentence)
        self.sentence = sentence
        self.coassemble_status = coassemble_status

    def __repr__(self) -> str:
        return "%s(%r, coassemble_status=%r)" % (type(self).__name__, self.sentence, self.coassemble_status)


class InvalidMintRequest(MintError, ValueError):
    """The caller's arguments cannot make a valid request (bad course id, learner, action, options)."""

    status = 400


class NotConfigured(MintError):
    """The workspace id, the key or the API URL is missing or unusable: nothing was sent."""

    status = 503


class KeyRejected(MintError):
    """Coassemble refused the key (401), or the key's plan lacks what was asked (403)."""


class CourseNotFound(MintError):
    """Coassemble has no such course in this workspace (404)."""

    status = 404


class AllowanceUsedUp(MintError):
    """Coassemble refused a new learner identifier: the workspace's learner allowance is used up."""


class MintRefused(MintError):
    """Any other refusal (4xx), with Coassemble's own reason."""


class RateLimited(MintRefused):
    """Coassemble's per-IP rate limit (429); `retry_after` is its Retry-After in seconds, or None."""

    status = 503

    def __init__(self, sentence: str, coassemble_status: int | None = 429, retry_after: int | None = None) -> None:
        MintRefused.__init__(self, sentence, coassemble_status)
        self.retry_after = retry_after


class CoassembleUnavailable(MintError):
    """Coassemble is down or unreachable (5xx, connection refused, no DNS), or answered something
    that is not a signed URL."""


class MintTimeout(MintError):
    """Coassemble did not answer within the configured timeout."""

    status = 504


# ---- The answer --------------------------------------------------------------------------


class EmbedUrl:
    """A signed embed URL and when it stops working. `expires_at_is_estimate` is True when the
    URL carried no readable `exp` claim and `expires_at` is mint time + 3 hours."""

    def __init__(self, url: str, expires_at: datetime.datetime, expires_at_is_estimate: bool) -> None:
        self.url = url
        self.expires_at = expires_at
        self.expires_at_is_estimate = expires_at_is_estimate

    def __repr__(self) -> str:
        # The URL is a bearer credential for one learner's session: show where it goes, not it.
        parts = urllib.parse.urlsplit(self.url)
        return "EmbedUrl(%s://%s/..., expires_at=%s%s)" % (
            parts.scheme,
            parts.netloc,
            self.expires_at.isoformat(),
            " (estimate)" if self.expires_at_is_estimate else "",
        )


# ---- Minting -----------------------------------------------------------------------------


def mint(
    course_id: object,
    learner: str,
    action: str = "view",
    name: str | None = None,
    client_identifier: str | None = None,
    options: dict | None = None,
    settings: Settings | None = None,
) -> EmbedUrl:
    """A fresh signed embed URL for `learner` on `course_id` (builder when action="edit"; then
    `course_id` may be None for a new course). Raises a `MintError` subclass on any failure."""
    settings = settings or Settings.from_env()
    body = request_body(course_id, learner, action, name, client_identifier, options)
    endpoint, authorization = _endpoint_and_authorization(settings)
    started = time.monotonic()
    status, headers, raw, failure = _post(endpoint, authorization, body, settings.mint_timeout_s)
    elapsed_ms = (time.monotonic() - started) * 1000
    # Errors are raised here, outside every `except`, so no exception chain is attached to them.
    if failure is None and not 200 <= status < 300:
        failure = _refusal(status, headers, raw, body.get("courseId"), settings.api_key)
    url: str | None = None
    if failure is None:
        url, failure = _signed_url(raw, settings.api_key)
    if failure is not None or url is None:
        log.warning(
            "Coassemble embed URL (%s, course %s) failed after %.0f ms: %s",
            action,
            body.get("courseId"),
            elapsed_ms,
            failure and failure.sentence,
        )
        raise failure or CoassembleUnavailable("Coassemble answered without a valid signed embed URL.")
    log.debug("Coassemble embed URL (%s, course %s) minted in %.0f ms", action, body.get("courseId"), elapsed_ms)
    expires_at = _jwt_expiry(url)
    if expires_at is None:
        return EmbedUrl(url, _now() + ESTIMATED_LIFETIME, True)
    return EmbedUrl(url, expires_at, False)


def request_body(
    course_id: object,
    learner: str,
    action: str = "view",
    name: str | None = None,
    client_identifier: str | None = None,
    options: dict | None = None,
) -> dict[str, Any]:
    """The JSON body Coassemble documents, checked: InvalidMintRequest on bad arguments."""
    if action not in ACTIONS:
        raise InvalidMintRequest("The action must be 'view' (the player) or 'edit' (the builder).")
    try:
        identifier = ids.learner_id(learner, "The learner")
        course = None if course_id is None and action == "edit" else ids.course_id(course_id, "The course")
        client = None if client_identifier is None else ids.learner_id(client_identifier, "The client identifier")
        person = None if name is None else ids.learner_id(name, "The learner's name")
    except ValueError as error:
        reason: str | None = str(error)
    else:
        reason = None
    if reason is not None:
        raise InvalidMintRequest(reason)
    if options is not None and not isinstance(options, dict):
        raise InvalidMintRequest("options must be a dict (Coassemble refuses anything but a JSON object).")
    body: dict[str, Any] = {"action": action}
    if course is not None:
        # Coassemble's course ids are numbers; a slug is passed through for Coassemble to judge.
        body["courseId"] = int(course) if course.isdigit() else course
    body["identifier"] = identifier
    if client is not None:
        body["clientIdentifier"] = client
    if person is not None:
        body["name"] = person
    body["options"] = dict(DEFAULT_OPTIONS, **(options or {}))
    return body


def _endpoint_and_authorization(settings: Settings) -> tuple[str, str]:
    """(URL of the embed endpoint, Authorization value), or NotConfigured. Accepts the key as
    Coassemble shows it (`COASSEMBLE:<workspace>:<secret>`), as `<workspace>:<secret>`, or as the
    bare secret beside COASSEMBLE_WORKSPACE_ID (moodle-mod_coassemble `client.php`
    `normalise_apikey` accepts the first two)."""
    key = (settings.api_key or "").strip()
    workspace = (str(settings.workspace_id) if settings.workspace_id is not None else "").strip()
    if not key:
        raise NotConfigured("Coassemble is not configured: set COASSEMBLE_API_KEY on the server.")
    if not _HEADER_SAFE.fullmatch(key):
        raise NotConfigured("COASSEMBLE_API_KEY contains spaces or characters an HTTP header cannot carry.")
    if key.startswith("COASSEMBLE:"):
        named = key.split(":")[1]
    elif re.fullmatch(r"\d+:[^:]+", key):
        named, key = key.split(":")[0], "COASSEMBLE:" + key
    else:
        named = None
    if named is not None and workspace and workspace != named:
        raise NotConfigured(
            "COASSEMBLE_API_KEY belongs to workspace %s, not to COASSEMBLE_WORKSPACE_ID %s." % (named, workspace)
            if named.isdigit() and workspace.isdigit()
            else "COASSEMBLE_API_KEY belongs to another workspace than COASSEMBLE_WORKSPACE_ID."
        )
    if named is None:
        if not workspace:
            raise NotConfigured("Coassemble is not configured: set COASSEMBLE_WORKSPACE_ID on the server.")
        if not _HEADER_SAFE.fullmatch(workspace) or ":" in workspace:
            raise NotConfigured("COASSEMBLE_WORKSPACE_ID must be the workspace's id, without spaces or ':'.")
        key = "COASSEMBLE:%s:%s" % (workspace, key)
    api = _split(settings.api_url or "")
    if (
        api is None
        or api.scheme not in ("http", "https")
        or not api.hostname
        or api.username
        or api.password
        or api.query
    ):
        raise NotConfigured("COASSEMBLE_API_URL must be an http(s) address such as https://api.coassemble.com.")
    base = settings.api_url.rstrip("/")
    if base.endswith("/api"):
        base = base[:-4]  # embed-starter's COASSEMBLE_API_BASE includes /api; tolerate that form
    return base + EMBED_PATH, key


def api_call(
    settings: Settings,
    method: str,
    path: str,
    query: dict | None = None,
    body: object = None,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> Sent:
    """One authorised request to Coassemble's headless API (`path` such as
    "/api/v1/headless/trackings"; `query` a dict; `body` JSON-able or None), with the same
    configuration, key handling, timeout and no-redirect rule as minting. Returns (status,
    headers, raw body, failure): `failure` is a MintError subclass when no answer came; a non-2xx
    status is the caller's to interpret (`refusal_sentence` words the common ones). Raises
    NotConfigured when Coassemble is not configured."""
    endpoint, authorization = _endpoint_and_authorization(settings)
    url = endpoint[: -len(EMBED_PATH)] + path
    if query:
        url += "?" + urllib.parse.urlencode(query)
    return _send(method, url, authorization, body, settings.mint_timeout_s, max_bytes)


def refusal_sentence(status: int, headers: Any, raw: bytes, what: str, key: str | None) -> str:
    """One sentence for a non-2xx answer to `what` ("the trackings request"), Coassemble's own reason
    scrubbed of the key; 401 and 429 (with its Retry-After) worded for the operator."""
    message, _ = _error_envelope(raw)
    reason = _one_clause(message, key)
    because = " (HTTP %d%s)" % (status, ": " + reason if reason else "")
    if status == 401:
        return "Coassemble refused the API key for %s (HTTP 401): check COASSEMBLE_API_KEY." % what
    if status == 429:
        retry = _retry_after(headers)
        return "Coassemble rate-limited %s; try again %s." % (
            what,
            "in %d seconds" % retry if retry is not None else "later",
        )
    if status >= 500:
        return "Coassemble is not available right now for %s (HTTP %d)." % (what, status)
    return "Coassemble refused %s%s." % (what, because)


def retry_after(headers: Any) -> int | None:
    """Coassemble's Retry-After in whole seconds (0..86400), or None."""
    return _retry_after(headers)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect with the Authorization header: answer the 3xx as it is."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class _Overdue(Exception):
    """The answer is still arriving when the whole request's time is up."""


def _post(endpoint: str, authorization: str, body: object, timeout_s: float) -> Sent:
    """(status, headers, raw body, failure). `failure` is a MintError for no answer at all."""
    return _send("POST", endpoint, authorization, body, timeout_s, MAX_ANSWER_BYTES)


def _send(method: str, url: str, authorization: str, body: object, timeout_s: float, max_bytes: int) -> Sent:
    """One request to Coassemble: (status, headers, raw body, failure), at most `max_bytes` read.
    `failure` is a MintError when no answer came (unreachable, timed out, broke off)."""
    headers = {"Authorization": authorization, "Accept": "text/plain, application/json", "User-Agent": "coursewire"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    deadline = time.monotonic() + timeout_s
    failure: MintError | None = None
    response: Any = None
    try:
        response = _OPENER.open(request, timeout=timeout_s)
    except urllib.error.HTTPError as error:
        response = error  # a non-2xx answer: still read its status and (bounded) body
    except TimeoutError:
        failure = _timed_out(timeout_s)
    except urllib.error.URLError as error:
        failure = _unreachable(error.reason, timeout_s)
    except Exception as error:  # http.client's errors are not all OSErrors; the name alone is safe to show
        failure = CoassembleUnavailable("Coassemble could not be reached (%s)." % type(error).__name__)
    if failure is not None:
        return None, None, b"", failure
    try:
        with response:
            raw = _read_bounded(response, deadline, max_bytes)
            return response.status, response.headers, raw, None
    except (TimeoutError, _Overdue):
        failure = _timed_out(timeout_s)
    except Exception as error:
        failure = CoassembleUnavailable("Coassemble's answer broke off (%s)." % type(error).__name__)
    return None, None, b"", failure


def _read_bounded(response: Any, deadline: float, max_bytes: int) -> bytes:
    """At most `max_bytes` (+1, to tell a longer answer); a total deadline on top of the socket's
    per-read timeout, so a server that trickles bytes cannot hold a request for longer than about
    twice the timeout."""
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        chunk = response.read1(4096) if hasattr(response, "read1") else response.read(4096)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            raise _Overdue()
    return b"".join(chunks)[: max_bytes + 1]


def _timed_out(timeout_s: float) -> MintTimeout:
    return MintTimeout("Coassemble did not answer within %g seconds." % timeout_s)


def _unreachable(reason: object, timeout_s: float) -> MintError:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return _timed_out(timeout_s)
    if isinstance(reason, ConnectionRefusedError):
        return CoassembleUnavailable("Coassemble could not be reached (connection refused).")
    if isinstance(reason, socket.gaierror):
        return CoassembleUnavailable("Coassemble could not be reached (the API host name does not resolve).")
    if isinstance(reason, OSError) and reason.strerror:
        return CoassembleUnavailable("Coassemble could not be reached (%s)." % reason.strerror.rstrip("."))
    return CoassembleUnavailable("Coassemble could not be reached (%s)." % type(reason).__name__)


def _refusal(status: int, headers: Any, raw: bytes, course: object, key: str | None) -> MintError:
    """The MintError for a non-2xx answer."""
    message, code = _error_envelope(raw)
    reason = _one_clause(message, key)
    because = " (HTTP %d%s)" % (status, ": " + reason if reason else "")
    if 300 <= status < 400:
        return CoassembleUnavailable(
            "Coassemble answered with a redirect (HTTP %d) instead of a signed URL: check COASSEMBLE_API_URL." % status,
            status,
        )
    if status >= 500:
        return CoassembleUnavailable("Coassemble is not available right now (HTTP %d)." % status, status)
    if status == 401:
        return KeyRejected(
            "Coassemble refused the API key (HTTP 401): check COASSEMBLE_WORKSPACE_ID and COASSEMBLE_API_KEY.", status
        )
    if status in (402, 403) and _ALLOWANCE_WORDS.search("%s %s" % (message or "", code or "")):
        return AllowanceUsedUp(
            "Coassemble refused a new learner because the workspace's learner allowance is used up%s." % because, status
        )
    if status == 403:
        return KeyRejected("Coassemble refused this request for the workspace's key or plan%s." % because, status)
    if status == 404:
        shown = "%s " % course if course is not None else ""
        return CourseNotFound("Coassemble has no course %sin this workspace%s." % (shown, because), status)
    if status == 429:
        retry = _retry_after(headers)
        later = "in %d seconds" % retry if retry is not None else "later"
        return RateLimited(
            "Coassemble is receiving too many requests from this server; try again %s." % later, status, retry
        )
    return MintRefused("Coassemble refused the embed URL request%s." % because, status)


def _error_envelope(raw: bytes) -> tuple[str | None, str | None]:
    """(message, code) from Coassemble's `{"message", "error": {"code"}}`, or a short plain text."""
    text = raw[:MAX_ANSWER_BYTES].decode("utf-8", "replace").strip()
    try:
        value = json.loads(text)
    except ValueError:
        # Proxies answer HTML pages: never repeat markup.
        return (text if text and "<" not in text and len(text) <= 500 else None), None
    if isinstance(value, str):
        return value, None
    if not isinstance(value, dict):
        return None, None
    message = value.get("message")
    error = value.get("error")
    code = error.get("code") if isinstance(error, dict) else error
    return (message if isinstance(message, str) else None), (code if isinstance(code, str) else None)


def _one_clause(text: str | None, key: str | None) -> str:
    """Coassemble's reason as one short clause: the key scrubbed, one line, first sentence, capped."""
    if not text:
        return ""
    for secret in _secret_forms(key):
        text = text.replace(secret, "[redacted]")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    text = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".!? ")
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 1].rstrip() + "…"
    return text


def _secret_forms(key: str | None) -> list[str]:
    """Every form of the key worth scrubbing: as configured, and its secret part alone."""
    key = (key or "").strip()
    forms = {key} if len(key) >= 4 else set()
    secret = key.rsplit(":", 1)[-1]
    if len(secret) >= 8:
        forms.add(secret)
    return sorted(forms, key=len, reverse=True)


def _retry_after(headers: Any) -> int | None:
    try:
        seconds = int((headers or {}).get("Retry-After", ""))
    except (TypeError, ValueError):
        return None
    return seconds if 0 <= seconds <= 86400 else None


def _signed_url(raw: bytes, key: str | None) -> tuple[str | None, MintError | None]:
    """(the signed URL, None) from a 2xx answer (plain text, a JSON string, or {"url"}), else
    (None, a MintError)."""
    wrong = CoassembleUnavailable("Coassemble answered without a valid signed embed URL.")
    if len(raw) > MAX_ANSWER_BYTES:
        return None, wrong
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, wrong
    if text[:1] in ('"', "{"):
        try:
            value = json.loads(text)
        except ValueError:
            return None, wrong
        if isinstance(value, dict):
            value = value.get("url")
        if not isinstance(value, str):
            return None, wrong
        text = value.strip()
    if not text or len(text) > MAX_URL_CHARS or any(not c.isprintable() or c.isspace() for c in text):
        return None, wrong
    parts = _split(text)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None, wrong
    if any(secret in text for secret in _secret_forms(key)):
        return None, wrong  # a URL holding the key must never reach a browser (embed-starter does the same)
    return text, None


def _split(url: str) -> urllib.parse.SplitResult | None:
    """urlsplit, or None for text it cannot split (an unclosed IPv6 bracket, a port that is no number)."""
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    return parts


def _jwt_expiry(url: str) -> datetime.datetime | None:
    """The `exp` claim of the JWT in the URL's last path segment (where Coassemble puts it), else
    in a query parameter (where the demo harness puts it), read without verifying it; None when
    there is none or it is implausible."""
    parts = urllib.parse.urlsplit(url)
    candidates = [parts.path.rstrip("/").rsplit("/", 1)[-1]]
    candidates += [value for _, value in urllib.parse.parse_qsl(parts.query)]
    now = time.time()
    for token in candidates:
        pieces = token.split(".")
        if len(pieces) != 3:
            continue
        try:
            payload = pieces[1] + "=" * (-len(pieces[1]) % 4)
            claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
        except (ValueError, UnicodeError):
            continue
        exp = claims.get("exp") if isinstance(claims, dict) else None
        if isinstance(exp, (int, float)) and not isinstance(exp, bool) and now - 86400 < exp < now + 90 * 86400:
            return datetime.datetime.fromtimestamp(exp, datetime.UTC)
    return None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
