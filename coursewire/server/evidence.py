"""How evidence changes a learner's record: pure rules, no I/O (the store applies them in a
transaction).

A record holds two kinds of evidence, never mixed:
- *reported* by the browser (through a report token): progress, quiz answers, started and
  completed times. A page's console can forge these, so they are shown as reported.
- *verified* by Coassemble's signed webhooks: commenced and completed times.
A reported completion never sets the verified one.

A record is a dict with the columns of the `records` table (see store/migrations.py).

The event vocabulary (statuses, bounds, value checks) and the quiz bookkeeping are the core's,
imported, never copied: the server reads each event's checked fields (wire.FIELDS) and builds
attempts and quiz entries with the page's own reducer functions (coursewire/core/course.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coursewire.core.course import quiz_attempt, quiz_entry
from coursewire.core.vocabulary import (
    COMPLETED_REPORTED,
    COMPLETED_VERIFIED,
    IN_PROGRESS,
    MAX_ATTEMPT,
    MAX_SCREEN_ID_CHARS,
    NOT_STARTED,
    QUIZ_EVENTS,
    clamp_percent,
)
from coursewire.core.wire import read_fields

if TYPE_CHECKING:
    from coursewire.server.trackings import Tracking

Screens = dict[str, dict[str, Any]]  # screen id -> {"title", "attempt", "changed"}


def new_record(course: str, learner: str) -> dict[str, Any]:
    return {
        "course": course,
        "learner": learner,
        "progress": 0,
        "reported_started_at": None,
        "reported_completed_at": None,
        "verified_commenced_at": None,
        "verified_completed_at": None,
        "last_event_at": None,
        "reported_events": 0,
        "verified_score": None,
        "verified_passed": None,
        "verified_progress": None,
    }


def status(record: dict[str, Any]) -> str:
    if record["verified_completed_at"]:
        return COMPLETED_VERIFIED
    if record["reported_completed_at"]:
        return COMPLETED_REPORTED
    if record["progress"] > 0 or record["reported_started_at"] or record["verified_commenced_at"]:
        return IN_PROGRESS
    return NOT_STARTED


def _earliest(current: str | None, time: str) -> str:
    return time if current is None or time < current else current


def _latest(current: str | None, time: str) -> str:
    return time if current is None or time > current else current


class ReportedEvent:
    """One browser event, already validated: the page's (session, seq), the parsed wire event's
    name, data and checked fields (`Event.fields`: read from data when not given), and when it
    happened (the stored spelling, never later than its receipt)."""

    __slots__ = ("seq", "name", "data", "fields", "time")

    def __init__(self, seq: int, name: str, data: Any, time: str, fields: dict[str, Any] | None = None) -> None:
        self.seq = seq
        self.name = name
        self.data = data
        self.fields = read_fields(name, data) if fields is None else fields
        self.time = time

    def __repr__(self) -> str:
        return "ReportedEvent(%d, %r, %r, %r)" % (self.seq, self.name, self.data, self.time)


def unstorable(screens: Screens, event: ReportedEvent) -> str | None:
    """Why `event` cannot be kept in a record whose screens are `screens` (one sentence, naming
    the field), or None. Checked before apply_reported, which then cannot overflow a column."""
    if not event.name.startswith("screen:"):
        return None
    screen_id = event.fields.get("id")
    if screen_id is not None and len(screen_id) > MAX_SCREEN_ID_CHARS:
        return "data.id (the screen) must be at most %d characters." % MAX_SCREEN_ID_CHARS
    quiz_event = QUIZ_EVENTS.get(event.name)
    if (
        quiz_event is not None
        and quiz_attempt(screens.get(screen_id) if screen_id is not None else None, event.fields, quiz_event)
        > MAX_ATTEMPT
    ):
        return "data.attempt must be at most %d (counting retries)." % MAX_ATTEMPT
    return None


def apply_reported(record: dict[str, Any], screens: Screens, event: ReportedEvent) -> dict[str, Any] | None:
    """Fold one new browser event into `record` (changed in place).

    `screens` maps a screen id to {"title", "attempt"} for this record and is updated in place
    (the caller stores the ones it saw change). Returns the quiz entry to store, or None.
    """
    time = event.time
    record["reported_events"] += 1
    record["last_event_at"] = _latest(record["last_event_at"], time)
    name = event.name
    if name == "course:start":
        record["reported_started_at"] = _earliest(record["reported_started_at"], time)
    elif name == "course:progress":
        _raise_progress(record, event.fields["progress"], time)
    elif name == "course:completed":
        record["reported_completed_at"] = _earliest(record["reported_completed_at"], time)
        _raise_progress(record, 100, time)
    elif name.startswith("screen:"):
        return _apply_screen(record, screens, event)
    return None


def _raise_progress(record: dict[str, Any], percent: int, time: str) -> None:
    # Progress only ever increases: a stale or replayed message must not undo it. The wire parser
    # has already made it an integer; the clamp is the page's reducer's.
    percent = clamp_percent(percent)
    if percent > record["progress"]:
        record["progress"] = percent
    if percent > 0:
        record["reported_started_at"] = _earliest(record["reported_started_at"], time)


def _apply_screen(record: dict[str, Any], screens: Screens, event: ReportedEvent) -> dict[str, Any] | None:
    # The page's reducer's bookkeeping (core/course.py), on the server's screens table: a
    # screen's title is learnt from any of its events; the attempt and the quiz entry are the
    # core's. The entry's seq is the page session's.
    fields = event.fields
    screen_id = fields.get("id")
    screen = None
    if screen_id is not None:
        screen = screens.setdefault(screen_id, {"title": None, "attempt": 1, "changed": True})
        title = fields["title"]
        if title is not None and title != screen["title"]:
            screen["title"] = title
            screen["changed"] = True
    quiz_event = QUIZ_EVENTS.get(event.name)
    if quiz_event is None:
        return None
    attempt = quiz_attempt(screen, fields, quiz_event)
    if screen is not None and screen["attempt"] != attempt:
        screen["attempt"] = attempt
        screen["changed"] = True
    return quiz_entry(event.seq, quiz_event, screen, fields, attempt, event.time)


def apply_verified(record: dict[str, Any], event_type: str, occurred_at: str) -> None:
    """Fold a verified webhook (course.commenced / course.completed) into `record`. Deliveries can
    arrive in any order and be retried, so each time is the earliest seen."""
    if event_type == "course.commenced":
        record["verified_commenced_at"] = _earliest(record["verified_commenced_at"], occurred_at)
    elif event_type == "course.completed":
        record["verified_completed_at"] = _earliest(record["verified_completed_at"], occurred_at)
    else:
        raise ValueError("not a learner event: %r" % (event_type,))


def apply_tracking(record: dict[str, Any], tracking: Tracking, score_text: str | None) -> str:
    """Fold Coassemble's tracking of this learner (trackings.Tracking) into `record`; returns
    "new" (its completion newly verified), "changed", or "unchanged". Times are the earliest
    seen, from webhooks and trackings alike (they describe the same completion); score, passed
    and progress are Coassemble's current values (a missing one does not erase a known one;
    progress never goes down). `score_text` is the score as stored (JSON), or None."""
    before = dict(record)
    if tracking.commenced is not None:
        record["verified_commenced_at"] = _earliest(record["verified_commenced_at"], tracking.commenced)
    if tracking.completed is not None:
        record["verified_completed_at"] = _earliest(record["verified_completed_at"], tracking.completed)
        record["verified_commenced_at"] = _earliest(record["verified_commenced_at"], tracking.completed)
    if score_text is not None:
        record["verified_score"] = score_text
    if tracking.passed is not None:
        record["verified_passed"] = int(tracking.passed)
    if tracking.progress is not None and (
        record["verified_progress"] is None or tracking.progress > record["verified_progress"]
    ):
        record["verified_progress"] = tracking.progress
    if record == before:
        return "unchanged"
    return "new" if before["verified_completed_at"] is None and record["verified_completed_at"] else "changed"


LEARNER_EVENTS = ("course.commenced", "course.completed")
APPLIED_DELIVERIES = ("course.created",) + LEARNER_EVENTS


class VerifiedDelivery:
    """One webhook delivery whose signature and timestamp have been checked.

    `event_type` is the body's signed `type`; `course` / `learner` / `course_title` are read
    from it for the types we apply (None otherwise); `occurred_at` is the stored spelling of
    `occurredAt` (or of the signed timestamp when that is missing); `body` is the raw text.
    """

    __slots__ = (
        "delivery",
        "event_type",
        "course",
        "learner",
        "course_title",
        "occurred_at",
        "signed_at",
        "received_at",
        "body",
    )

    def __init__(
        self,
        delivery: str,
        event_type: str,
        course: str | None,
        learner: str | None,
        course_title: str | None,
        occurred_at: str,
        signed_at: float,
        received_at: str,
        body: str,
    ) -> None:
        self.delivery = delivery
        self.event_type = event_type
        self.course = course
        self.learner = learner
        self.course_title = course_title
        self.occurred_at = occurred_at
        self.signed_at = signed_at
        self.received_at = received_at
        self.body = body

    @property
    def applies(self) -> bool:
        return self.event_type in APPLIED_DELIVERIES
