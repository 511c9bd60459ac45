"""Paged reads of one course's records (keyset by learner id), a record's answers page by page, and
the course's summary counted in SQL: what the records API and the report page read at any size.

Pages are keyset pages: each page is the next `limit` learners after the last one of the page
before, in code-point order (SQLite's BINARY collation; PostgreSQL's "C", whatever the database's
own collation), so every learner appears exactly once across the pages however the records change
between them. A page token carries the first page's snapshot cursor: a reader that pages to the end
and then polls with `since=<that cursor>` sees every change made while it paged.
"""

import base64
import binascii
import json
from typing import Any

from coursewire.core import roster
from coursewire.core.vocabulary import STATUSES, is_int
from coursewire.server import evidence
from coursewire.server.store.base import StorePart, Tx

MAX_PAGE_LIMIT = 1000
DEFAULT_PAGE_LIMIT = 100
INLINE_ANSWERS = 50  # a record carries its newest answers; GET /api/records/answers has the rest
MAX_TOKEN_CHARS = 6000  # a learner id is at most 256 characters; its JSON escapes fit many times over
MAX_CURSOR = 10**18
ANSWER_COLUMNS = (
    "learner",
    "session",
    "seq",
    "event",
    "screen",
    "title",
    "question",
    "answer",
    "correct",
    "score",
    "attempt",
    "answered_at",
)

# The status and the progress band of a record, in SQL, as evidence.status and roster.BANDS decide
# them in Python (tests compare the two); a verified completion is in the 100 % band whatever the
# browser reported.
STATUS_SQL = (
    "CASE WHEN verified_completed_at IS NOT NULL THEN '%s'"
    " WHEN reported_completed_at IS NOT NULL THEN '%s'"
    " WHEN progress > 0 OR reported_started_at IS NOT NULL OR verified_commenced_at IS NOT NULL THEN '%s'"
    " ELSE '%s' END"
    % (evidence.COMPLETED_VERIFIED, evidence.COMPLETED_REPORTED, evidence.IN_PROGRESS, evidence.NOT_STARTED)
)
# The band of the progress a row shows (core/roster.progress_evidence): a verified completion is
# 100 %, then Coassemble's verified progress when known, else the browser's reported progress.
_SHOWN_PROGRESS = "COALESCE(verified_progress, progress)"
BAND_SQL = "CASE WHEN verified_completed_at IS NOT NULL OR %s >= 100 THEN 10 WHEN %s <= 0 THEN 0 ELSE %s / 10 END" % (
    (_SHOWN_PROGRESS,) * 3
)


class BadPageToken(ValueError):
    """A page token this server did not make for this query (one sentence)."""


