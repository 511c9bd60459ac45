"""Coassemble's trackings (`GET /api/v1/headless/trackings`), read page by page (CPython only).

    for page in read_course(settings, "101", since="2026-11-01T00:00:00.000Z"):
        page.trackings   # [Tracking], the rows that could be read
        page.skipped     # rows with odd values: counted, never guessed at

What Coassemble answers, and where that is written down: docs/protocol.md, "Trackings". The
answer is `{"data": [...]}` or a bare list; progress is `progressPercent` or `progress_percent`.

Failures: 401 (the key) and 403 (trackings are "available on request") stop everything:
`TrackingsRefused`. 429 waits its Retry-After, 5xx and no answer back off; both are retried a
bounded number of times (each request itself bounded by COASSEMBLE_TIMEOUT), then the page is
`PageFailed`. Nothing here writes to the record: reconcile.py and checks.py do, through the
store's one `apply_tracking`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from coursewire.server import coassemble
from coursewire.server.ids import learner_id
from coursewire.server.times import iso, parse_iso

if TYPE_CHECKING:
    from coursewire.server.settings import Settings

PATH = "/api/v1/headless/trackings"
PAGE_LENGTH = 500  # the most the Moodle plugin asks for in one page
MAX_PAGE_BYTES = 8 * 1024 * 1024  # 500 rows are ~150 KB; a bigger answer is not a page of trackings
ATTEMPTS = 5  # per page: the first request and four retries
BACKOFF_S = (0.5, 1.0, 2.0, 4.0)  # before retry n after a 5xx or no answer
MAX_RETRY_AFTER_S = 60  # a longer Retry-After gives up on the page rather than hang the command
MAX_PAGES = 20000  # 10 million trackings of one course: a paging loop that never ends is a bug there


class Tracking:
    """One readable tracking: times in the record's spelling (times.iso) or None; progress an
    integer 0..100 or None; score a number or None; passed a bool or None."""

    __slots__ = ("identifier", "commenced", "completed", "progress", "score", "passed")

    def __init__(
        self,
        identifier: str,
        commenced: str | None,
        completed: str | None,
        progress: int | None,
        score: float | None,
        passed: bool | None,
    ) -> None:
        self.identifier = identifier
        self.commenced = commenced
        self.completed = completed
        self.progress = progress
        self.score = score
        self.passed = passed

    def __repr__(self) -> str:
        return "Tracking(%r, completed=%r, progress=%r, score=%r)" % (
            self.identifier,
            self.completed,
            self.progress,
            self.score,
        )


class Page:
    def __init__(self, number: int, trackings: list, skipped: int, last: bool) -> None:
        self.number = number
        self.trackings = trackings
        self.skipped = skipped
        self.last = last


class TrackingsRefused(Exception):
    """Coassemble refused the key (401) or has no trackings for this workspace (403): retrying
    cannot help. `sentence` says which, without the key."""

    def __init__(self, sentence: str, status: int) -> None:
        Exception.__init__(self, sentence)
        self.sentence = sentence
        self.status = status


class PageFailed(Exception):
    """One page could not be read after its bounded retries (or its answer was not trackings)."""

    def __init__(self, sentence: str) -> None:
        Exception.__init__(self, sentence)
        self.sentence = sentence


def read_course(
    settings: Settings,
    course: str,
    identifier: str | None = None,
    since: str | None = None,
    length: int = PAGE_LENGTH,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Page]:
    """Every page of `course`'s trackings (of one learner when `identifier`; changed at or after
    `since`, an ISO time, when given), in order. Raises TrackingsRefused, PageFailed,
    coassemble.NotConfigured."""
    query = {"id": course, "length": length}
    if identifier is not None:
        query["identifier"] = identifier
    if since is not None:
        query["start"] = since
    for number in range(MAX_PAGES):
        rows = _fetch(settings, dict(query, page=number), sleep)
        trackings, skipped = [], 0
        for row in rows:
            tracking = parse_row(row)
            if tracking is None:
                skipped += 1
            else:
                trackings.append(tracking)
        last = len(rows) < length
        yield Page(number, trackings, skipped, last)
        if last:
            return
    raise PageFailed("Coassemble's trackings of course %s did not end after %d pages." % (course, MAX_PAGES))


def _fetch(settings: Settings, query: dict, sleep: Callable[[float], None]) -> list:
    """The rows of one page, retried within bounds."""
    what = "the trackings request (course %s, page %d)" % (query["id"], query["page"])
    sentence: str | None = None
    wait = 0.0
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(wait)
        status, headers, raw, failure = coassemble.api_call(
            settings, "GET", PATH, query=query, max_bytes=MAX_PAGE_BYTES
        )
        if failure is not None:  # no answer: unreachable, timed out, broke off
            sentence, wait = failure.sentence, BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            continue
        if status == 200:
            return _rows(raw, what)
        sentence = coassemble.refusal_sentence(status, headers, raw, what, settings.api_key)
        if status == 401:
            raise TrackingsRefused(sentence, status)
        if status == 403:
            raise TrackingsRefused(
                "Coassemble's trackings are not enabled for this workspace (HTTP 403): they are available "
                "on request from Coassemble.",
                status,
            )
        if status == 429:
            retry = coassemble.retry_after(headers)
            if retry is not None and retry > MAX_RETRY_AFTER_S:
                break
            wait = retry if retry is not None else BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            continue
        if status >= 500:
            wait = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            continue
        break  # another refusal (400, 404, ...): asking again gets the same answer
    raise PageFailed(
        (sentence or "Coassemble did not answer").rstrip(".")
        + " (gave up after %d attempt%s)." % (attempt + 1, "" if attempt == 0 else "s")
    )


def _rows(raw: bytes, what: str) -> list:
    if len(raw) > MAX_PAGE_BYTES:
        raise PageFailed("Coassemble's answer to %s was larger than %d MB." % (what, MAX_PAGE_BYTES // 2**20))
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PageFailed("Coassemble's answer to %s was not JSON." % what) from None
    if isinstance(value, dict) and isinstance(value.get("data"), list):
        return value["data"]  # the documented form; the Moodle plugin also takes a bare list
    if isinstance(value, list):
        return value
    raise PageFailed("Coassemble's answer to %s was neither a list nor {\"data\": [...]}." % what)


def parse_row(row: object) -> Tracking | None:
    """A Tracking, or None for a row whose values cannot be read (it is skipped and counted:
    a guess would put words in Coassemble's mouth)."""
    if not isinstance(row, dict):
        return None
    try:
        identifier = learner_id(row.get("identifier"), "identifier")
        commenced = _time(row.get("commenced"))
        completed = _time(row.get("completed"))
        progress = _progress(row["progressPercent"] if "progressPercent" in row else row.get("progress_percent"))
        score = _score(row.get("score"))
        passed = _passed(row.get("passed"))
    except ValueError:
        return None
    if completed is not None and commenced is None:
        commenced = completed  # a completion is a start (Coassemble's webhooks say the same)
    return Tracking(identifier, commenced, completed, progress, score, passed)


def _time(value: object) -> str | None:
    # A time, or null/absent/false (not yet). A bare `true` has no time to keep: odd.
    if value is None or value is False or value == "":
        return None
    return iso(parse_iso(value, "time"))


def _progress(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("progress")
    if not 0 <= value <= 100:
        raise ValueError("progress")
    return int(round(value))


def _score(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("score")
    if abs(value) > 1e9:
        raise ValueError("score")
    return value


def _passed(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    raise ValueError("passed")
