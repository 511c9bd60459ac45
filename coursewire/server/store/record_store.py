"""The learner record's storage interface, written once in the SQL both backends speak.

A backend (sqlite.py, postgres.py) supplies connections, how a transaction begins, its
placeholder style and which of its errors are transient; everything that must be atomic is one
call to `_transaction`, which commits before it returns. So a caller that answers 2xx after one
of these methods returns has the change durably stored, and one that sees an exception has
nothing half-written.

Writers of one course are serialised by the course row (`_bump_course` is the first write of
every transaction that changes a record): that keeps read-modify-write of a record safe under
PostgreSQL's READ COMMITTED, makes `courses.last_change` grow in commit order (so a poller's
cursor never skips a change), and gives every transaction the same lock order (no deadlocks).
"""

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from coursewire.server import evidence
from coursewire.server.store.base import Tx
from coursewire.server.store.erasure import ErasureStore, erased_at
from coursewire.server.store.errors import StoreError, StoreUnavailable
from coursewire.server.store.limits import LimitCounters
from coursewire.server.store.migrations import LATEST_VERSION, TABLES, SchemaTooNew, migrate
from coursewire.server.store.paging import PagingStore
from coursewire.server.store.pool import ConnectionPool
from coursewire.server.store.reconcile import ReconcileStore
from coursewire.server.times import iso

Record = dict[str, Any]  # one row of `records`, by column name

RECORD_COLUMNS = (
    "course",
    "learner",
    "progress",
    "reported_started_at",
    "reported_completed_at",
    "verified_commenced_at",
    "verified_completed_at",
    "last_event_at",
    "reported_events",
    "verified_score",
    "verified_passed",
    "verified_progress",
)
REPORT_TOKEN_SECRET = "report_token"
TRANSACTION_ATTEMPTS = 3  # a PostgreSQL deadlock or serialisation failure is retried this often


class _Rollback:
    """A transaction body's answer when it changed nothing worth keeping (a duplicate)."""

    def __init__(self, value: Any) -> None:
        self.value = value


