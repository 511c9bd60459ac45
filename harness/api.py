"""The simulated Coassemble API on the harness origin: a WSGI application, standard library only.

    POST /api/v1/headless/embed/course   Coassemble's endpoint: checks Authorization, validates the
                                         body like Coassemble, answers a signed, expiring URL to
                                         player.html?token=... (view) or builder.html?token=...
                                         (edit) as plain text
    GET  /api/session?token=...          for the pages: 200 the session; 401 no or bad token;
                                         410 an expired one
    POST /api/tracking                   for the player: {token, event: commenced|completed}; the
                                         first of each per (course, learner) becomes Coassemble's
                                         signed webhook to `webhook_url`
    GET  /api/deliveries                 for tests: every webhook delivery and each attempt's answer
    GET  /api/v1/headless/trackings      Coassemble's trackings (filters id, identifier, clientIdentifier,
                                         start, end, completed; paged by length <= 500 and page from 0)
    POST /api/test/trackings             for tests: seed trackings without any webhook, set switches
                                         (not enabled, answer form, progress spelling, failures)

Coassemble's refusals use its documented envelope `{"message", "error": {"code", "status"}}`
(developers.coassemble.com/errors); the harness-only routes answer `{"error": one sentence}`.
What is known of the real endpoint, and from where, is in coursewire/server/coassemble.py.
"""

import datetime
import functools
import hmac
import json
import logging
import re
import secrets
import threading
import time
import urllib.parse

from harness import tokens
from harness.webhooks import WebhookSender

log = logging.getLogger("harness.api")

# The harness's one published course (its screens are harness/course-content.js).
COURSE = {"id": 101, "title": "Secure Passwords 101", "key": "secure-passwords-101"}
MAX_BODY_BYTES = 16 * 1024
WEBHOOKS_PATH = "/api/v1/headless/webhooks"
USER_PATH = "/api/v1/headless/user/"
WEBHOOK_EVENTS = ("course.created", "course.commenced", "course.completed")
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
MAX_TRACKINGS_PAGE = 500  # the Moodle plugin never asks for more; the harness refuses more
DEFAULT_TRACKINGS_PAGE = 100
MAX_SEED_BODY_BYTES = 4 * 1024 * 1024


class _Answer(Exception):
    """Stop handling and answer `status` with `payload` (a dict, JSON; or a str, plain text)."""

    def __init__(self, status, payload, headers=()):
        Exception.__init__(self, status)
        self.status = status
        self.payload = payload
        self.headers = list(headers)


def _coassemble_error(status, code, message):
    return _Answer(status, {"message": message, "error": {"code": code, "status": status}})


def _refusal(status, sentence, **extra):
    return _Answer(status, dict({"error": sentence}, **extra))


