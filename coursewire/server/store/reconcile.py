"""What reconciling with Coassemble's trackings stores: the one way a tracking changes a record
(`apply_tracking`), the pending checks a reported completion asks for, and periodic jobs.

A RecordStore mixin (record_store.RecordStore has it among its bases). Checks and jobs are
claimed in the database, never kept in a process: a claim is a lease (`claimed_until`), taken
with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL and inside the write lock BEGIN IMMEDIATE
takes on SQLite, so two processes never hold the same check, and a killed process's checks are
taken by another once its lease runs out. Finishing is guarded by the claim token, so a process
that lost its lease (too slow) changes nothing.
"""

import secrets
from typing import TYPE_CHECKING, Any

from coursewire.server import evidence
from coursewire.server.store.base import StorePart, Tx
from coursewire.server.store.erasure import erased_at
from coursewire.server.times import iso, parse_iso

CHECK_DELAY_S = 60  # Coassemble may record a completion a moment after the page saw it
DONE_CHECKS_KEPT_S = 30 * 86400  # finished checks stay this long (what was asked, and its outcome)


if TYPE_CHECKING:
    from coursewire.server.trackings import Tracking


class ReconcileStore(StorePart):
    check_delay_s = CHECK_DELAY_S  # an instance may change it (tests ask at once)

    def _for_update(self, skip_locked: bool = False) -> str:
        # SQLite's BEGIN IMMEDIATE already holds the only write lock; PostgreSQL locks rows.
        if self.backend != "postgres":
            return ""
        return " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"

    # -- trackings --

    def apply_tracking(self, course: str, trackings: list, check: dict | None = None) -> list:
        """Bring the records of `course` in line with Coassemble's trackings (a page of
        trackings.Tracking), in one transaction. Returns one outcome per tracking: "new" (a
        completion newly verified), "changed", "unchanged" or "erased" (a learner erased here
        after everything this tracking says happened: not applied); when nothing changed nothing is
        written, not even the course's cursor. With `check` {"learner", "claim", "now",
        "retry_at"} (that learner's trackings: a pending check's answer) the check is finished in
        the same transaction: done when the record is verified (or retry_at is None), else due
        again at retry_at; if the claim is no longer ours nothing is written and the answer is
        ["lost"]. The one place a tracking reaches the record (so the one place to refuse one)."""
        from coursewire.server.store.record_store import _json, _Rollback

        def body(tx: Tx) -> Any:
            # The course row first, as every record writer does (lock order, see record_store); a
            # course not seen before gets its row (and lock) now; rolled back if nothing changes.
            known = tx.run(
                "SELECT last_change FROM courses WHERE course = ?" + self._for_update(), (course,)
            ).fetchone()
            change = None if known is not None else self._bump_course(tx, course)
            outcomes: list[str] = []
            records: dict[str, dict[str, Any]] = {}
            changed: dict[str, bool] = {}  # changed: an ordered set of learners
            for tracking in trackings:
                learner = tracking.identifier  # a learner twice in a page (a retake): one record
                if _before_erasure(tx, learner, tracking):
                    outcomes.append("erased")  # what Coassemble still holds must not bring them back
                    continue
                record = records.get(learner) or records.setdefault(learner, self._load_record(tx, course, learner))
                score_text = None if tracking.score is None else _json(tracking.score)
                outcome = evidence.apply_tracking(record, tracking, score_text)
                outcomes.append(outcome)
                if outcome != "unchanged":
                    changed[learner] = True
            if changed:
                change = change or self._bump_course(tx, course)
                for learner in changed:
                    self._save_record(tx, records[learner], change)
            if check is not None:
                learner = check["learner"]
                verified = self._load_record(tx, course, learner)["verified_completed_at"] is not None
                if not self._finish_check(
                    tx,
                    course,
                    learner,
                    check["claim"],
                    check["now"],
                    None if verified else check.get("retry_at"),
                    "verified" if verified else "not completed",
                ):
                    return _Rollback(["lost"])
                return outcomes
            return outcomes if changed else _Rollback(outcomes)  # the new course row too

        return self._transaction(body)

    def known_courses(self) -> list:
        """Every course the record has heard of, sorted."""
        return [
            row[0]
            for row in self._transaction(
                lambda tx: tx.run("SELECT course FROM courses ORDER BY course").fetchall(), write=False
            )
        ]

    # -- pending checks --

    def _enqueue_check(self, tx: Tx, course: str, learner: str, now_iso: str) -> None:
        """Inside a record writer's transaction: ask for this learner's tracking soon (once: a
        check already pending stays as it is; a finished one is opened again)."""
        due = iso(parse_iso(now_iso) + self.check_delay_s)
        tx.run(
            "INSERT INTO pending_checks (course, learner, due_at, attempts, created_at) VALUES (?, ?, ?, 0, ?)"
            " ON CONFLICT (course, learner) DO UPDATE SET due_at = excluded.due_at, attempts = 0,"
            " claim = NULL, claimed_until = NULL, done_at = NULL, outcome = NULL, created_at = excluded.created_at"
            " WHERE pending_checks.done_at IS NOT NULL",
            (course, learner, due, now_iso),
        )

    def claim_check(self, now_iso: str, lease_s: float) -> tuple[str, str, int, str] | None:
        """Claim the oldest due check no live process holds: (course, learner, attempt, claim)
        or None. A check whose record is already verified is finished on the way, unasked."""

        def body(tx: Tx) -> Any:
            tx.run(
                "UPDATE pending_checks SET done_at = ?, outcome = 'verified', claim = NULL, claimed_until = NULL"
                " WHERE done_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ?) AND EXISTS"
                " (SELECT 1 FROM records WHERE records.course = pending_checks.course"
                " AND records.learner = pending_checks.learner AND records.verified_completed_at IS NOT NULL)",
                (now_iso, now_iso),
            )
            row = tx.run(
                "SELECT course, learner, attempts FROM pending_checks WHERE done_at IS NULL AND due_at <= ?"
                " AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY due_at, course, learner"
                " LIMIT 1" + self._for_update(skip_locked=True),
                (now_iso, now_iso),
            ).fetchone()
            if row is None:
                return None
            course, learner, attempts = row
            claim = secrets.token_hex(12)
            tx.run(
                "UPDATE pending_checks SET claim = ?, claimed_until = ?, attempts = ? WHERE course = ? AND learner = ?",
                (claim, iso(parse_iso(now_iso) + lease_s), attempts + 1, course, learner),
            )
            return course, learner, attempts + 1, claim

        return self._transaction(body)

    def finish_check(
        self, course: str, learner: str, claim: str, now_iso: str, retry_at: str | None, outcome: str
    ) -> bool:
        """Finish a claimed check without a tracking to apply: done (retry_at None) or due again
        at retry_at. False when the claim was no longer ours (nothing changed)."""
        return self._transaction(lambda tx: self._finish_check(tx, course, learner, claim, now_iso, retry_at, outcome))

    def _finish_check(
        self, tx: Tx, course: str, learner: str, claim: str, now_iso: str, retry_at: str | None, outcome: str
    ) -> bool:
        if retry_at is None:
            sql = (
                "UPDATE pending_checks SET done_at = ?, outcome = ?, claim = NULL, claimed_until = NULL"
                " WHERE course = ? AND learner = ? AND claim = ? AND done_at IS NULL"
            )
            params = (now_iso, outcome, course, learner, claim)
        else:
            sql = (
                "UPDATE pending_checks SET due_at = ?, outcome = ?, claim = NULL, claimed_until = NULL"
                " WHERE course = ? AND learner = ? AND claim = ? AND done_at IS NULL"
            )
            params = (retry_at, outcome, course, learner, claim)
        return tx.run(sql, params).rowcount == 1

    def pending_checks(self) -> list:
        """Every check, finished or not: [{"course", "learner", "due_at", "attempts", "claimed_until",
        "done_at", "outcome"}] (for `coursewire worker --status` and tests)."""
        names = ("course", "learner", "due_at", "attempts", "claimed_until", "done_at", "outcome")
        rows = self._transaction(
            lambda tx: tx.run("SELECT %s FROM pending_checks ORDER BY course, learner" % ", ".join(names)).fetchall(),
            write=False,
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    def forget_done_checks(self, now_iso: str) -> int:
        """Remove checks finished more than DONE_CHECKS_KEPT_S ago; returns how many."""
        before = iso(parse_iso(now_iso) - DONE_CHECKS_KEPT_S)
        return self._transaction(
            lambda tx: (
                tx.run("DELETE FROM pending_checks WHERE done_at IS NOT NULL AND done_at < ?", (before,)).rowcount
            )
        )

    # -- periodic jobs --

    def claim_job(self, job: str, now_iso: str, lease_s: float, force: bool = False) -> tuple[str, str | None] | None:
        """Claim `job` when it is due (or `force`: now, as a timer asks) and no live process runs
        it: (claim, last_run_at) or None. A job never seen is due at once."""
        from coursewire.server.store.record_store import _Rollback

        def body(tx: Tx) -> Any:
            tx.run("INSERT INTO periodic_jobs (job, due_at) VALUES (?, ?) ON CONFLICT (job) DO NOTHING", (job, now_iso))
            row = tx.run(
                "SELECT last_run_at FROM periodic_jobs WHERE job = ? AND (due_at <= ? OR ?)"
                " AND (claimed_until IS NULL OR claimed_until <= ?)" + self._for_update(skip_locked=True),
                (job, now_iso, bool(force), now_iso),
            ).fetchone()
            if row is None:
                return _Rollback(None)
            claim = secrets.token_hex(12)
            tx.run(
                "UPDATE periodic_jobs SET claim = ?, claimed_until = ? WHERE job = ?",
                (claim, iso(parse_iso(now_iso) + lease_s), job),
            )
            return claim, row[0]

        return self._transaction(body)

    def finish_job(self, job: str, claim: str, started_iso: str, next_due_iso: str, outcome: str) -> bool:
        """Record a run of `job` (started at started_iso) and when it is next due."""
        return self._transaction(
            lambda tx: (
                tx.run(
                    "UPDATE periodic_jobs SET claim = NULL, claimed_until = NULL, due_at = ?, last_run_at = ?, last_outcome = ?"
                    " WHERE job = ? AND claim = ?",
                    (next_due_iso, started_iso, outcome[:500], job, claim),
                ).rowcount
                == 1
            )
        )


def _before_erasure(tx: Tx, learner: str, tracking: "Tracking") -> bool:
    """Whether `learner` was erased after everything `tracking` tells (or it tells no time): a
    tracking Coassemble kept, e.g. when its DELETE user failed, must not recreate the record;
    activity after the erasure (a new mint) does."""
    erased = erased_at(tx, learner)
    if erased is None:
        return False
    latest = max([t for t in (tracking.commenced, tracking.completed) if t is not None], default=None)
    return latest is None or latest < erased
