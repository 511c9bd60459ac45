"""Erase, export and purge a learner's record (GDPR Articles 15, 17 and 20, and retention).

Erasure removes every row that names the learner, in every course, in ONE transaction, and leaves
a tombstone (`erasures`: learner, erased_at). The tombstone is what keeps the learner erased:
evidence dated before `erased_at` that arrives later (a delayed webhook, a retried report, a
reconcile of an old tracking) is not applied (`erased_at(tx, learner)`, which every writer of
learner evidence asks inside its own transaction), and report tokens issued before it are refused.
Evidence dated after it (a new mint, a new session) starts a new record.

Webhook deliveries keep their delivery id (so Coassemble's redelivery of one is still answered as
a duplicate) and lose what names the learner: the learner column and the raw body.
"""

import json
from typing import Any

from coursewire.server.store.base import StorePart, Tx

# Tables whose rows are a learner's, keyed (course, learner, ...).
LEARNER_TABLES = ("reported_events", "quiz_answers", "quiz_screens", "records")
COASSEMBLE_ERASED = ("erased", "not found")  # Coassemble's answers that need no retry


def erased_at(tx: Tx, learner: str) -> "str | None":
    """When `learner` was erased (the stored time spelling), or None: inside any transaction."""
    row = tx.run("SELECT erased_at FROM erasures WHERE learner = ?", (learner,)).fetchone()
    return row[0] if row is not None else None


def _rows(tx: Tx, sql: str, params: tuple) -> list[tuple]:
    return [tuple(row) for row in tx.run(sql, params).fetchall()]


class ErasureStore(StorePart):
    """RecordStore's erase/export/purge operations (a mixin: needs `_transaction`)."""

    def erased_at(self, learner: str) -> "str | None":
        return self._transaction(lambda tx: erased_at(tx, learner), write=False)

    def erase_learner(self, learner: str, now_iso: str) -> "dict | None":
        """Remove every row of `learner` and record the tombstone, atomically. Returns
        {"removed": {table: n}, "erased_at": ..., "coassemble": state or None}, or None when
        nothing is held about the learner (no rows, no tombstone): an unknown learner."""

        def body(tx: Tx) -> Any:
            courses = sorted(
                set(row[0] for row in tx.run("SELECT course FROM records WHERE learner = ?", (learner,)).fetchall())
            )
            deliveries = tx.run("SELECT COUNT(*) FROM webhook_deliveries WHERE learner = ?", (learner,)).fetchone()[0]
            tombstone = tx.run("SELECT erased_at, coassemble FROM erasures WHERE learner = ?", (learner,)).fetchone()
            if not courses and not deliveries and tombstone is None:
                return None
            # Writers of a course are serialised by its row (record_store.py): take them in one
            # order, before any delete, as every other transaction takes its one course first.
            for course in courses:
                tx.run("UPDATE courses SET last_change = last_change + 1 WHERE course = ?", (course,))
            removed = {}
            for table in LEARNER_TABLES:
                removed[table] = sum(
                    tx.run("DELETE FROM %s WHERE course = ? AND learner = ?" % table, (course, learner)).rowcount
                    for course in courses
                )
            removed["webhook_deliveries"] = tx.run(
                "UPDATE webhook_deliveries SET learner = NULL, body = '' WHERE learner = ?", (learner,)
            ).rowcount
            # Bookkeeping that names the learner goes too: pending tracking checks, report counters.
            tx.run("DELETE FROM pending_checks WHERE learner = ?", (learner,))
            self.forget_report_counters(tx, learner)
            if tombstone is None:
                tx.run("INSERT INTO erasures (learner, erased_at, coassemble) VALUES (?, ?, NULL)", (learner, now_iso))
                when, coassemble = now_iso, None
            else:
                when, coassemble = tombstone  # erased before: the first time stands
            return {"removed": removed, "erased_at": when, "coassemble": coassemble}

        return self._transaction(body)

    def note_coassemble_erasure(self, learner: str, state: str) -> None:
        """Remember what Coassemble answered to erasing `learner` ("erased", "not found", "failed")."""
        self._transaction(lambda tx: tx.run("UPDATE erasures SET coassemble = ? WHERE learner = ?", (state, learner)))

    def pending_coassemble_erasures(self) -> "list[str]":
        """Learners erased here whom Coassemble has not yet confirmed erasing."""
        return self._transaction(
            lambda tx: sorted(
                row[0]
                for row in tx.run(
                    "SELECT learner FROM erasures WHERE coassemble IS NULL OR coassemble NOT IN (?, ?)",
                    COASSEMBLE_ERASED,
                ).fetchall()
            ),
            write=False,
        )

    def learner_export(self, learner: str) -> "dict | None":
        """Everything held about `learner`, from one snapshot, as JSON-able rows keyed by column
        name; None when nothing is (no rows, no tombstone)."""

        def body(tx: Tx) -> Any:
            tables: dict[str, list[dict[str, Any]]] = {}
            for table, key in (
                ("records", "course"),
                ("reported_events", "course, session, seq"),
                ("quiz_answers", "course, session, seq"),
                ("quiz_screens", "course, screen"),
            ):
                cursor = tx.run("SELECT * FROM %s WHERE learner = ? ORDER BY %s" % (table, key), (learner,))
                names = [column[0] for column in cursor.description]
                tables[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            cursor = tx.run(
                "SELECT * FROM webhook_deliveries WHERE learner = ? ORDER BY received_at, delivery", (learner,)
            )
            names = [column[0] for column in cursor.description]
            tables["webhook_deliveries"] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            row = tx.run("SELECT erased_at, coassemble FROM erasures WHERE learner = ?", (learner,)).fetchone()
            erasure = None if row is None else {"erased_at": row[0], "coassemble": row[1]}
            if erasure is None and not any(tables.values()):
                return None
            courses = sorted(set(r["course"] for r in tables["records"]))
            titles = {}
            for course in courses:
                found = tx.run("SELECT title, created_at FROM courses WHERE course = ?", (course,)).fetchone()
                titles[course] = {"title": found[0], "created_at": found[1]} if found else None
            return {"learner": learner, "courses": titles, "erasure": erasure, **tables}

        return self._transaction(body, write=False)

    def purge_reported(self, before_iso: str) -> "dict[str, int]":
        """Delete reported events (and the quiz answers they carried) that happened before
        `before_iso`. Records keep their fields, verified completions included; only the browser's
        raw evidence goes. Returns {"reported_events": n, "quiz_answers": n}."""

        def body(tx: Tx) -> Any:
            answers = tx.run("DELETE FROM quiz_answers WHERE answered_at < ?", (before_iso,)).rowcount
            events = tx.run("DELETE FROM reported_events WHERE occurred_at < ?", (before_iso,)).rowcount
            return {"reported_events": events, "quiz_answers": answers}

        return self._transaction(body)


def export_document(export: dict) -> dict:
    """The export as one JSON-able document: stored JSON columns shown parsed, not as strings."""

    def parsed(rows: list[dict], columns: tuple[str, ...]) -> list[dict]:
        out = []
        for row in rows:
            row = dict(row)
            for column in columns:
                if isinstance(row.get(column), str) and row[column]:
                    try:
                        row[column] = json.loads(row[column])
                    except ValueError:
                        pass  # kept as stored
            out.append(row)
        return out

    document = dict(export)
    document["reported_events"] = parsed(export["reported_events"], ("data",))
    document["quiz_answers"] = parsed(export["quiz_answers"], ("question", "answer", "score"))
    document["webhook_deliveries"] = parsed(export["webhook_deliveries"], ("body",))
    return document