def _iso(seconds):
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HarnessApi:
    """The WSGI application (see make_app)."""

    def __init__(
        self,
        workspace_id,
        api_key,
        token_ttl_s,
        webhook_url,
        webhook_secret,
        clock,
        token_secret,
        learner_allowance,
        webhook_attempts,
        webhook_backoff_s,
        webhook_timeout_s,
    ):
        if not workspace_id or not api_key:
            raise ValueError("the simulated API needs a workspace id and an API key")
        if not token_ttl_s > 0:
            raise ValueError("token_ttl_s must be above 0")
        self.workspace_id = str(workspace_id)
        self._authorization = "COASSEMBLE:%s:%s" % (workspace_id, api_key)
        self.token_ttl_s = token_ttl_s
        self.clock = clock
        self._token_secret = token_secret or secrets.token_bytes(32)
        self.learner_allowance = learner_allowance
        self._learners = set()  # identifiers given a player URL (what an allowance counts)
        self._tracking = {}  # (course id, identifier) -> the learner's tracking record
        # Trackings switches, for tests (harness/README.md "Trackings"): see set_trackings_switches.
        self.trackings_enabled = True  # False: 403 as on a plan without trackings
        self.trackings_shape = "alternate"  # "data" ({"data": [...]}), "list" (bare) or "alternate"
        self.progress_spelling = "alternate"  # "camel" (progressPercent), "snake" or "alternate"
        self.trackings_delay_s = 0.0  # each answer waits this long (a slow Coassemble)
        self._trackings_failures = []  # [(status, retry_after)]: the next requests' answers
        self._raw_rows = []  # [(course id, row)]: rows served exactly as given (odd values)
        self.trackings_requests = []  # every trackings request's query, in order
        self._answers_served = 0
        self._lock = threading.Lock()
        self.webhooks = None
        if webhook_url:
            if urllib.parse.urlsplit(webhook_url).scheme not in ("http", "https") or not webhook_secret:
                raise ValueError("webhook_url must be http(s) and comes with a webhook_secret")
            self.webhooks = WebhookSender(
                webhook_url,
                webhook_secret,
                attempts=webhook_attempts,
                backoff_s=webhook_backoff_s,
                timeout_s=webhook_timeout_s,
                clock=clock,
            )
        self.routes = {
            ("POST", "/api/v1/headless/embed/course"): self.embed_course,
            ("GET", "/api/session"): self.session,
            ("POST", "/api/tracking"): self.tracking,
            ("GET", "/api/deliveries"): self.deliveries,
        }
        # -- webhook endpoints and erasure (Coassemble's headless API) --
        self._webhook_attempts, self._webhook_backoff_s = webhook_attempts, webhook_backoff_s
        self._webhook_timeout_s = webhook_timeout_s
        self._endpoints = {}  # endpoint id -> {"id", "url", "events", "enabled", "createdAt", "sender"}
        self._erasure_requests = []  # every DELETE user / tracking received, for tests
        self.routes.update(
            {
                ("GET", WEBHOOKS_PATH): self.list_webhooks,
                ("POST", WEBHOOKS_PATH): self.create_webhook,
                ("DELETE", "/api/v1/headless/tracking"): self.delete_tracking,
                ("GET", "/api/erasures"): self.erasures,
            }
        )
        # (method, path prefix) -> route(environ, the rest of the path): paths that carry an id.
        self.prefix_routes = {
            ("DELETE", WEBHOOKS_PATH + "/"): self.delete_webhook,
            ("DELETE", USER_PATH): self.delete_user,
        }
        # Trackings (issue 20, reconcile): Coassemble's endpoint and the tests' seeding/switches.
        self.routes.update(
            {
                ("GET", "/api/v1/headless/trackings"): self.trackings,
                ("POST", "/api/test/trackings"): self.test_trackings,
            }
        )

    def __repr__(self):
        return "HarnessApi(workspace_id=%r, token_ttl_s=%r)" % (self.workspace_id, self.token_ttl_s)

    # ---- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "") or "/"
        try:
            route = self.routes.get((method, path))
            for (prefix_method, prefix), prefix_route in self.prefix_routes.items():
                if route is None and method == prefix_method and path.startswith(prefix) and path != prefix:
                    route = functools.partial(prefix_route, rest=path[len(prefix) :])
            if route is None:
                allowed = sorted(
                    set(m for m, p in self.routes if p == path)
                    | set(m for m, p in self.prefix_routes if path.startswith(p) and path != p)
                )
                if allowed:
                    raise _Answer(
                        405, {"error": "Use %s for %s." % (", ".join(allowed), path)}, [("Allow", ", ".join(allowed))]
                    )
                raise _coassemble_error(404, "NOT_FOUND", "Route not found")
            answer = route(environ)
        except _Answer as refusal:
            answer = refusal
        except Exception:
            log.exception("simulated API failed on %s %s", method, path)
            answer = _coassemble_error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
        return self._send(start_response, answer)

    @staticmethod
    def _send(start_response, answer):
        if isinstance(answer.payload, str):
            body, kind = answer.payload.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            body, kind = json.dumps(answer.payload).encode("utf-8"), "application/json; charset=utf-8"
        start_response(
            "%d %s" % (answer.status, STATUS_TEXT.get(answer.status, "Unknown")),
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ]
            + answer.headers,
        )
        return [body]

    @staticmethod
    def _json_body(environ, coassemble_style):
        refuse = (
            (lambda status, message: _coassemble_error(status, "BAD_REQUEST", message))
            if coassemble_style
            else (lambda status, message: _refusal(status, message + "."))
        )
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise refuse(400, "Invalid Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise refuse(413, "Request body too large")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise refuse(400, "Request body must be JSON") from None
        if not isinstance(value, dict):
            raise refuse(400, "Request body must be a JSON object")
        return value

    @staticmethod
    def _query(environ, name):
        values = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).get(name)
        return values[0] if values else None

    # ---- POST /api/v1/headless/embed/course ----------------------------------------------

    def embed_course(self, environ):
        given = environ.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self._authorization.encode("utf-8")):
            raise _coassemble_error(401, "UNAUTHORIZED", "Unauthorized")
        origin = self._origin(environ)
        body = self._json_body(environ, coassemble_style=True)
        action = body.get("action")
        if action not in ("view", "edit"):
            raise _coassemble_error(400, "BAD_REQUEST", "action must be one of: view, edit")
        identifier = body.get("identifier")
        if not isinstance(identifier, str) or not identifier.strip():
            raise _coassemble_error(400, "BAD_REQUEST", "identifier is required")
        if "options" in body and not isinstance(body["options"], dict):
            raise _coassemble_error(400, "BAD_REQUEST", "options must be an object")
        for name in ("clientIdentifier", "name"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise _coassemble_error(400, "BAD_REQUEST", "%s must be a string" % name)
        course = body.get("courseId")
        if course is not None and (isinstance(course, bool) or not isinstance(course, (int, str))):
            raise _coassemble_error(400, "BAD_REQUEST", "courseId must be a number")
        if action == "view":
            if course is None:
                raise _coassemble_error(400, "BAD_REQUEST", "courseId is required when action is view")
            if str(course) != str(COURSE["id"]):
                raise _coassemble_error(404, "NOT_FOUND", "Course not found")
            course = COURSE["id"]
            self._admit(identifier)
        # edit: any course id opens the builder; none starts a new course.
        now = self.clock()
        claims = {
            "iss": "coursewire-harness",
            "workspace": self.workspace_id,
            "action": action,
            "course": course,
            "identifier": identifier,
            "clientIdentifier": body.get("clientIdentifier"),
            "name": body.get("name"),
            "back": (body.get("options") or {}).get("back"),
            "iat": int(now),
            "exp": now + self.token_ttl_s,
            "jti": secrets.token_hex(8),
        }
        claims = {name: value for name, value in claims.items() if value is not None}  # a shorter URL
        page = "player.html" if action == "view" else "builder.html"
        return _Answer(200, "%s/%s?token=%s" % (origin, page, tokens.sign(claims, self._token_secret)))

    def _origin(self, environ):
        """The harness origin as the caller named it (Host), refused unless it is a plain host[:port]."""
        host = environ.get("HTTP_HOST", "")
        if not _HOST.fullmatch(host):
            raise _coassemble_error(400, "BAD_REQUEST", "Invalid Host header")
        scheme = "https" if environ.get("wsgi.url_scheme") == "https" else "http"
        return "%s://%s" % (scheme, host)

    def _admit(self, identifier):
        """Count a new learner against the allowance, if one is set. Coassemble's exact answer to a
        used-up allowance is not public; this 403 is the harness's assumption."""
        with self._lock:
            if identifier in self._learners:
                return
            if self.learner_allowance is not None and len(self._learners) >= self.learner_allowance:
                raise _coassemble_error(
                    403,
                    "FORBIDDEN",
                    "Learner allowance reached: this workspace cannot identify more learners on its plan",
                )
            self._learners.add(identifier)

    # ---- GET /api/session ----------------------------------------------------------------

    def _claims(self, token):
        now = self.clock()
        claims, problem = tokens.verify(token, self._token_secret, now)
        if problem == "missing":
            raise _refusal(
                401,
                "This page was opened without a session token: open it through a signed embed URL from the host.",
                reason="missing",
            )
        if problem == "invalid":
            raise _refusal(
                401,
                "The session token is not valid: open the course through a freshly signed embed URL.",
                reason="invalid",
            )
        if problem == "expired":
            raise _refusal(
                410,
                "This session expired at %s: the host must mint a fresh embed URL." % _iso(claims["exp"]),
                reason="expired",
                expires_at=_iso(claims["exp"]),
            )
        return claims, now

    def session(self, environ):
        claims, now = self._claims(self._query(environ, "token"))
        return _Answer(
            200,
            {
                "action": claims["action"],
                "course": claims.get("course"),
                "learner": claims["identifier"],
                "name": claims.get("name"),
                "expires_at": _iso(claims["exp"]),
                "expires_in_s": round(claims["exp"] - now, 3),
            },
        )

    # ---- POST /api/tracking --------------------------------------------------------------

    def tracking(self, environ):
        body = self._json_body(environ, coassemble_style=False)
        claims, now = self._claims(body.get("token"))
        event = body.get("event")
        if event not in ("commenced", "completed"):
            raise _refusal(400, "event must be \"commenced\" or \"completed\".")
        if claims["action"] != "view":
            raise _refusal(400, "Only the course player reports tracking.")
        key = (claims.get("course"), claims["identifier"])
        with self._lock:
            record = self._tracking.get(key)
            if record is None:
                record = self._tracking[key] = self._new_tracking(key, now)
            due = []
            if record["commenced"] is None:  # a completion implies a start, as in Coassemble's record
                record["commenced"] = _iso(now)
                due.append("course.commenced")
            if event == "completed" and record["completed"] is None:
                record["completed"] = _iso(now)
                record["progress"] = 100
                due.append("course.completed")
            record["totalTime"] = int(now - record["started_at"])
            snapshot = dict(record)
        if "course." + event not in due:
            return _Answer(200, {"sent": [], "note": "Already reported: Coassemble sends only the first %s." % event})
        sent = [self._send_webhook(kind, claims, snapshot, now) for kind in due]
        return _Answer(202 if self.webhooks else 200, {"sent": [s for s in sent if s]})

    def _send_webhook(self, kind, claims, record, now):
        """Coassemble's webhook body (developers.coassemble.com/webhooks): no progress, no score."""
        if self.webhooks is None and not self._senders_for(kind):
            return None
        completed = record["completed"] if kind == "course.completed" else None
        body = {
            "id": secrets.token_hex(16),
            "type": kind,
            "occurredAt": _iso(now),
            "workspaceId": int(self.workspace_id) if self.workspace_id.isdigit() else self.workspace_id,
            "data": {
                "course": {
                    "id": COURSE["id"],
                    "title": COURSE["title"],
                    "key": COURSE["key"],
                    "clientIdentifier": None,
                },
                "tracking": {
                    "id": record["id"],
                    "identifier": claims["identifier"],
                    "email": None,
                    "commenced": record["commenced"],
                    "completed": completed,
                    "totalTime": int(now - record["started_at"]),
                },
            },
        }
        for sender in self._senders_for(kind):  # every enabled endpoint registered for it, signed with its secret
            sender.send(kind, body)
        return self.webhooks.send(kind, body) if self.webhooks is not None else None

    # ---- GET /api/deliveries -------------------------------------------------------------

    def deliveries(self, environ):
        with self._lock:
            senders = [endpoint["sender"] for _, endpoint in sorted(self._endpoints.items())]
        records = self.webhooks.records() if self.webhooks else []
        for sender in senders:
            records.extend(sender.records())
        return _Answer(200, {"deliveries": records})

    # ---- webhook endpoints: GET/POST /api/v1/headless/webhooks, DELETE .../webhooks/{id} ----
    # Shapes as Coassemble's Moodle plugin reads them (moodle-mod_coassemble classes/api/client.php
    # list_webhooks, create_webhook, delete_webhook): the list is {"events", "endpoints"}; POST
    # {url, events, enabled} answers the endpoint WITH its signing secret, the only time it is shown.

    def _authorise(self, environ):
        given = environ.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self._authorization.encode("utf-8")):
            raise _coassemble_error(401, "UNAUTHORIZED", "Unauthorized")

    @staticmethod
    def _shown(endpoint):
        return {name: endpoint[name] for name in ("id", "url", "events", "enabled", "createdAt")}

    def list_webhooks(self, environ):
        self._authorise(environ)
        with self._lock:
            endpoints = [self._shown(endpoint) for _, endpoint in sorted(self._endpoints.items())]
        return _Answer(200, {"events": list(WEBHOOK_EVENTS), "endpoints": endpoints})

    def create_webhook(self, environ):
        self._authorise(environ)
        body = self._json_body(environ, coassemble_style=True)
        url = body.get("url")
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        # Coassemble takes https receivers; the harness also takes http on this machine (tests, demo).
        local = parts is not None and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts is None or not parts.hostname or not (parts.scheme == "https" or local):
            raise _coassemble_error(400, "BAD_REQUEST", "url must be an https URL")
        events = body.get("events")
        if (
            not isinstance(events, list)
            or not events
            or any(not isinstance(e, str) or e not in WEBHOOK_EVENTS for e in events)
        ):
            raise _coassemble_error(400, "BAD_REQUEST", "events must list some of: " + ", ".join(WEBHOOK_EVENTS))
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _coassemble_error(400, "BAD_REQUEST", "enabled must be a boolean")
        secret = "whsec_" + secrets.token_hex(24)
        sender = WebhookSender(
            url,
            secret,
            attempts=self._webhook_attempts,
            backoff_s=self._webhook_backoff_s,
            timeout_s=self._webhook_timeout_s,
            clock=self.clock,
        )
        with self._lock:
            endpoint_id = max(self._endpoints, default=0) + 1
            endpoint = self._endpoints[endpoint_id] = {
                "id": endpoint_id,
                "url": url,
                "events": sorted(set(events), key=WEBHOOK_EVENTS.index),
                "enabled": enabled,
                "createdAt": _iso(self.clock()),
                "sender": sender,
            }
        return _Answer(201, dict(self._shown(endpoint), secret=secret))

    def delete_webhook(self, environ, rest):
        self._authorise(environ)
        with self._lock:
            endpoint = self._endpoints.pop(int(rest), None) if rest.isdigit() else None
        if endpoint is None:
            raise _coassemble_error(404, "NOT_FOUND", "Webhook not found")
        return _Answer(200, {"message": "Webhook deleted", "id": endpoint["id"]})

    def _senders_for(self, kind):
        with self._lock:
            return [e["sender"] for _, e in sorted(self._endpoints.items()) if e["enabled"] and kind in e["events"]]

    # ---- erasure: DELETE /api/v1/headless/user/{identifier}, DELETE .../tracking ----------
    # developers.coassemble.com (identities, trackings). The answers' bodies are not published:
    # 200 {"message"} when something was erased, 404 in Coassemble's error envelope otherwise.

    def delete_user(self, environ, rest):
        self._authorise(environ)
        identifier = self._path_text(environ, rest)
        with self._lock:
            known = identifier in self._learners or any(who == identifier for _, who in self._tracking)
            self._learners.discard(identifier)
            for key in [key for key in self._tracking if key[1] == identifier]:
                del self._tracking[key]
            self._erasure_requests.append(
                {"method": "DELETE", "path": "user", "identifier": identifier, "found": known}
            )
        if not known:
            raise _coassemble_error(404, "NOT_FOUND", "User not found")
        return _Answer(200, {"message": "User deleted"})

    def delete_tracking(self, environ):
        self._authorise(environ)
        identifier, course = self._query(environ, "identifier"), self._query(environ, "id")
        if not identifier or not course:
            raise _coassemble_error(400, "BAD_REQUEST", "id and identifier are required")
        with self._lock:
            found = self._tracking.pop((int(course) if course.isdigit() else course, identifier), None)
            self._erasure_requests.append(
                {
                    "method": "DELETE",
                    "path": "tracking",
                    "identifier": identifier,
                    "course": course,
                    "found": found is not None,
                }
            )
        if found is None:
            raise _coassemble_error(404, "NOT_FOUND", "Tracking not found")
        return _Answer(200, {"message": "Tracking deleted"})

    @staticmethod
    def _path_text(environ, rest):
        try:
            return rest.encode("latin-1").decode("utf-8")  # PEP 3333: the URL's bytes as latin-1
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise _coassemble_error(400, "BAD_REQUEST", "identifier must be UTF-8") from None

    def erasures(self, environ):
        """Harness-only: every erasure request received, in order (tests check Coassemble was asked)."""
        with self._lock:
            return _Answer(200, {"erasures": list(self._erasure_requests)})

    # ---- GET /api/v1/headless/trackings (and the tests' seeding and switches) --------------

    def _new_tracking(self, key, now, **values):
        """A tracking as Coassemble keeps it (called under self._lock)."""
        record = {
            "id": len(self._tracking) + len(self._raw_rows) + 1,
            "course": key[0],
            "identifier": key[1],
            "clientIdentifier": None,
            "commenced": None,
            "completed": None,
            "progress": 0,
            "score": None,
            "passed": None,
            "totalTime": 0,
            "started_at": now,
        }
        record.update(values)
        return record

    def seed_tracking(
        self,
        course,
        identifier,
        commenced=None,
        completed=None,
        progress=None,
        score=None,
        passed=None,
        total_time=0,
        client_identifier=None,
    ):
        """Test-only: make (or overwrite) a tracking without sending any webhook."""
        key = (int(course) if str(course).isdigit() else str(course), identifier)  # as the player keys them
        with self._lock:
            self._tracking[key] = self._new_tracking(
                key,
                self.clock(),
                commenced=commenced,
                completed=completed,
                progress=(100 if completed else 0) if progress is None else progress,
                score=score,
                passed=passed,
                totalTime=total_time,
                clientIdentifier=client_identifier,
            )

    def seed_raw_row(self, course, row):
        """Test-only: a row served exactly as given (odd values included) in `course`'s trackings."""
        with self._lock:
            self._raw_rows.append((str(course), row))

    def set_trackings_switches(
        self,
        enabled=None,
        shape=None,
        progress_spelling=None,
        delay_s=None,
        fail_next=None,
        fail_status=429,
        retry_after=None,
    ):
        """Test-only: `enabled` False answers 403 (not on this plan); `shape` and
        `progress_spelling` pick the answer form; `fail_next` N answers the next N requests
        `fail_status` (429 carries `Retry-After: retry_after`)."""
        with self._lock:
            if enabled is not None:
                self.trackings_enabled = bool(enabled)
            if shape is not None:
                if shape not in ("data", "list", "alternate"):
                    raise ValueError("shape must be data, list or alternate")
                self.trackings_shape = shape
            if progress_spelling is not None:
                if progress_spelling not in ("camel", "snake", "alternate"):
                    raise ValueError("progress_spelling must be camel, snake or alternate")
                self.progress_spelling = progress_spelling
            if delay_s is not None:
                self.trackings_delay_s = max(0.0, float(delay_s))
            if fail_next:
                self._trackings_failures.extend([(int(fail_status), retry_after)] * int(fail_next))

    def trackings(self, environ):
        query = {
            name: values[0]
            for name, values in urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()
        }
        with self._lock:
            self.trackings_requests.append(query)  # refused ones too: tests count every request
        given = environ.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self._authorization.encode("utf-8")):
            raise _coassemble_error(401, "UNAUTHORIZED", "Unauthorized")
        with self._lock:
            failure = self._trackings_failures.pop(0) if self._trackings_failures else None
            enabled = self.trackings_enabled
            delay = self.trackings_delay_s
        if delay:
            time.sleep(delay)  # a slow Coassemble: the tests' kill lands while a request is open
        if failure is not None:
            status, retry = failure
            answer = _coassemble_error(
                status,
                "TOO_MANY_REQUESTS" if status == 429 else "UNAVAILABLE",
                "Too many requests" if status == 429 else "Service unavailable",
            )
            if retry is not None:
                answer.headers.append(("Retry-After", str(retry)))
            raise answer
        if not enabled:
            raise _coassemble_error(
                403, "FORBIDDEN", "Trackings are not enabled for this workspace: they are available on request"
            )
        length, page = self._paging(query)
        rows = self._matching_trackings(query)
        chosen = rows[page * length : (page + 1) * length]
        with self._lock:
            served = self._answers_served
            self._answers_served += 1
        snake = self.progress_spelling == "snake" or (self.progress_spelling == "alternate" and served % 2 == 1)
        data = [row if raw else self._public_tracking(row, snake) for raw, row in chosen]
        as_list = self.trackings_shape == "list" or (self.trackings_shape == "alternate" and served % 2 == 1)
        return _Answer(200, data if as_list else {"data": data})

    @staticmethod
    def _paging(query):
        try:
            length = int(query.get("length") or DEFAULT_TRACKINGS_PAGE)
            page = int(query.get("page") or 0)
        except ValueError:
            raise _coassemble_error(400, "BAD_REQUEST", "length and page must be numbers") from None
        if not 1 <= length <= MAX_TRACKINGS_PAGE or page < 0:
            raise _coassemble_error(
                400, "BAD_REQUEST", "length must be 1 to %d and page 0 or more" % MAX_TRACKINGS_PAGE
            )
        return length, page

    def _matching_trackings(self, query):
        """[(raw?, row)] in a stable order (by tracking id), filtered as the query asks."""

        def seconds(name):
            text = query.get(name)
            if not text:
                return None
            try:
                return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise _coassemble_error(400, "BAD_REQUEST", "%s must be a date" % name) from None

        start, end = seconds("start"), seconds("end")
        completed = query.get("completed")
        with self._lock:
            records = sorted(self._tracking.values(), key=lambda r: r["id"])
            raw_rows = list(self._raw_rows)
        rows = []
        for record in records:
            if query.get("id") and str(record["course"]) != query["id"]:
                continue
            if query.get("identifier") and record["identifier"] != query["identifier"]:
                continue
            if query.get("clientIdentifier") and record["clientIdentifier"] != query["clientIdentifier"]:
                continue
            if completed in ("1", "true") and not record["completed"]:
                continue
            if completed in ("0", "false") and record["completed"]:
                continue
            latest = record["completed"] or record["commenced"]
            when = datetime.datetime.fromisoformat(latest.replace("Z", "+00:00")).timestamp() if latest else None
            if start is not None and (when is None or when < start):
                continue
            if end is not None and (when is None or when > end):
                continue
            rows.append((False, record))
        rows.extend((True, row) for course, row in raw_rows if not query.get("id") or course == query["id"])
        return rows

    @staticmethod
    def _public_tracking(record, snake):
        return {
            "id": record["id"],
            "identifier": record["identifier"],
            "clientIdentifier": record["clientIdentifier"],
            "commenced": record["commenced"],
            "completed": record["completed"],
            ("progress_percent" if snake else "progressPercent"): record["progress"],
            "score": record["score"],
            "passed": record["passed"],
            "totalTime": record["totalTime"],
        }

    def test_trackings(self, environ):
        """POST /api/test/trackings {"trackings": [{course, identifier, commenced, completed,
        progress, score, passed}], "raw": [{course, row}], "switches": {...}} (harness only)."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise _refusal(400, "Invalid Content-Length.") from None
        if length > MAX_SEED_BODY_BYTES:
            raise _refusal(413, "The seeding body is too large.")
        try:
            body = json.loads(environ["wsgi.input"].read(length).decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise _refusal(400, "The body must be JSON.") from None
        if not isinstance(body, dict):
            raise _refusal(400, "The body must be a JSON object.")
        try:
            for item in body.get("trackings") or []:
                self.seed_tracking(
                    item["course"],
                    item["identifier"],
                    item.get("commenced"),
                    item.get("completed"),
                    item.get("progress"),
                    item.get("score"),
                    item.get("passed"),
                    item.get("totalTime", 0),
                    item.get("clientIdentifier"),
                )
            for item in body.get("raw") or []:
                self.seed_raw_row(item["course"], item["row"])
            self.set_trackings_switches(**(body.get("switches") or {}))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise _refusal(400, "The seeding body is not understood (%s)." % str(error)[:100]) from error
        with self._lock:
            count = len(self._tracking) + len(self._raw_rows)
        return _Answer(200, {"trackings": count})


def make_app(
    workspace_id,
    api_key,
    token_ttl_s=10800,
    webhook_url=None,
    webhook_secret=None,
    clock=time.time,
    token_secret=None,
    learner_allowance=None,
    webhook_attempts=6,
    webhook_backoff_s=1.0,
    webhook_timeout_s=10.0,
):
    """The simulated Coassemble API as a WSGI application.

    workspace_id, api_key  what `Authorization: COASSEMBLE:<workspace_id>:<api_key>` must say
    token_ttl_s            lifetime of a minted URL (Coassemble: about 3 hours; tests: seconds)
    webhook_url            where course.commenced / course.completed go (None: nowhere)
    webhook_secret         signs them (required with webhook_url)
    clock                  Unix seconds: token times and webhook timestamps (tests pass a fake)
    token_secret           bytes that sign tokens (default: random, per process)
    learner_allowance      distinct learners given a player URL before the 403 (default: no limit)
    webhook_attempts, webhook_backoff_s, webhook_timeout_s   the retry policy
    """
    return HarnessApi(
        workspace_id,
        api_key,
        token_ttl_s,
        webhook_url,
        webhook_secret,
        clock,
        token_secret,
        learner_allowance,
        webhook_attempts,
        webhook_backoff_s,
        webhook_timeout_s,
    )
