"""POST /webhooks/coassemble: Coassemble's signed deliveries, verified, then stored and applied.

Order matters: nothing is stored until the delivery is proven to come from Coassemble (the
signature over "<timestamp>.<raw body>", in constant time) and to be fresh (timestamp within
300 s either way), and well formed. Then the delivery is recorded and applied in one
transaction, and 2xx is answered only after its commit: a crash before that makes Coassemble
retry, and the retry (same X-Coassemble-Delivery) is answered 2xx without being applied again.

    200 {"status": "applied"}      course.created / course.commenced / course.completed
    200 {"status": "duplicate"}    this delivery id was recorded before; nothing changed
    202 {"status": "ignored"}      a verified delivery of a type we do not apply (stored)
    202 {"status": "erased"}       about an erased learner's time before the erasure: stored
                                   without the learner and body, not applied (store/erasure.py)
    401 bad or missing signature or timestamp, or a timestamp more than 300 s away
    400 malformed JSON, shape or delivery id     413 body over 1 MiB
    503 no webhook secret configured, or the database unavailable (Coassemble retries)

X-Coassemble-Event is not signed; the signed body's `type` decides, and a header that
contradicts it is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from coursewire.server.evidence import APPLIED_DELIVERIES, LEARNER_EVENTS, VerifiedDelivery
from coursewire.server.http import Refusal, parse_json_object
from coursewire.server.ids import course_id, learner_id
from coursewire.server.store.errors import StoreUnavailable
from coursewire.server.times import iso, parse_iso

if TYPE_CHECKING:
    from coursewire.server.http import Answer, Request
    from coursewire.server.wsgi import Context

T = TypeVar("T")

MAX_DELIVERY_BYTES = 1024 * 1024
TIMESTAMP_TOLERANCE_S = 300
MAX_DELIVERY_ID_CHARS = 128
MAX_EVENT_TYPE_CHARS = 128
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:")

log = logging.getLogger("coursewire.server.webhooks")


def sign_delivery(secret: str, timestamp: float, body: bytes) -> str:
    """The X-Coassemble-Signature value for `body` (bytes) sent at `timestamp` (Unix seconds):
    what Coassemble sends, and what a test or the demo harness must send."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def webhook_secrets(setting: str | None) -> list[str]:
    """COASSEMBLE_WEBHOOK_SECRET as a list: several secrets separated by spaces, so a secret can be
    rotated (register the new endpoint, add its secret, then remove the old one)."""
    return (setting or "").split()


def receive(request: Request, context: Context) -> Answer:
    secrets = webhook_secrets(context.settings.webhook_secret)
    if not secrets:
        raise Refusal(503, "Webhooks are not configured on this server: set COASSEMBLE_WEBHOOK_SECRET.")
    body = request.body(MAX_DELIVERY_BYTES)
    signed_at = _verify(request, secrets, body, context.clock())
    delivery = _read_delivery(request, body, signed_at, context.clock())
    try:
        outcome = context.store.record_delivery(delivery)
    except StoreUnavailable as error:
        log.warning("webhook delivery not stored: %s", error)
        raise Refusal(503, "The learner record is unavailable; the delivery was not stored, retry it later.") from error
    if outcome in ("ignored", "erased"):
        return 202, {"status": outcome}
    return 200, {"status": outcome}


def _verify(request: Request, secrets: Iterable[str], body: bytes, now: float) -> int:
    """The signed timestamp, once the signature (by any of `secrets`) and its freshness are proven;
    Refusal(401) else."""
    signature = request.header("X-Coassemble-Signature")
    timestamp = request.header("X-Coassemble-Timestamp")
    if not signature:
        raise Refusal(401, "The delivery has no X-Coassemble-Signature header.")
    if not timestamp:
        raise Refusal(401, "The delivery has no X-Coassemble-Timestamp header.")
    timestamp = timestamp.strip()
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Refusal(401, "X-Coassemble-Timestamp must be Unix seconds.")
    given = signature.strip().lower().encode("utf-8", "replace")
    # Compared as bytes so any header text is a mismatch, not an exception; constant time, and
    # against every listed secret (no early exit), so timing tells nothing about which matched.
    matches = [
        hmac.compare_digest(given, sign_delivery(secret, int(timestamp), body).encode("ascii")) for secret in secrets
    ]
    if not any(matches):
        raise Refusal(401, "The delivery's signature does not match.")
    if abs(now - int(timestamp)) > TIMESTAMP_TOLERANCE_S:
        raise Refusal(
            401,
            "The delivery's timestamp is more than %d seconds away from this server's clock." % TIMESTAMP_TOLERANCE_S,
        )
    return int(timestamp)


def _read_delivery(request: Request, body: bytes, signed_at: float, now: float) -> VerifiedDelivery:
    delivery_id = request.header("X-Coassemble-Delivery")
    if not delivery_id:
        raise Refusal(400, "The delivery has no X-Coassemble-Delivery header.")
    delivery_id = delivery_id.strip()
    if not 0 < len(delivery_id) <= MAX_DELIVERY_ID_CHARS or not set(delivery_id) <= _ID_CHARS:
        raise Refusal(
            400, "X-Coassemble-Delivery must be an id of at most %d letters, digits and dashes." % MAX_DELIVERY_ID_CHARS
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "The delivery body is not UTF-8 text.") from None
    message = parse_json_object(text)
    event_type = message.get("type")
    if not isinstance(event_type, str) or not 0 < len(event_type) <= MAX_EVENT_TYPE_CHARS:
        raise Refusal(400, "The delivery's type must be a short string such as course.completed.")
    header_type = request.header("X-Coassemble-Event")
    if header_type is not None and header_type.strip() != event_type:
        raise Refusal(400, "X-Coassemble-Event does not match the delivery's type.")
    course: str | None = None
    learner: str | None = None
    title: str | None = None
    occurred_at = iso(signed_at)
    if event_type in APPLIED_DELIVERIES:
        data = _object(message.get("data"), "data")
        course_object = _object(data.get("course"), "data.course")
        course = _checked(course_id, course_object.get("id"), "data.course.id")
        title = course_object.get("title")
        if title is not None and not isinstance(title, str):
            raise Refusal(400, "data.course.title must be a string.")
        if event_type in LEARNER_EVENTS:
            tracking = _object(data.get("tracking"), "data.tracking")
            learner = _checked(learner_id, tracking.get("identifier"), "data.tracking.identifier")
        if message.get("occurredAt") is not None:
            # Signed, so trusted; a malformed one is a malformed delivery.
            occurred_at = iso(_checked(parse_iso, message.get("occurredAt"), "occurredAt"))
    return VerifiedDelivery(delivery_id, event_type, course, learner, title, occurred_at, signed_at, iso(now), text)


def _object(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Refusal(400, "The delivery's %s must be an object." % field)
    return value


def _checked(check: Callable[[Any, str], T], value: object, field: str) -> T:
    try:
        return check(value, field)
    except ValueError as error:
        raise Refusal(400, str(error)) from error
