"""The records API, for the host's staff: one course's learner records, page by page.

    GET /api/records?course=ID[&since=CURSOR][&limit=N][&page=TOKEN]
    GET /api/records/summary?course=ID
    GET /api/records/answers?course=ID&learner=ID[&limit=N][&page=TOKEN]

Requires `Authorization: Bearer <COURSEWIRE_ADMIN_TOKEN>` (compared in constant time; scripts,
curl) or the staff session cookie /api/staff-session sets (the report page); 503 when the server
has no admin token configured. A wrong Authorization header is refused even beside a valid
cookie, and the admin token itself is never accepted as a cookie or in the query. Answers

    {"course": ID, "title": ..., "cursor": N, "records": [{"learner", "progress", "status",
      "answers", "reported_started_at", "reported_completed_at", "verified_commenced_at",
      "verified_completed_at", "last_event_at", "reported_events", "changed", "answers_total"}, ...],
     "next_page": TOKEN or null}

at most `limit` records (default 100, at most 1,000) in learner (code-point) order; `next_page`
asks for the next ones, null on the last page, and every learner comes once across the pages.
`cursor` grows with every change to the course's records; a live page polls with
`since=<cursor>` and gets only the records changed since (an empty list when nothing did), paged
the same way. A record carries its newest 50 answers (`answers_total` counts them all); the
answers route gives them all, oldest first. The summary counts the learners per status and per
progress band (a verified completion in the 100 % band) in the database.
"""

from __future__ import annotations

import hmac
import logging
import urllib.parse
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, TypeVar

from coursewire.server import limits
from coursewire.server.http import Refusal
from coursewire.server.ids import course_id, learner_id
from coursewire.server.staff_session import SessionRefused, session_expiry
from coursewire.server.store.errors import StoreUnavailable
from coursewire.server.store.paging import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, BadPageToken

if TYPE_CHECKING:
    from coursewire.server.http import Answer, Request
    from coursewire.server.store import RecordStore
    from coursewire.server.wsgi import Context

T = TypeVar("T")

MAX_CURSOR_DIGITS = 18
RECORDS_QUERY = "The query must be course=ID and, optionally, since=CURSOR, limit=N and page=TOKEN."
ANSWERS_QUERY = "The query must be course=ID, learner=ID and, optionally, limit=N and page=TOKEN."
SUMMARY_QUERY = "The query must be course=ID."

log = logging.getLogger("coursewire.server.records")


def list_records(request: Request, context: Context) -> Answer:
    """GET /api/records: one page of a course's records (all, or those changed after since=)."""
    authorise_staff(request, context)
    query = _query(request.query, ("course", "since", "limit", "page"), RECORDS_QUERY)
    course = _course(query)
    since = query.get("since", "0")
    if not (since.isascii() and since.isdigit() and len(since) <= MAX_CURSOR_DIGITS):
        raise Refusal(400, "since must be a cursor from an earlier answer (a whole number).")
    limit = _limit(query)
    return 200, _read(context, lambda store: store.records_page(course, int(since), limit, query.get("page")))


def record_answers(request: Request, context: Context) -> Answer:
    """GET /api/records/answers: every answer of one learner, oldest first, page by page (a
    record in /api/records carries only its newest ones)."""
    authorise_staff(request, context)
    query = _query(request.query, ("course", "learner", "limit", "page"), ANSWERS_QUERY)
    course = _course(query)
    try:
        learner = learner_id(query.get("learner"), "learner")
    except ValueError as error:
        raise Refusal(400, str(error)) from error
    limit = _limit(query)
    answer = _read(context, lambda store: store.record_answers(course, learner, limit, query.get("page")))
    if answer is None:
        raise Refusal(404, "Course %s has no record of that learner." % course)
    return 200, answer


def course_summary(request: Request, context: Context) -> Answer:
    """GET /api/records/summary: a course's learners counted per status and per progress band."""
    authorise_staff(request, context)
    course = _course(_query(request.query, ("course",), SUMMARY_QUERY))
    return 200, _read(context, lambda store: store.course_summary(course))


def _course(query: dict[str, str]) -> str:
    try:
        return course_id(query.get("course"), "course")
    except ValueError as error:
        raise Refusal(400, str(error)) from error


def _limit(query: dict[str, str]) -> int:
    text = query.get("limit", str(DEFAULT_PAGE_LIMIT))
    if not (text.isascii() and text.isdigit() and len(text) <= 4 and 1 <= int(text) <= MAX_PAGE_LIMIT):
        raise Refusal(400, "limit must be a whole number from 1 to %d." % MAX_PAGE_LIMIT)
    return int(text)


def _read(context: Context, read: Callable[[RecordStore], T]) -> T:
    try:
        return read(context.store)
    except BadPageToken as error:
        raise Refusal(400, str(error)) from error
    except StoreUnavailable as error:
        log.warning("records not read: %s", error)
        raise Refusal(503, "The learner record is unavailable; try again shortly.") from error


_CHALLENGE = [("WWW-Authenticate", 'Bearer realm="coursewire"')]


def authorise_staff(request: Request, context: Context) -> None:
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
        raise Refusal(401, str(refusal), _CHALLENGE) from refusal
    if expires is None:
        raise Refusal(
            401, "Sign in as staff on the report page, or send Authorization: Bearer and the admin token.", _CHALLENGE
        )


def _query(text: str, fields: Collection[str], sentence: str) -> dict[str, str]:
    try:
        pairs = urllib.parse.parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=len(fields)
        )
    except ValueError:
        raise Refusal(400, sentence) from None
    query: dict[str, str] = {}
    for name, value in pairs:
        if name not in fields or name in query:
            raise Refusal(400, sentence)
        query[name] = value
    return query