class RecordStore(ReconcileStore, ErasureStore, LimitCounters, PagingStore):
    """One (course, learner) record per learner, the evidence behind it, and the deliveries and
    reports it came from. Thread-safe; one instance per process."""

    backend: str | None = None  # "sqlite" or "postgres"
    POOL_SIZE = 8

    def __init__(self) -> None:
        self._pool = ConnectionPool(self._connect, self.POOL_SIZE)
        self._token_secret: str | None = None

    # -- what a backend supplies --

    def _connect(self) -> Any:
        raise NotImplementedError

    def _begin(self, conn: Any, write: bool) -> None:
        raise NotImplementedError

    def _translate(self, sql: str) -> str:
        return sql

    def _lock_migrations(self, tx: Tx) -> None:
        """Inside a write transaction: wait until no other process is migrating."""

    def _classify(self, error: BaseException) -> str | None:
        """'retry' (run the transaction again), 'unavailable' (503), or None (a bug: 500)."""
        return None

    def _reusable(self, conn: Any) -> bool:
        return True

    def describe(self) -> str:
        """Where the data lives, for a start-up line (never a password)."""
        raise NotImplementedError

    # -- transactions --

    def _transaction(self, body: Callable[[Tx], Any], write: bool = True) -> Any:
        """Run body(tx) in one transaction and commit; returns what body returned. A body that
        returns _Rollback(value) is rolled back and `value` returned."""
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                conn = self._pool.acquire()
            except StoreUnavailable:
                raise
            except Exception as error:
                if self._classify(error) is None:
                    raise
                raise StoreUnavailable(
                    "The learner record's database cannot be reached (%s)." % _first_line(error)
                ) from error
            reuse = True
            try:
                self._begin(conn, write)
                result = body(Tx(conn, self._translate))
                if isinstance(result, _Rollback):
                    conn.execute("ROLLBACK")
                    return result.value
                conn.execute("COMMIT")
                return result
            except Exception as error:
                reuse = self._rollback(conn)
                failure = self._classify(error)
                if failure == "retry" and attempt + 1 < TRANSACTION_ATTEMPTS:
                    continue
                if failure in ("retry", "unavailable"):
                    raise StoreUnavailable(
                        "The learner record's database is unavailable (%s)." % _first_line(error)
                    ) from error
                raise
            finally:
                self._pool.release(conn, reuse and self._reusable(conn))

    def _rollback(self, conn: Any) -> bool:
        try:
            conn.execute("ROLLBACK")
            return True
        except Exception:
            return False  # the connection is gone or confused: do not hand it out again

    def open(self) -> list[int]:
        """Bring the schema up to date (safe when several processes start at once)."""

        def body(tx: Tx) -> list[int]:
            self._lock_migrations(tx)
            return migrate(tx, iso(time.time()), self.backend)

        try:
            return self._transaction(body)
        except SchemaTooNew as error:
            raise StoreError(str(error)) from error

    def close(self) -> None:
        self._pool.close()

    # -- the interface --

    def schema_version(self) -> int:
        return self._transaction(
            lambda tx: tx.run("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0, write=False
        )

    def token_secret(self) -> str:
        """The report-token secret this database keeps, generated on first use (so tokens stay
        valid across restarts and across the processes sharing the database)."""
        if self._token_secret is None:
            import secrets

            candidate = secrets.token_hex(32)

            def body(tx: Tx) -> str:
                tx.run(
                    "INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    (REPORT_TOKEN_SECRET, candidate),
                )
                return tx.run("SELECT value FROM server_secrets WHERE name = ?", (REPORT_TOKEN_SECRET,)).fetchone()[0]

            self._token_secret = self._transaction(body)
        return self._token_secret

    def record_delivery(self, delivery: evidence.VerifiedDelivery) -> str:
        """Store a verified webhook delivery and apply it, atomically. Returns "applied",
        "ignored" (an unknown type: stored, not applied), "erased" (about an erased learner's
        time before the erasure: stored without the learner and body, not applied) or
        "duplicate" (seen before: nothing changes)."""

        def body(tx: Tx) -> Any:
            learner: str | None = delivery.learner
            outcome, raw = "applied" if delivery.applies else "ignored", delivery.body
            erased = erased_at(tx, learner) if learner is not None else None
            if erased is not None and delivery.occurred_at < erased:
                # About the time before an erasure (a late delivery or a retry): kept as seen,
                # without what names the learner, and not applied (store/erasure.py).
                outcome, learner, raw = "erased", None, ""
            inserted = tx.run(
                "INSERT INTO webhook_deliveries (delivery, event_type, outcome, course, learner, occurred_at,"
                " signed_at, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (delivery) DO NOTHING",
                (
                    delivery.delivery,
                    delivery.event_type,
                    outcome,
                    delivery.course,
                    learner,
                    delivery.occurred_at,
                    delivery.signed_at,
                    delivery.received_at,
                    raw,
                ),
            ).rowcount
            if inserted != 1:
                return _Rollback("duplicate")
            if outcome in ("ignored", "erased"):
                return outcome
            assert delivery.course is not None  # every applied delivery names its course (webhooks.py)
            change = self._bump_course(tx, delivery.course)
            if delivery.course_title is not None:
                tx.run("UPDATE courses SET title = ? WHERE course = ?", (delivery.course_title, delivery.course))
            if delivery.event_type == "course.created":
                tx.run(
                    "UPDATE courses SET created_at = ? WHERE course = ? AND (created_at IS NULL OR created_at > ?)",
                    (delivery.occurred_at, delivery.course, delivery.occurred_at),
                )
            else:
                assert delivery.learner is not None  # a learner event names its learner (webhooks.py)
                record = self._load_record(tx, delivery.course, delivery.learner)
                evidence.apply_verified(record, delivery.event_type, delivery.occurred_at)
                self._save_record(tx, record, change)
            return outcome

        return self._transaction(body)

    def record_events(
        self,
        course: str,
        learner: str,
        session: str,
        events: Iterable[evidence.ReportedEvent],
        received_at: str,
        refused: list | None = None,
        charge: Callable[[Tx], None] | None = None,
    ) -> tuple[int, int]:
        """Apply a batch of browser events (evidence.ReportedEvent) for one record, each at most
        once per (session, seq), atomically. Returns (applied, duplicates). An event the record
        cannot hold (evidence.unstorable) is left out and, when `refused` is a list, appended
        to it as (seq, sentence); the rest of the batch is applied. `charge(tx)` (the bounds,
        store/limits.py) runs first in the same transaction; what it raises rolls the batch back."""

        def body(tx: Tx) -> Any:
            if charge is not None:
                charge(tx)
            change = self._bump_course(tx, course)
            record = self._load_record(tx, course, learner)
            screens = self._load_screens(tx, course, learner)
            applied = duplicates = 0
            completion_reported = False
            del refusals[:]  # a retried transaction starts over
            erased = erased_at(tx, learner)
            for event in sorted(events, key=lambda e: e.seq):
                why = evidence.unstorable(screens, event)
                if why is None and erased is not None and event.time < erased:
                    why = "time is before the learner's record was erased, so it is not stored."
                if why is not None:
                    if self._has_event(tx, course, learner, session, event.seq):
                        duplicates += 1  # stored before, when it could be: still a duplicate
                    else:
                        refusals.append((event.seq, why))
                    continue
                inserted = tx.run(
                    "INSERT INTO reported_events (course, learner, session, seq, name, data, occurred_at, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (course, learner, session, seq) DO NOTHING",
                    (course, learner, session, event.seq, event.name, _json(event.data), event.time, received_at),
                ).rowcount
                if inserted != 1:
                    duplicates += 1
                    continue
                applied += 1
                completion_reported = completion_reported or event.name == "course:completed"
                entry = evidence.apply_reported(record, screens, event)
                if entry is not None:
                    tx.run(
                        "INSERT INTO quiz_answers (course, learner, session, seq, event, screen, title, question,"
                        " answer, correct, score, attempt, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            course,
                            learner,
                            session,
                            entry["seq"],
                            entry["event"],
                            entry["screen"],
                            entry["title"],
                            _json(entry["question"]),
                            _json(entry["answer"]),
                            None if entry["correct"] is None else int(entry["correct"]),
                            None if entry["score"] is None else _json(entry["score"]),
                            entry["attempt"],
                            entry["time"],
                        ),
                    )
            if not applied:
                return _Rollback((0, duplicates))  # nothing new: not even the cursor moves
            self._save_screens(tx, course, learner, screens)
            self._save_record(tx, record, change)
            if completion_reported and record["verified_completed_at"] is None:
                self._enqueue_check(tx, course, learner, received_at)  # ask Coassemble soon (store/reconcile.py)
            return applied, duplicates

        refusals: list[tuple[int, str]] = []
        result = self._transaction(body)
        if refused is not None:
            refused.extend(refusals)
        return result

    def course_records(self, course: str, since: int = 0) -> dict[str, Any]:
        """{"course", "title", "cursor", "records"}: the records of `course` changed after the
        cursor `since` (0: all), read from one snapshot, learners in code-point order. Poll with
        the returned cursor to get only what changed since."""

        def body(tx: Tx) -> dict[str, Any]:
            row = tx.run("SELECT title, last_change FROM courses WHERE course = ?", (course,)).fetchone()
            if row is None:
                return {"course": course, "title": None, "cursor": 0, "records": []}
            title, cursor = row
            rows = tx.run(
                "SELECT %s, changed FROM records WHERE course = ? AND changed > ?" % ", ".join(RECORD_COLUMNS),
                (course, since),
            ).fetchall()
            answers = tx.run(
                "SELECT learner, session, seq, event, screen, title, question, answer, correct, score, attempt,"
                " answered_at FROM quiz_answers WHERE course = ? AND learner IN"
                " (SELECT learner FROM records WHERE course = ? AND changed > ?)",
                (course, course, since),
            ).fetchall()
            return {"course": course, "title": title, "cursor": cursor, "records": _records_json(rows, answers)}

        return self._transaction(body, write=False)

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table, sorted: two equal dumps mean two equal databases."""

        def body(tx: Tx) -> dict[str, list[tuple]]:
            return {
                table: sorted((tuple(row) for row in tx.run("SELECT * FROM %s" % table).fetchall()), key=repr)
                for table in TABLES
            }

        return self._transaction(body, write=False)

    # -- rows --

    def _bump_course(self, tx: Tx, course: str) -> int:
        return tx.run(
            "INSERT INTO courses (course, last_change) VALUES (?, 1) ON CONFLICT (course)"
            " DO UPDATE SET last_change = courses.last_change + 1 RETURNING last_change",
            (course,),
        ).fetchone()[0]

    def _has_event(self, tx: Tx, course: str, learner: str, session: str, seq: int) -> bool:
        return (
            tx.run(
                "SELECT 1 FROM reported_events WHERE course = ? AND learner = ? AND session = ? AND seq = ?",
                (course, learner, session, seq),
            ).fetchone()
            is not None
        )

    def _load_record(self, tx: Tx, course: str, learner: str) -> Record:
        row = tx.run(
            "SELECT %s FROM records WHERE course = ? AND learner = ?" % ", ".join(RECORD_COLUMNS), (course, learner)
        ).fetchone()
        return dict(zip(RECORD_COLUMNS, row, strict=True)) if row is not None else evidence.new_record(course, learner)

    def _save_record(self, tx: Tx, record: Record, change: int) -> None:
        names = RECORD_COLUMNS + ("changed",)
        values = tuple(record[name] for name in RECORD_COLUMNS) + (change,)
        updates = ", ".join("%s = excluded.%s" % (name, name) for name in names[2:])
        tx.run(
            "INSERT INTO records (%s) VALUES (%s) ON CONFLICT (course, learner) DO UPDATE SET %s"
            % (", ".join(names), ", ".join("?" * len(names)), updates),
            values,
        )

    def _load_screens(self, tx: Tx, course: str, learner: str) -> dict[str, dict[str, Any]]:
        rows = tx.run(
            "SELECT screen, title, attempt FROM quiz_screens WHERE course = ? AND learner = ?", (course, learner)
        ).fetchall()
        return {screen: {"title": title, "attempt": attempt, "changed": False} for screen, title, attempt in rows}

    def _save_screens(self, tx: Tx, course: str, learner: str, screens: dict[str, dict[str, Any]]) -> None:
        for screen, state in screens.items():
            if state["changed"]:
                tx.run(
                    "INSERT INTO quiz_screens (course, learner, screen, title, attempt) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (course, learner, screen) DO UPDATE SET title = excluded.title,"
                    " attempt = excluded.attempt",
                    (course, learner, screen, state["title"], state["attempt"]),
                )


def _json(value: Any) -> str:
    # ASCII-only JSON: any character (even NUL, which PostgreSQL text cannot hold) survives.
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def answer_entry(row: tuple) -> dict[str, Any]:
    """The records API's shape of one quiz_answers row (learner, session, seq, event, screen, title,
    question, answer, correct, score, attempt, answered_at): inline in a record and in the answers route."""
    _, _, _, event, screen, title, question, answer, correct, score, attempt, answered_at = row
    return {
        "event": event,
        "screen": screen,
        "title": title,
        "question": json.loads(question),
        "answer": json.loads(answer),
        "correct": None if correct is None else bool(correct),
        "score": None if score is None else json.loads(score),
        "attempt": attempt,
        "time": answered_at,
    }


def _records_json(rows: list, answers: list) -> list[dict[str, Any]]:
    by_learner: dict[str, list[tuple]] = {}
    for row in answers:
        learner, session, seq, answered_at = row[0], row[1], row[2], row[-1]
        by_learner.setdefault(learner, []).append((answered_at, session, seq, answer_entry(row)))
    records = []
    for row in rows:
        record = dict(zip(RECORD_COLUMNS + ("changed",), row, strict=True))
        learner = record["learner"]
        entries = sorted(by_learner.get(learner, ()), key=lambda item: item[:3])
        records.append(
            {
                "learner": learner,
                "progress": record["progress"],
                "status": evidence.status(record),
                "answers": [entry for _, _, _, entry in entries],
                "reported_started_at": record["reported_started_at"],
                "reported_completed_at": record["reported_completed_at"],
                "verified_commenced_at": record["verified_commenced_at"],
                "verified_completed_at": record["verified_completed_at"],
                "last_event_at": record["last_event_at"],
                "reported_events": record["reported_events"],
                "verified_score": None if record["verified_score"] is None else json.loads(record["verified_score"]),
                "verified_passed": None if record["verified_passed"] is None else bool(record["verified_passed"]),
                "verified_progress": record["verified_progress"],
                "changed": record["changed"],
            }
        )
    records.sort(key=lambda r: r["learner"])
    return records


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


__all__ = ["RecordStore", "LATEST_VERSION", "StoreError", "StoreUnavailable"]
