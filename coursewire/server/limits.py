"""Bounds on what one client may make the server do: browser reports and admin-token guesses.

The counters live in the learner record's database (store/limits.py), so every server process
(gunicorn workers, several machines on one PostgreSQL) counts together; windows are fixed
(they start at multiples of their length in Unix seconds). A refusal is 429 with Retry-After
and one sentence.

Reports (POST /api/events). The numbers are far above what a real course makes. A long
Coassemble course has ~300 screens; each visit sends about 4 events (screen start, end,
complete, course progress); a learner who goes over every screen 5 times sends 6,000. A quiz of
100 questions with 10 attempts each and 3 events an attempt (answer, failed, retry) adds 3,000:
~9,000 events for an extreme page session. A real event is 100 B (progress) to 1 KB (an answer
with its question). The page's outbox holds at most 10,000 unsent events (core/outbox.py), which
it drains as fast as the server answers after an offline spell. So:

- per page session, over its whole life: 20,000 events and 32 MiB of batches (twice the extreme
  session). A session's cap never resets; its 429 says Retry-After one hour.
- per learner in a course, per hour: 12,000 events and 16 MiB (a full outbox drained at once
  plus an hour of the fastest clicking). The report token binds (course, learner); the counter is
  kept per (course, learner), not per token string, so minting fresh tokens buys no more.
The flood that prompted this (272,000 events in 15 s from one token) now meets 429 after 12,000:
one learner can add at most 12,000 events (16 MiB) an hour. A batch is taken while the counts
before it are under the caps (a window holds at most one batch past a cap, so no batch is ever
too big to be taken once its window turns); a refused batch stores and counts nothing; a batch
that brings nothing new (a retry of one already stored) changes nothing, counters included.

Admin-token guesses (Authorization: Bearer on staff routes, and POST /api/staff-session). Both
guess the same secret, so both feed one count: per client address (REMOTE_ADDR as the WSGI server
gives it; no X-Forwarded-For is trusted, so behind a proxy every client is the proxy's address)
and overall. After 10 wrong tokens from an address in 15 minutes that address is refused, and
after 200 overall everyone is, until the window ends: even the right token is refused then, so
a guesser learns nothing from a lockout's answers. A staff session cookie is not a guess (it is
signed) and keeps working during a lockout.

COURSEWIRE_LIMITS changes the numbers ("report_events=5 report_window_s=2"; names as in
Limits.NAMES); tests use small ones.
"""

import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from coursewire.core.vocabulary import is_int
from coursewire.server.http import Refusal, Request
from coursewire.server.store.errors import StoreUnavailable
from coursewire.server.store.limits import OverLimit

if TYPE_CHECKING:
    from coursewire.server.wsgi import Context

MAX_ADDRESS_CHARS = 64  # an IPv6 address with a zone fits; anything longer is cut
UNKNOWN_ADDRESS = "unknown"  # a WSGI server that gives no REMOTE_ADDR: all such clients count together


class Limits:
    """The numbers every bound uses (see the module docstring for why these)."""

    NAMES = {
        "report_window_s": 3600,
        "report_events": 12000,  # per learner and course, per window
        "report_bytes": 16 * 1024 * 1024,
        "session_events": 20000,  # per page session, over its life
        "session_bytes": 32 * 1024 * 1024,
        "session_retry_after_s": 3600,
        "guess_window_s": 900,
        "guesses_per_address": 10,
        "guesses_overall": 200,
    }
    # Set by __init__ from NAMES (declared for the type checker).
    report_window_s: int
    report_events: int
    report_bytes: int
    session_events: int
    session_bytes: int
    session_retry_after_s: int
    guess_window_s: int
    guesses_per_address: int
    guesses_overall: int

    def __init__(self, **values: int) -> None:
        for name, default in self.NAMES.items():
            value = values.pop(name, default)
            if not is_int(value) or value < 1:
                raise ValueError("The limit %s must be a whole number of at least 1." % name)
            setattr(self, name, value)
        if values:
            raise ValueError("There is no limit called %s." % sorted(values)[0])

    @classmethod
    def parse(cls, text: str) -> "Limits":
        """COURSEWIRE_LIMITS: space-separated name=number pairs; ValueError with one sentence."""
        values = {}
        for word in (text or "").split():
            name, sep, number = word.partition("=")
            if not sep or name not in cls.NAMES or not (number.isascii() and number.isdigit()) or len(number) > 15:
                raise ValueError(
                    "COURSEWIRE_LIMITS must be name=number pairs separated by spaces, names among %s;"
                    " %r is not one." % (", ".join(sorted(cls.NAMES)), word[:60])
                )
            values[name] = int(number)
        return cls(**values)

    def __repr__(self) -> str:
        return "Limits(%s)" % ", ".join("%s=%d" % (name, getattr(self, name)) for name in sorted(self.NAMES))


