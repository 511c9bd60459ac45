"""The learner record in PostgreSQL (psycopg 3), for hosts that run more than one machine.

Chosen when DATABASE_URL is postgresql://... . Transactions run at READ COMMITTED, writers of a
course serialised by its row in `courses` (see record_store.py); reads for the records API take
one REPEATABLE READ snapshot so the cursor matches the rows. Migrations take an advisory
transaction lock, so several servers starting at once migrate once.
"""

from types import ModuleType
from typing import Any

from coursewire.server.store.errors import StoreError
from coursewire.server.store.record_store import RecordStore, Tx

MIGRATION_LOCK = 0x436F7572  # "Cour": any fixed number other applications are unlikely to use
CONNECT_TIMEOUT_S = 10


def _psycopg() -> ModuleType:
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "DATABASE_URL names a PostgreSQL database but psycopg is not installed: pip install 'psycopg[binary]'."
        ) from None
    return psycopg


class PostgresRecordStore(RecordStore):
    backend = "postgres"

    def __init__(self, url: str) -> None:
        self._psycopg = _psycopg()
        self._url = url  # may hold a password: never shown (describe() rebuilds a safe one)
        try:
            self._params = self._psycopg.conninfo.conninfo_to_dict(url)
        except self._psycopg.ProgrammingError:
            raise StoreError("DATABASE_URL is not a valid PostgreSQL connection URL.") from None
        RecordStore.__init__(self)

    def _connect(self) -> Any:
        return self._psycopg.connect(
            self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="coursewire"
        )

    def _begin(self, conn: Any, write: bool) -> None:
        conn.execute("BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _translate(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _lock_migrations(self, tx: Tx) -> None:
        tx.run("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))

    def _classify(self, error: BaseException) -> str | None:
        errors = self._psycopg.errors
        if isinstance(error, (errors.SerializationFailure, errors.DeadlockDetected)):
            return "retry"
        if isinstance(error, (self._psycopg.OperationalError, self._psycopg.InterfaceError)):
            return "unavailable"  # connection lost, server shutting down, too many connections
        return None

    def _reusable(self, conn: Any) -> bool:
        return not conn.closed and not conn.broken

    def describe(self) -> str:
        where = self._params.get("host") or "the local socket"
        if self._params.get("port"):
            where += ":%s" % self._params["port"]
        return "PostgreSQL database %s on %s" % (self._params.get("dbname") or "(default)", where)
