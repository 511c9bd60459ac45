"""Small WSGI helpers every route shares: bounded bodies, JSON answers, refusals as one sentence.

A route is `route(request, context) -> (status, payload)`; it refuses by raising `Refusal(status,
sentence)`, which the application turns into `{"error": sentence}` with that status.
"""

import json

STATUS_TEXT = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large",
    415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


class Refusal(Exception):
    """A request the server will not (or cannot) serve: an HTTP status and one sentence."""

    def __init__(self, status, sentence, headers=()):
        Exception.__init__(self, sentence)
        self.status = status
        self.sentence = sentence
        self.headers = list(headers)


class Request:
    """The parts of a WSGI environ a route reads; the body is read at most once, bounded."""

    def __init__(self, environ):
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "") or "/"
        self.query = environ.get("QUERY_STRING", "")
        self._body = None

    def header(self, name, default=None):
        """A request header by its HTTP name ("X-Coassemble-Signature"), or `default`."""
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            return self.environ.get(key) or default
        return self.environ.get("HTTP_" + key, default)

    def body(self, limit):
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
                raise Refusal(400, "Content-Length is not a number.")
            if length < 0:
                raise Refusal(400, "Content-Length is negative.")
        if length > limit:
            raise Refusal(413, "The request body is larger than %d bytes." % limit)
        stream = self.environ["wsgi.input"]
        chunks = []
        left = length
        while left > 0:
            chunk = stream.read(min(left, 65536))
            if not chunk:
                raise Refusal(400, "The request body ended before its Content-Length.")
            chunks.append(chunk)
            left -= len(chunk)
        self._body = b"".join(chunks)
        return self._body

    def _read_at_most(self, size):
        stream = self.environ["wsgi.input"]
        chunks = []
        while size > 0:
            chunk = stream.read(min(size, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def text(self, limit):
        """The body as UTF-8 text; 400 when it is not."""
        try:
            return self.body(limit).decode("utf-8")
        except UnicodeDecodeError:
            raise Refusal(400, "The request body is not UTF-8 text.")

    def json_object(self, limit):
        """The body parsed as a JSON object; 400 with the reason otherwise."""
        return parse_json_object(self.text(limit))


def parse_json_object(text):
    """`text` parsed as a JSON object whose every string a database can store; Refusal(400)
    otherwise. (PostgreSQL text cannot hold NUL, and no UTF-8 can hold an unpaired surrogate
    escape such as "\\ud800": refusing them here keeps both backends giving one answer.)"""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refusal(400, "The request body is not JSON.")
    if not isinstance(value, dict):
        raise Refusal(400, "The request body must be a JSON object.")
    if not _storable(value):
        raise Refusal(400, "The request body holds text no database can store (a NUL character or an unpaired surrogate).")
    return value


def _storable(value):
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


def refuse_other_sites(request, sentence):
    """Refusal(403, sentence) for a request a page of another site sent: browsers send Origin on
    every cross-origin POST and DELETE, so this stops cross-site request forgery on routes that
    only this site's own pages may call."""
    origin = request.header("Origin")
    if not origin:
        return  # a server-to-server call, or a same-origin GET
    host = request.header("Host") or ""
    if origin == "null" or origin.split("://", 1)[-1].rstrip("/").lower() != host.lower():
        raise Refusal(403, sentence)


def json_answer(start_response, status, payload, headers=()):
    """Send `payload` as JSON with `status`; returns the WSGI body iterable."""
    body = json.dumps(payload).encode("utf-8")
    start_response(
        "%d %s" % (status, STATUS_TEXT.get(status, "Unknown")),
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))),
         ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")] + list(headers),
    )
    return [body]