class RefusalMemo:
    """What this process already knows is refused, and until when: a flood that has met 429
    is refused again without touching the database. Safe because windows are fixed: a count
    never falls inside its window. Bounded; the database stays the one place counts live."""

    MAX_KEYS = 10000

    def __init__(self) -> None:
        self._until: dict[tuple, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def refused(self, key: tuple, now: float) -> "tuple[int, str] | None":
        """(retry_after_s, sentence) while `key` is known to be refused, else None."""
        with self._lock:
            found = self._until.get(key)
            if found is None:
                return None
            if now >= found[0]:
                del self._until[key]
                return None
            return _seconds_until(found[0], now), found[1]

    def remember(self, key: tuple, until: float, sentence: str, now: float) -> None:
        with self._lock:
            if len(self._until) >= self.MAX_KEYS:
                for old in [k for k, (t, _) in self._until.items() if now >= t]:
                    del self._until[old]
                if len(self._until) >= self.MAX_KEYS:
                    self._until.clear()
            self._until[key] = (until, sentence)


def _seconds_until(until: float, now: float) -> int:
    return max(1, int(math.ceil(until - now)))


def too_many(retry_after_s: int, sentence: str) -> Refusal:
    return Refusal(429, sentence, [("Retry-After", str(retry_after_s))])


# -- reports --


def report_charge(
    context: "Context", course: str, learner: str, session: str, events: int, size: int, now: float
) -> "Callable[[Any], None]":
    """The charge for a batch: a function the store calls inside the batch's own transaction
    (RecordStore.record_events(charge=...)). It raises OverLimit, which rolls the batch back."""
    limits = context.settings.limits
    store = context.store

    def charge(tx: Any) -> None:
        store.charge_report(tx, limits, course, learner, session, events, size, now)

    return charge


def refused_report(context: "Context", course: str, learner: str, session: str, now: float) -> "Refusal | None":
    """Refusal(429) when this process already knows the batch's learner or session is refused."""
    memo = context.refusals
    for key in (("report", course, learner), ("session", course, learner, session)):
        known = memo.refused(key, now)
        if known is not None:
            return too_many(*known)
    return None


def report_refusal(context: "Context", over: OverLimit, course: str, learner: str, session: str, now: float) -> Refusal:
    """The 429 for a batch the store found over a cap; remembered until the refusal ends."""
    limits = context.settings.limits
    if over.scope == "session":
        sentence = (
            "This page session has reported more than a course ever needs (%d events or %d bytes);"
            " nothing more is taken from it." % (limits.session_events, limits.session_bytes)
        )
        key: tuple[str, ...] = ("session", course, learner, session)
    else:
        sentence = (
            "This learner's pages reported more than %d events or %d bytes within %d seconds;"
            " the batch was not stored, send it again after Retry-After."
            % (limits.report_events, limits.report_bytes, limits.report_window_s)
        )
        key = ("report", course, learner)
    context.refusals.remember(key, over.until, sentence, now)
    return too_many(_seconds_until(over.until, now), sentence)


# -- admin-token guesses --


def client_address(request: Request) -> str:
    address = request.environ.get("REMOTE_ADDR")
    if not isinstance(address, str) or not address:
        return UNKNOWN_ADDRESS
    return address[:MAX_ADDRESS_CHARS]


def guessing(request: Request, context: "Context", correct: bool) -> None:
    """Count an admin-token attempt: Refusal(429) while this address (or everyone) is locked out,
    whether or not `correct`; otherwise a wrong token is counted and the caller answers 401.
    503 when the database cannot count."""
    limits = context.settings.limits
    address = client_address(request)
    now = context.clock()
    try:
        if correct:
            lockout = context.store.guess_lockout(limits, address, now)
        else:
            lockout = context.store.count_wrong_guess(limits, address, now)
    except StoreUnavailable:
        raise Refusal(
            503, "The learner record is unavailable, so admin tokens cannot be checked now; try again shortly."
        ) from None
    if lockout is None:
        return
    until, scope = lockout
    who = "from your address" if scope == "address" else "from everywhere"
    raise too_many(
        _seconds_until(until, now),
        "Too many wrong admin tokens %s: every admin token, even the right one, is refused until"
        " Retry-After (about %d minutes)." % (who, max(1, _seconds_until(until, now) // 60)),
    )
