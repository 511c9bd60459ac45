"""GET /api/records?course=ID[&since=CURSOR]: one course's learner records, for the host's staff.

Requires `Authorization: Bearer <COURSEWIRE_ADMIN_TOKEN>` (compared in constant time; scripts,
curl) or the staff session cookie /api/staff-session sets (the report page); 503 when the server
has no admin token configured. A wrong Authorization header is refused even beside a valid
cookie, and the admin token itself is never accepted as a cookie or in the query. Answers

    {"course": ID, "title": ..., "cursor": N, "records": [{"learner", "progress", "status",
      "answers", "reported_started_at", "reported_completed_at", "verified_commenced_at",
      "verified_completed_at", "last_event_at", "reported_events", "changed"}, ...]}

`cursor` grows with every change to the course's records; a live page polls with
`since=<cursor>` and gets only the records changed since (an empty list when nothing did).
"""

import hmac
import logging
import urllib.parse

from coursewire.server import limits
from coursewire.server.http import Refusal
from coursewire.server.ids import course_id
from coursewire.server.staff_session import SessionRefused, session_expiry
from coursewire.server.store.errors import StoreUnavailable

QUERY_FIELDS = ("course", "since")
MAX_CURSOR_DIGITS = 18

log = logging.getLogger("coursewire.server.records")


def list_records(request, context):
    authorise_staff(request, context)
    query = _query(request.query)
    try:
        course = course_id(query.get("course"), "course")
    except ValueError as error:
        raise Refusal(400, str(error))
    since = query.get("since", "0")
    if not (since.isascii() and since.isdigit() and len(since) <= MAX_CURSOR_DIGITS):
        raise Refusal(400, "since must be a cursor from an earlier answer (a whole number).")
    try:
        return 200, context.store.course_records(course, int(since))
    except StoreUnavailable as error:
        log.warning("records not read: %s", error)
        raise Refusal(503, "The learner record is unavailable; try again shortly.")


_CHALLENGE = [("WWW-Authenticate", 'Bearer realm="coursewire"')]


def authorise_staff(request, context) -> None:
    """Admit the admin token (Authorization: Bearer) or a staff session cookie; Refusal otherwise.
    Every staff-only route calls this. Wrong tokens are counted: after too many, 429 with
    Retry-After for every token from that address (or everyone; coursewire/server/limits.py)."""
    admin_token = context.settings.admin_token
    if not admin_token:
        raise Refusal(503, "The records API is not configured on this server: set COURSEWIRE_ADMIN_TOKEN.")
    header = request.header("Authorization")
    if header is not None:
        given = header.encode("utf-8", "replace")
        correct = hmac.compare_digest(given, ("Bearer " + admin_token).encode("utf-8"))
        limits.guessing(request, context, correct)  # 429 during a lockout, right token or not
        if not correct:
            raise Refusal(401, "The records API needs Authorization: Bearer and the admin token.", _CHALLENGE)
        return
    try:
        expires = session_expiry(request, context)
    except SessionRefused as refusal:
        raise Refusal(401, str(refusal), _CHALLENGE)
    if expires is None:
        raise Refusal(401, "Sign in as staff on the report page, or send Authorization: Bearer and the admin token.",
                      _CHALLENGE)


def _query(text):
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                                       max_num_fields=len(QUERY_FIELDS))
    except ValueError:
        raise Refusal(400, "The query must be course=ID and, optionally, since=CURSOR.")
    query = {}
    for name, value in pairs:
        if name not in QUERY_FIELDS or name in query:
            raise Refusal(400, "The query must be course=ID and, optionally, since=CURSOR.")
        query[name] = value
    return query
