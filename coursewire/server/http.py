"""Small WSGI helpers every route shares: bounded bodies, JSON answers, refusals as one sentence.

A route is `route(request, context) -> (status, payload)`; it refuses by raising `Refusal(status,
sentence)`, which the application turns into `{"error": sentence}` with that status.
"""

import json
import re
from collections.abc import Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

# What a route answers: (status, payload) or (status, payload, headers).
Answer = tuple[int, Any] | tuple[int, Any, list[tuple[str, str]]]

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Refusal(Exception):
    """A request the server will not (or cannot) serve: an HTTP status and one sentence."""

    def __init__(self, status: int, sentence: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        Exception.__init__(self, sentence)
        self.status = status
        self.sentence = sentence
        self.headers = list(headers)


class Request:
    """The parts of a WSGI environ a route reads; the body is read at most once, bounded."""

    def __init__(self, environ: WSGIEnvironment) -> None:
        self.environ = environ
        self.method: str = environ.get("REQUEST_METHOD", "GET")
        self.path: str = environ.get("PATH_INFO", "") or "/"
        self.query: str = environ.get("QUERY_STRING", "")
        self._body: bytes | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        """A request header by its HTTP name ("X-Coassemble-Signature"), or `default`."""
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            return self.environ.get(key) or default
        return self.environ.get("HTTP_" + key, default)

    def body(self, limit: int) -> bytes:
        """The raw body (bytes), refused with 413 past `limit` bytes before any of it is read."""
        if self._body is not None:
            return self._body
        text = self.environ.get("CONTENT_LENGTH") or ""
        if text.strip() == "":
            if "chunked" in self.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
                # No length up front (gunicorn passes chunked bodies through): read one byte past
                # the limit to know whether it is too large.
                self._body = self._read_at_most(limit + 1)
                if len(self._body) > limit:
                    raise Refusal(413, "The request body is larger than %d bytes." % limit)
                return self._body
            length = 0
        else:
            try:
                length = int(text)
            except ValueError:
                raise Refusal(400, "Content-Length is not a number.") from None
            if length < 0:
                raise Refusal(400, "Content-Length is negative.")
        if length > limit:
            raise Refusal(413, "The request body is larger than %d bytes." % limit)
        stream = self.environ["wsgi.input"]
        chunks: list[bytes] = []
        left = length
        while left > 0:
            chunk = stream.read(min(left, 65536))
            if not chunk:
                raise Refusal(400, "The request body ended before its Content-Length.")
            chunks.append(chunk)
            left -= len(chunk)
        self._body = b"".join(chunks)
        return self._body

    def _read_at_most(self, size: int) -> bytes:
        stream = self.environ["wsgi.input"]
        chunks: list[bytes] = []
        while size > 0:
            chunk = stream.read(min(size, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def text(self, limit: int) -> str:
        """The body as UTF-8 text; 400 when it is not."""
        try:
            return self.body(limit).decode("utf-8")
        except UnicodeDecodeError:
            raise Refusal(400, "The request body is not UTF-8 text.") from None

    def json_object(self, limit: int) -> dict[str, Any]:
        """The body parsed as a JSON object; 400 with the reason otherwise."""
        return parse_json_object(self.text(limit))


def parse_json_object(text: str) -> dict[str, Any]:
    """`text` parsed as a JSON object whose every string a database can store; Refusal(400)
    otherwise. (PostgreSQL text cannot hold NUL, and no UTF-8 can hold an unpaired surrogate
    escape such as "\\ud800": refusing them here keeps both backends giving one answer.)"""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refusal(400, "The request body is not JSON.") from None
    if not isinstance(value, dict):
        raise Refusal(400, "The request body must be a JSON object.")
    if not _storable(value):
        raise Refusal(
            400, "The request body holds text no database can store (a NUL character or an unpaired surrogate)."
        )
    return value


def _storable(value: object) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


DEFAULT_PORTS = {"http": 80, "https": 443}
_AUTHORITY = re.compile(r"([a-z0-9.\-]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?")


def _host_and_port(authority: str, scheme: str) -> "tuple[str, int] | None":
    """(lower-case host, port) of `host[:port]`, the port defaulting to the scheme's; None when it
    is not one (userinfo, a path, a bad port ...)."""
    match = _AUTHORITY.fullmatch(authority.lower())
    if not match or not match.group(1).strip("."):
        return None
    port = int(match.group(2)) if match.group(2) else DEFAULT_PORTS[scheme]
    return (match.group(1), port) if 0 < port <= 65535 else None


def origin_of(text: str) -> "str | None":
    """`scheme://host[:port]` (http or https) normalised: lower case, without the scheme's default
    port; None when `text` is not such an origin (a path, a query, "null", another scheme ...)."""
    scheme, sep, authority = (text or "").partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        return None
    found = _host_and_port(authority, scheme)
    if found is None:
        return None
    host, port = found
    return "%s://%s" % (scheme, host) if port == DEFAULT_PORTS[scheme] else "%s://%s:%d" % (scheme, host, port)


def refuse_other_sites(request: Request, sentence: str, allowed_origins: "tuple[str, ...]" = ()) -> "str | None":
    """Refusal(403) for a request a page of another site sent; the page's origin otherwise, or None
    when the request carries no Origin at all.

    Browsers send Origin on every POST, DELETE and cross-origin request a page makes, so this stops
    cross-site request forgery on routes only this site's own pages may call. The page's origin
    must be one of `allowed_origins` (COURSEWIRE_ALLOWED_ORIGINS) when any are set; else its host
    and port must be the request's Host (a Host without a port means the scheme's default one).
    The scheme is not compared: behind a proxy that ends TLS the server itself is reached over
    http. X-Forwarded-* headers are never trusted here: any client can send them.

    No Origin means no page sent the request (a server-to-server call or a tool): there is no page
    to check, so the caller is told (None) and its own check decides (the mint route's login)."""
    given = request.header("Origin")
    if given is None:
        return None
    sentence = sentence.rstrip(".")
    origin = origin_of(given)
    if origin is None:
        shown = (
            "an opaque origin (Origin: null, such as a sandboxed frame or a file: page)"
            if given == "null"
            else "an origin that is not scheme://host[:port] (%r)" % given[:100]
        )
        raise Refusal(403, "%s: the page has %s." % (sentence, shown))
    if allowed_origins:
        if origin in allowed_origins:
            return origin
        listed = ", ".join(allowed_origins[:3]) + (
            " and %d more" % (len(allowed_origins) - 3) if len(allowed_origins) > 3 else ""
        )
        raise Refusal(
            403, "%s: the page's origin %s is not in COURSEWIRE_ALLOWED_ORIGINS (%s)." % (sentence, origin, listed)
        )
    scheme, _, authority = origin.partition("://")
    host = request.header("Host") or ""
    if _host_and_port(authority, scheme) == _host_and_port(host, scheme):
        return origin
    expected = origin_of("%s://%s" % (scheme, host)) or "unknown (Host %r)" % host[:100]
    raise Refusal(
        403,
        "%s: the page's origin is %s but this server was reached as %s; behind a proxy, "
        "pass the browser's Host on (nginx: proxy_set_header Host $http_host;) or list the "
        "page's origin in COURSEWIRE_ALLOWED_ORIGINS." % (sentence, origin, expected),
    )


def json_answer(
    start_response: StartResponse, status: int, payload: object, headers: Iterable[tuple[str, str]] = ()
) -> list[bytes]:
    """Send `payload` as JSON with `status`; returns the WSGI body iterable."""
    body = json.dumps(payload).encode("utf-8")
    start_response(
        "%d %s" % (status, STATUS_TEXT.get(status, "Unknown")),
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        + list(headers),
    )
    return [body]
