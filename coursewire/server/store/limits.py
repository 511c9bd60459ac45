"""The bounds' counters (coursewire/server/limits.py says what they bound and why), in the
database so that every server process counts together.

    report_windows   (course, learner, window_start): events and bytes of a learner's batches in
                     one fixed window; older windows of that learner are deleted as a new one opens
    report_sessions  (course, learner, session): events and bytes of a page session, its life long
    guess_windows    (client, window_start): wrong admin tokens from an address ("*": everyone)

A report is charged inside its batch's own transaction (record_events(charge=...)): an upsert
that adds the batch and returns the new totals, so concurrent batches of one learner count
exactly, and a refusal (OverLimit) rolls the whole batch back. `window_start` is Unix seconds.
"""

from typing import TYPE_CHECKING

from coursewire.server.store.base import StorePart, Tx
from coursewire.server.times import iso

OVERALL = "*"


if TYPE_CHECKING:
    from coursewire.server.limits import Limits


class OverLimit(Exception):
    """A batch past a cap: `scope` "learner" or "session", refused until the Unix time `until`."""

    def __init__(self, scope: str, until: float) -> None:
        Exception.__init__(self, "%s over its limit" % scope)
        self.scope = scope
        self.until = until


def window_start(now: float, length_s: int) -> int:
    return int(now // length_s) * length_s


class LimitCounters(StorePart):
    """RecordStore's counters for the bounds (mixed into RecordStore)."""

    def charge_report(
        self, tx: Tx, limits: "Limits", course: str, learner: str, session: str, events: int, size: int, now: float
    ) -> None:
        """Inside a batch's transaction: add it to its learner's window and its session's total;
        OverLimit when the counts before it had reached a cap."""
        start = window_start(now, limits.report_window_s)
        total_events, total_bytes = tx.run(
            "INSERT INTO report_windows (course, learner, window_start, events, bytes) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (course, learner, window_start) DO UPDATE SET events = report_windows.events + excluded.events,"
            " bytes = report_windows.bytes + excluded.bytes RETURNING events, bytes",
            (course, learner, start, events, size),
        ).fetchone()
        if total_events - events >= limits.report_events or total_bytes - size >= limits.report_bytes:
            raise OverLimit("learner", start + limits.report_window_s)
        if (total_events, total_bytes) == (events, size):  # (most likely) a new window: drop the old ones
            tx.run(
                "DELETE FROM report_windows WHERE course = ? AND learner = ? AND window_start < ?",
                (course, learner, start),
            )
        total_events, total_bytes = tx.run(
            "INSERT INTO report_sessions (course, learner, session, events, bytes, last_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (course, learner, session) DO UPDATE SET events = report_sessions.events + excluded.events,"
            " bytes = report_sessions.bytes + excluded.bytes, last_at = excluded.last_at RETURNING events, bytes",
            (course, learner, session, events, size, iso(now)),
        ).fetchone()
        if total_events - events >= limits.session_events or total_bytes - size >= limits.session_bytes:
            raise OverLimit("session", now + limits.session_retry_after_s)

    def guess_lockout(self, limits: "Limits", address: str, now: float) -> "tuple[int, str] | None":
        """(until, "address" | "overall") while wrong admin tokens lock `address` out, else None."""
        return self._transaction(lambda tx: self._lockout(tx, limits, address, now), write=False)

    def count_wrong_guess(self, limits: "Limits", address: str, now: float) -> "tuple[int, str] | None":
        """A wrong admin token from `address`: the lockout it meets (nothing counted then, so one
        locked-out address cannot lock everyone out), or None after counting it."""
        start = window_start(now, limits.guess_window_s)

        def body(tx: Tx) -> "tuple[int, str] | None":
            lockout = self._lockout(tx, limits, address, now)
            if lockout is not None:
                return lockout
            for client in (address, OVERALL):
                failures = tx.run(
                    "INSERT INTO guess_windows (client, window_start, failures) VALUES (?, ?, 1)"
                    " ON CONFLICT (client, window_start) DO UPDATE SET failures = guess_windows.failures + 1"
                    " RETURNING failures",
                    (client, start),
                ).fetchone()[0]
                if client == OVERALL and failures == 1:  # a new window: forget the old ones
                    tx.run("DELETE FROM guess_windows WHERE window_start < ?", (start,))
            return None

        return self._transaction(body)

    def _lockout(self, tx: Tx, limits: "Limits", address: str, now: float) -> "tuple[int, str] | None":
        start = window_start(now, limits.guess_window_s)
        counts = dict(
            tx.run(
                "SELECT client, failures FROM guess_windows WHERE window_start = ? AND client IN (?, ?)",
                (start, address, OVERALL),
            ).fetchall()
        )
        until = start + limits.guess_window_s
        if counts.get(address, 0) >= limits.guesses_per_address:
            return until, "address"
        if counts.get(OVERALL, 0) >= limits.guesses_overall:
            return until, "overall"
        return None

    # -- for erasure and retention (coursewire/server/store/erasure.py, the purge) --

    def forget_report_counters(self, tx: Tx, learner: str) -> int:
        """Inside an erasure's transaction: remove the learner's report counters (they name the
        learner). Returns the rows removed."""
        removed = 0
        for table in ("report_windows", "report_sessions"):
            removed += tx.run("DELETE FROM %s WHERE learner = ?" % table, (learner,)).rowcount
        return removed

    def purge_report_counters(self, now: float, limits: "Limits") -> int:
        """Remove windows that have ended and sessions silent for longer than a report token lives
        (their pages cannot report any more without a fresh token, and a fresh page is a fresh
        session). Returns the rows removed."""
        from coursewire.server.tokens import REPORT_TOKEN_TTL_S

        def body(tx: Tx) -> int:
            removed = tx.run(
                "DELETE FROM report_windows WHERE window_start < ?", (window_start(now, limits.report_window_s),)
            ).rowcount
            removed += tx.run(
                "DELETE FROM report_sessions WHERE last_at < ?", (iso(now - REPORT_TOKEN_TTL_S),)
            ).rowcount
            return removed

        return self._transaction(body)
