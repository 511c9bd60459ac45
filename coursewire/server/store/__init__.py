"""The learner record's storage: one interface (record_store.RecordStore), two backends.

    open_store("var/coursewire.sqlite3")           # SQLite file, created on first use
    open_store("postgresql://user@host/dbname")    # PostgreSQL (psycopg 3)

The returned store has its schema migrated and is ready for every thread of the process.
"""

from coursewire.server.store.errors import StoreError, StoreUnavailable
from coursewire.server.store.record_store import RecordStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(database: str | None) -> RecordStore:
    """A migrated RecordStore for `database`: a postgresql:// URL or an SQLite file path."""
    if not isinstance(database, str) or not database.strip():
        raise StoreError(
            "No database is configured: set DATABASE_URL (postgresql://...) or COURSEWIRE_DB (a file path)."
        )
    if database.startswith(POSTGRES_SCHEMES):
        from coursewire.server.store.postgres import PostgresRecordStore

        store: RecordStore = PostgresRecordStore(database)
    else:
        from coursewire.server.store.sqlite import SQLiteRecordStore

        store = SQLiteRecordStore(database)
    try:
        store.open()
    except StoreError:
        store.close()
        raise
    except Exception as error:
        store.close()
        raise StoreError(
            "Cannot open the learner record in the %s: %s" % (store.describe(), _sentence(error))
        ) from error
    return store


def _sentence(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0][:200] if lines else type(error).__name__
    return text if text.endswith(".") else text + "."


__all__ = ["open_store", "RecordStore", "StoreError", "StoreUnavailable"]
