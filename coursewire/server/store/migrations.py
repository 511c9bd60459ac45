"""The learner record's schema, as numbered migrations applied in order, once each.

`schema_version` holds one row per applied migration. `migrate(store)` runs in one transaction
under a lock both backends honour (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory transaction
lock), so two processes starting at once apply each migration exactly once and the second one
finds the work done. A database newer than this code is refused, never "downgraded".

The DDL is written once for both backends (TEXT, BIGINT, INTEGER mean the same in each). Every
time is TEXT in the spelling of coursewire/server/times.py, so text order is time order.
"""

from coursewire.server.store.base import Tx

SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    summary TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""

# (version, summary, statements): a statement is SQL, or {backend: SQL}.
MIGRATIONS: list[tuple[int, str, list[str | dict[str, str]]]] = [
    (
        1,
        "learner records, browser reports, quiz answers, webhook deliveries, server secrets",
        [
            # One row per course anyone has reported or Coassemble has told us about. last_change is
            # the polling cursor: every transaction that changes a record of the course bumps it, and
            # that row lock also serialises writers of one course on PostgreSQL.
            """CREATE TABLE courses (
            course TEXT PRIMARY KEY,
            title TEXT,
            created_at TEXT,
            last_change BIGINT NOT NULL DEFAULT 0
        )""",
            # One record per (course, learner): reported and verified evidence side by side.
            """CREATE TABLE records (
            course TEXT NOT NULL,
            learner TEXT NOT NULL,
            progress INTEGER NOT NULL DEFAULT 0,
            reported_started_at TEXT,
            reported_completed_at TEXT,
            verified_commenced_at TEXT,
            verified_completed_at TEXT,
            last_event_at TEXT,
            reported_events BIGINT NOT NULL DEFAULT 0,
            changed BIGINT NOT NULL,
            PRIMARY KEY (course, learner)
        )""",
            "CREATE INDEX records_by_change ON records (course, changed)",
            # Every browser event applied, once: the primary key is the idempotency key.
            """CREATE TABLE reported_events (
            course TEXT NOT NULL,
            learner TEXT NOT NULL,
            session TEXT NOT NULL,
            seq BIGINT NOT NULL,
            name TEXT NOT NULL,
            data TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (course, learner, session, seq)
        )""",
            # Quiz answers (and fails and retries) with their attempts, from reported events.
            """CREATE TABLE quiz_answers (
            course TEXT NOT NULL,
            learner TEXT NOT NULL,
            session TEXT NOT NULL,
            seq BIGINT NOT NULL,
            event TEXT NOT NULL,
            screen TEXT,
            title TEXT,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            correct INTEGER,
            score TEXT,
            attempt INTEGER NOT NULL,
            answered_at TEXT NOT NULL,
            PRIMARY KEY (course, learner, session, seq)
        )""",
            # Per screen of a record: its title and current attempt (for answers without one).
            """CREATE TABLE quiz_screens (
            course TEXT NOT NULL,
            learner TEXT NOT NULL,
            screen TEXT NOT NULL,
            title TEXT,
            attempt INTEGER NOT NULL,
            PRIMARY KEY (course, learner, screen)
        )""",
            # Every verified delivery, applied or ignored (unknown type), with its raw body.
            """CREATE TABLE webhook_deliveries (
            delivery TEXT PRIMARY KEY,
            event_type TEXT NOT NULL,
            outcome TEXT NOT NULL,
            course TEXT,
            learner TEXT,
            occurred_at TEXT,
            signed_at BIGINT NOT NULL,
            received_at TEXT NOT NULL,
            body TEXT NOT NULL
        )""",
            # Secrets the server generates once and must keep across restarts (the report token key).
            """CREATE TABLE server_secrets (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        ],
    ),
    (
        2,
        "verified score, passed and progress from Coassemble's trackings; pending tracking checks",
        [
            # Coassemble's own word (trackings), beside the browser's reported progress and answers.
            "ALTER TABLE records ADD COLUMN verified_score TEXT",  # JSON number
            "ALTER TABLE records ADD COLUMN verified_passed INTEGER",  # 0 / 1
            "ALTER TABLE records ADD COLUMN verified_progress INTEGER",  # 0..100
            # A browser reported a completion Coassemble has not verified yet: ask for the learner's
            # tracking soon, from whichever process claims it first (coursewire/server/checks.py).
            # A claim is a lease (claimed_until): a dead process's claim expires and another takes it.
            """CREATE TABLE pending_checks (
            course TEXT NOT NULL,
            learner TEXT NOT NULL,
            due_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            claim TEXT,
            claimed_until TEXT,
            done_at TEXT,
            outcome TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (course, learner)
        )""",
            "CREATE INDEX pending_checks_by_due ON pending_checks (done_at, due_at)",
            # Periodic jobs (the sweep) are claimed the same way, so one process runs each when due.
            """CREATE TABLE periodic_jobs (
            job TEXT PRIMARY KEY,
            due_at TEXT NOT NULL,
            claim TEXT,
            claimed_until TEXT,
            last_run_at TEXT,
            last_outcome TEXT
        )""",
        ],
    ),
    (
        3,
        "erasures: a tombstone per erased learner; indexes to find a learner's rows across courses",
        [
            # One row per erased learner: evidence dated before erased_at never brings them back
            # (store/erasure.py). `coassemble` is what Coassemble answered to its DELETE user, or
            # NULL until it confirmed ("erased" / "not found"), so `coursewire erase` knows what to retry.
            """CREATE TABLE erasures (
            learner TEXT PRIMARY KEY,
            erased_at TEXT NOT NULL,
            coassemble TEXT
        )""",
            "CREATE INDEX records_by_learner ON records (learner)",
            "CREATE INDEX webhook_deliveries_by_learner ON webhook_deliveries (learner)",
            # Retention purges reported events by age (store/erasure.py purge).
            "CREATE INDEX reported_events_by_time ON reported_events (occurred_at)",
            "CREATE INDEX quiz_answers_by_time ON quiz_answers (answered_at)",
        ],
    ),
    (
        4,
        "bounds: report counters per learner window and per page session, wrong admin-token counters",
        [
            # coursewire/server/store/limits.py keeps these; window_start is Unix seconds.
            """CREATE TABLE report_windows (
            course TEXT NOT NULL,
            learner TEXT NOT NULL,
            window_start BIGINT NOT NULL,
            events BIGINT NOT NULL,
            bytes BIGINT NOT NULL,
            PRIMARY KEY (course, learner, window_start)
        )""",
            """CREATE TABLE report_sessions (
            course TEXT NOT NULL,
            learner TEXT NOT NULL,
            session TEXT NOT NULL,
            events BIGINT NOT NULL,
            bytes BIGINT NOT NULL,
            last_at TEXT NOT NULL,
            PRIMARY KEY (course, learner, session)
        )""",
            """CREATE TABLE guess_windows (
            client TEXT NOT NULL,
            window_start BIGINT NOT NULL,
            failures BIGINT NOT NULL,
            PRIMARY KEY (client, window_start)
        )""",
        ],
    ),
    (
        5,
        "records paged by learner in code-point order",
        [
            # Keyset pages (store/paging.py) walk a course's learners in code-point order. SQLite's
            # primary key already sorts so (BINARY); PostgreSQL's sorts in the database's collation,
            # so it gets an index in "C" (code points) that the pages' ORDER BY can walk.
            {"postgres": 'CREATE INDEX records_by_course_learner_code_points ON records (course, learner COLLATE "C")'},
        ],
    ),
]

LATEST_VERSION = max(version for version, _, _ in MIGRATIONS)
# Every table, for dump() (tests compare whole databases) and for a backup script.
TABLES = (
    "schema_version",
    "courses",
    "records",
    "reported_events",
    "quiz_answers",
    "quiz_screens",
    "webhook_deliveries",
    "server_secrets",
    "pending_checks",
    "periodic_jobs",
    "erasures",
    "report_windows",
    "report_sessions",
    "guess_windows",
)


class SchemaTooNew(Exception):
    pass


def migrate(tx: Tx, now_iso: str, backend: str | None = None) -> list[int]:
    """Bring the database in `tx` (a write transaction holding the migration lock) to
    LATEST_VERSION. Returns the versions applied (empty when it was up to date).

    A statement is SQL both backends run, or {backend: SQL} for what only one of them needs
    ("sqlite" / "postgres"; a backend not named runs nothing)."""
    tx.run(SCHEMA_VERSION_TABLE)
    done = set(row[0] for row in tx.run("SELECT version FROM schema_version").fetchall())
    current = max(done) if done else 0
    if current > LATEST_VERSION:
        raise SchemaTooNew(
            "The database's schema is version %d, newer than this Coursewire (version %d): "
            "upgrade Coursewire." % (current, LATEST_VERSION)
        )
    # Every version not yet recorded, in number order: a migration merged later with a lower
    # number than one already applied (branches numbered in advance) is still applied, once.
    applied = []
    for version, summary, statements in sorted(MIGRATIONS, key=lambda migration: migration[0]):
        if version in done:
            continue
        for statement in statements:
            if isinstance(statement, dict):
                statement = statement.get(backend or "", "")
            if statement:
                tx.run(statement)
        tx.run(
            "INSERT INTO schema_version (version, summary, applied_at) VALUES (?, ?, ?)", (version, summary, now_iso)
        )
        applied.append(version)
    return applied