def encode_token(fields: list) -> str:
    text = json.dumps(fields, separators=(",", ":"))  # ASCII-only: any learner id survives
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode_token(token: str, kind: str, length: int) -> list:
    """The fields of a token of `kind` with `length` fields; BadPageToken otherwise."""
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise BadPageToken("page must be a next_page token from an earlier answer.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        fields = json.loads(raw.decode("ascii"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise BadPageToken("page must be a next_page token from an earlier answer.") from None
    if not isinstance(fields, list) or len(fields) != length or fields[0] != kind:
        raise BadPageToken("page must be a next_page token from an earlier answer.")
    return fields


def _whole(value: Any, low: int = 0, high: int = MAX_CURSOR) -> bool:
    return is_int(value) and low <= value <= high


class PagingStore(StorePart):
    """Mixin of RecordStore: records_page, record_answers, course_summary."""

    def _code_points(self) -> str:
        # PostgreSQL compares text in the database's collation (en_US sorts "B" after "a"); "C"
        # compares code points, as SQLite's BINARY and Python do. Migration 5 indexes it.
        return ' COLLATE "C"' if self.backend == "postgres" else ""

    def records_page(
        self, course: str, since: int = 0, limit: int = DEFAULT_PAGE_LIMIT, page: "str | None" = None
    ) -> dict:
        """{"course", "title", "cursor", "records", "next_page"}: at most `limit` records of
        `course` changed after `since`, learners in code-point order after the page token's.
        BadPageToken for a token made for another course or another `since`."""
        after, snapshot = "", None
        if page is not None:
            _, token_course, token_since, snapshot, after = decode_token(page, "r1", 5)
            if (
                token_course != course
                or not _whole(token_since)
                or not _whole(snapshot)
                or not isinstance(after, str)
                or not after
            ):
                raise BadPageToken("page must be a next_page token from an earlier answer.")
            if token_since != since:
                raise BadPageToken("page belongs to another since=: send the same since as the first page.")
        collate = self._code_points()
        columns = self._record_columns()

        def body(tx: Tx) -> Any:
            row = tx.run("SELECT title, last_change FROM courses WHERE course = ?", (course,)).fetchone()
            if row is None:
                return {"course": course, "title": None, "cursor": snapshot or 0, "records": [], "next_page": None}
            title, cursor = row
            rows = tx.run(
                "SELECT %s, changed FROM records WHERE course = ? AND changed > ? AND learner%s > ?"
                " ORDER BY learner%s LIMIT ?" % (", ".join(columns), collate, collate),
                (course, since, after, limit + 1),
            ).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            learners = [r[1] for r in rows]
            answers = self._newest_answers(tx, course, learners)
            # Later pages answer the first page's cursor: polling from it after the last page
            # brings everything that changed while the pages were read.
            cursor = cursor if snapshot is None else snapshot
            token = encode_token(["r1", course, since, cursor, learners[-1]]) if more else None
            return {
                "course": course,
                "title": title,
                "cursor": cursor,
                "records": self._page_json(rows, answers),
                "next_page": token,
            }

        return self._transaction(body, write=False)

    def _newest_answers(self, tx: Tx, course: str, learners: list[str]) -> list:
        """The newest INLINE_ANSWERS answers of each of `learners`, with each learner's total."""
        if not learners:
            return []
        marks = ", ".join("?" * len(learners))
        return tx.run(
            "SELECT %s, total FROM (SELECT %s,"
            " ROW_NUMBER() OVER (PARTITION BY learner ORDER BY answered_at DESC, session DESC, seq DESC) AS newest,"
            " COUNT(*) OVER (PARTITION BY learner) AS total"
            " FROM quiz_answers WHERE course = ? AND learner IN (%s)) ranked WHERE newest <= ?"
            % (", ".join(ANSWER_COLUMNS), ", ".join(ANSWER_COLUMNS), marks),
            [course] + learners + [INLINE_ANSWERS],
        ).fetchall()

    def _page_json(self, rows: list, answers: list) -> list[dict[str, Any]]:
        from coursewire.server.store import record_store  # the module that subclasses this one

        totals: dict[str, int] = {}
        for answer in answers:
            totals[answer[0]] = answer[-1]
        records = record_store._records_json(rows, [answer[:-1] for answer in answers])
        for record in records:
            record["answers_total"] = totals.get(record["learner"], 0)
        return records

    def _record_columns(self) -> tuple[str, ...]:
        from coursewire.server.store import record_store

        return record_store.RECORD_COLUMNS

    def record_answers(
        self, course: str, learner: str, limit: int = DEFAULT_PAGE_LIMIT, page: "str | None" = None
    ) -> "dict | None":
        """{"course", "learner", "answers_total", "answers", "next_page"}: one record's answers,
        oldest first, `limit` at a time; None when the course has no such learner."""
        after = None
        if page is not None:
            _, token_course, token_learner, time, session, seq = decode_token(page, "a1", 6)
            if (
                (token_course, token_learner) != (course, learner)
                or not isinstance(time, str)
                or not isinstance(session, str)
                or not _whole(seq, -MAX_CURSOR)
            ):
                raise BadPageToken("page must be a next_page token from an earlier answer for this learner.")
            after = (time, session, seq)
        collate = self._code_points()

        def body(tx: Tx) -> Any:
            if tx.run("SELECT 1 FROM records WHERE course = ? AND learner = ?", (course, learner)).fetchone() is None:
                return None
            total = tx.run(
                "SELECT COUNT(*) FROM quiz_answers WHERE course = ? AND learner = ?", (course, learner)
            ).fetchone()[0]
            where, params = "course = ? AND learner = ?", [course, learner]
            if after is not None:
                where += (
                    " AND (answered_at%s > ? OR (answered_at = ? AND (session%s > ?"
                    " OR (session = ? AND seq > ?))))" % (collate, collate)
                )
                params += [after[0], after[0], after[1], after[1], after[2]]
            rows = tx.run(
                "SELECT %s FROM quiz_answers WHERE %s ORDER BY answered_at%s, session%s, seq LIMIT ?"
                % (", ".join(ANSWER_COLUMNS), where, collate, collate),
                params + [limit + 1],
            ).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            from coursewire.server.store.record_store import answer_entry  # the module that subclasses this one

            entries = [answer_entry(row) for row in rows]
            last = rows[-1] if rows else None
            token = encode_token(["a1", course, learner, last[11], last[1], last[2]]) if more and last else None
            return {
                "course": course,
                "learner": learner,
                "answers_total": total,
                "answers": entries,
                "next_page": token,
            }

        return self._transaction(body, write=False)

    def course_summary(self, course: str) -> dict:
        """{"course", "title", "cursor", "learners", "statuses": {status: n}, "bands": [{"low",
        "high", "label", "count"}]}: counted by the database, not by reading every record."""

        def body(tx: Tx) -> Any:
            row = tx.run("SELECT title, last_change FROM courses WHERE course = ?", (course,)).fetchone()
            title, cursor = row if row is not None else (None, 0)
            statuses = dict((status, 0) for status in STATUSES)
            bands = [
                {"low": low, "high": high, "label": roster.band_label(low, high), "count": 0}
                for low, high in roster.BANDS
            ]
            total = 0
            for status, band, count in tx.run(
                "SELECT %s, %s, COUNT(*) FROM records WHERE course = ? GROUP BY 1, 2" % (STATUS_SQL, BAND_SQL),
                (course,),
            ).fetchall():
                statuses[status] += count
                bands[band]["count"] += count
                total += count
            return {
                "course": course,
                "title": title,
                "cursor": cursor,
                "learners": total,
                "statuses": statuses,
                "bands": bands,
            }

        return self._transaction(body, write=False)
