"""POST /api/events: batches of what a learner's page saw, each event applied at most once.

A batch (JSON; sent as application/json by fetch, or as text/plain by navigator.sendBeacon):

    {"token": "<report token from the embed-URL route>",
     "session": "<the page's session id: 8-64 of A-Z a-z 0-9 _ ->",
     "events": [{"seq": 1, "type": "course", "event": "progress", "data": {"progress": 40},
                 "time": "2026-11-28T08:51:27.123Z"}, ...],
     "course": "<optional: refused unless the token's>", "learner": "<optional, the same>"}

`seq` numbers the page session's events from 1; (session, seq) is the idempotency key, so a
retried batch, or one half new and half already stored, applies only what is new. Each event is
read by the browser's own wire parser (`parse_message`), so the server accepts exactly what the
page accepts. An event's `time` is when the page saw it; a time later than the server's clock
is taken as now.

One bad event does not cost its batch: an event with a usable `seq` that cannot be stored (not
a Coassemble event, a time before 1970 or after 9998, a value past what a column holds:
evidence.unstorable) is refused alone, named in the answer, and the rest is applied. A refused
event is not stored, so sending it again is refused again.

    200 {"applied": n, "duplicates": m}     after the commit; when events were refused, also
        "refused": [{"seq": 7, "error": "events[6].time must be a time from 1970 to 9998."}]
    401 missing, forged, expired token, or a course/learner the token is not for
    400 malformed batch (the sentence names the field: no events, an event that is not an
        object or has no usable seq, a seq twice)    413 too large    415 other content types
    429 + Retry-After: past a bound (coursewire/server/limits.py): this learner's pages reported
        more than 12,000 events or 16 MiB this hour, or this page session more than 20,000 events
        or 32 MiB in all; the batch was not stored
    503 the database is unavailable (retry)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from coursewire.core.vocabulary import SESSION_MAX_CHARS, SESSION_MIN_CHARS, is_int, is_session_id
from coursewire.core.wire import Rejection, parse_message  # the same parser the page runs
from coursewire.server import limits
from coursewire.server.evidence import ReportedEvent
from coursewire.server.http import Refusal
from coursewire.server.ids import course_id, learner_id
from coursewire.server.store.errors import StoreUnavailable
from coursewire.server.store.limits import OverLimit
from coursewire.server.times import iso, parse_iso
from coursewire.server.tokens import TokenRefused

MAX_BATCH_BYTES = 512 * 1024
MAX_BATCH_EVENTS = 500
MAX_SEQ = 2**53 - 1  # JavaScript's largest exact integer: the page counts with Numbers
BATCH_FIELDS = frozenset(("token", "session", "events", "course", "learner"))
EVENT_FIELDS = frozenset(("seq", "type", "event", "data", "time"))
CONTENT_TYPES = ("application/json", "text/plain")

if TYPE_CHECKING:
    from coursewire.server.http import Answer, Request
    from coursewire.server.wsgi import Context

log = logging.getLogger("coursewire.server.reports")


def receive_batch(request: Request, context: Context) -> Answer:
    content_type = (request.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        raise Refusal(415, "Send the batch as application/json or text/plain.")
    batch = request.json_object(MAX_BATCH_BYTES)
    now = context.clock()
    try:
        course, learner = context.read_report_token(batch.get("token"))
    except TokenRefused as refusal:
        raise Refusal(401, str(refusal)) from refusal
    _check_claim(batch, "course", course_id, course)
    _check_claim(batch, "learner", learner_id, learner)
    unknown = sorted(set(batch) - BATCH_FIELDS)
    if unknown:
        raise Refusal(400, "The batch has an unknown field %r." % unknown[0][:40])
    session = _session(batch.get("session"))
    # An event older than the retention period would be purged at once (retention.py): refused.
    retention_days = context.settings.retention_days
    oldest = now - retention_days * 86400 if retention_days else None
    events, refused, where = _events(batch.get("events"), now, oldest)
    known = limits.refused_report(context, course, learner, session, now)
    if known is not None:
        raise known  # this process met the cap a moment ago: the database is not asked again
    charge = limits.report_charge(
        context, course, learner, session, len(batch["events"]), len(request.body(MAX_BATCH_BYTES)), now
    )
    unstorable: list[tuple[int, str]] = []
    try:
        applied, duplicates = context.store.record_events(
            course, learner, session, events, iso(now), unstorable, charge
        )
    except OverLimit as over:
        raise limits.report_refusal(context, over, course, learner, session, now) from over
    except StoreUnavailable as error:
        log.warning("report batch not stored: %s", error)
        raise Refusal(503, "The learner record is unavailable; the batch was not stored, retry it later.") from error
    answer: dict[str, Any] = {"applied": applied, "duplicates": duplicates}
    refused.extend({"seq": seq, "error": "%s.%s" % (where[seq], why)} for seq, why in unstorable)
    if refused:
        answer["refused"] = sorted(refused, key=lambda item: item["seq"])
    return 200, answer


class _EventRefused(Exception):
    """One event of a batch that cannot be stored; the rest of the batch can."""


def _check_claim(batch: dict[str, Any], field: str, check: Callable[[object, str], str], bound: str) -> None:
    # A page may say whom it reports for; a token for someone else is then refused outright.
    if field not in batch:
        return
    try:
        claimed = check(batch[field], field)
    except ValueError:
        claimed = None
    if claimed != bound:
        raise Refusal(401, "The report token is for another %s." % field)


def _session(value: Any) -> str:
    if not is_session_id(value):  # the outbox's rule (core/vocabulary.py)
        raise Refusal(
            400, "session must be %d to %d letters, digits, '_' or '-'." % (SESSION_MIN_CHARS, SESSION_MAX_CHARS)
        )
    return value


def _events(
    items: object, now: float, oldest: float | None = None
) -> tuple[list[ReportedEvent], list[dict[str, Any]], dict[int, str]]:
    """(events to store, refused [{"seq", "error"}], where {seq: "events[i]"}); Refusal for a
    fault of the batch itself."""
    if not isinstance(items, list) or not items:
        raise Refusal(400, "events must be a non-empty list.")
    if len(items) > MAX_BATCH_EVENTS:
        raise Refusal(413, "A batch holds at most %d events; send the rest in another." % MAX_BATCH_EVENTS)
    events: list[ReportedEvent] = []
    refused: list[dict[str, Any]] = []
    where: dict[int, str] = {}
    for index, item in enumerate(items):
        place = "events[%d]" % index
        seq = _seq(item, place)
        if seq in where:
            raise Refusal(400, "%s: seq %d appears twice in this batch." % (place, seq))
        where[seq] = place
        try:
            events.append(_event(item, seq, place, now, oldest))
        except _EventRefused as refusal:
            refused.append({"seq": seq, "error": str(refusal)})
    return events, refused, where


def _seq(item: object, where: str) -> int:
    # Without a usable seq an event cannot be named in the answer: that is the batch's fault.
    if not isinstance(item, dict):
        raise Refusal(400, "%s must be an object." % where)
    seq: Any = item.get("seq")
    if not is_int(seq) or not 1 <= seq <= MAX_SEQ:
        raise Refusal(400, "%s.seq must be a whole number from 1 to %d." % (where, MAX_SEQ))
    return seq


def _event(item: dict[str, Any], seq: int, where: str, now: float, oldest: float | None = None) -> ReportedEvent:
    unknown = sorted(set(item) - EVENT_FIELDS)
    if unknown:
        raise _EventRefused("%s has an unknown field %r." % (where, unknown[0][:40]))
    try:
        seen_at = parse_iso(item.get("time"), where + ".time")
    except ValueError as error:
        raise _EventRefused(str(error)) from error
    if oldest is not None and seen_at < oldest:
        raise _EventRefused(
            "%s.time is older than this server keeps reported events (COURSEWIRE_RETENTION_DAYS)." % where
        )
    message = {key: item[key] for key in ("type", "event", "data") if key in item}
    parsed = parse_message(message)
    if isinstance(parsed, Rejection):  # the page's parser would have refused it too
        raise _EventRefused("%s is not a Coassemble event (%s)." % (where, parsed.reason))
    return ReportedEvent(seq, parsed.name, parsed.data, iso(min(seen_at, now)), parsed.fields)
