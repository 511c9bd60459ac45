"""The learner record in one SQLite file (the standard library's sqlite3): the default.

WAL lets readers (the records API) run beside the one writer; synchronous=FULL makes a commit
durable before the request is answered; BEGIN IMMEDIATE takes the write lock up front, so two
writers never deadlock upgrading read locks and a busy database waits (busy_timeout) instead of
failing. Several processes (gunicorn workers) may share the file.
"""

import os
import sqlite3
import time
from typing import Any

from coursewire.server.store.errors import StoreError
from coursewire.server.store.record_store import RecordStore

BUSY_TIMEOUT_S = 30


class SQLiteRecordStore(RecordStore):
    backend = "sqlite"

    def __init__(self, path: str, busy_timeout_s: int = BUSY_TIMEOUT_S) -> None:
        self.path = os.path.abspath(path)
        self.busy_timeout_s = busy_timeout_s
        folder = os.path.dirname(self.path)
        if not os.path.isdir(folder):
            raise StoreError("Cannot create the SQLite database %s: its folder does not exist." % self.path)
        if os.path.isdir(self.path):
            raise StoreError("Cannot use %s as the SQLite database: it is a folder." % self.path)
        _create_private(self.path)
        RecordStore.__init__(self)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = %d" % (self.busy_timeout_s * 1000))
            mode = self._enter_wal(conn)
            if mode.lower() != "wal":
                raise StoreError(
                    "SQLite cannot use write-ahead logging for %s (it stays in %s mode)." % (self.path, mode)
                )
            conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _enter_wal(self, conn: sqlite3.Connection) -> str:
        # Switching a new file into WAL needs an exclusive lock, and SQLite answers "locked" at
        # once there instead of calling the busy handler; processes starting together (gunicorn
        # workers on a fresh file) meet that, so the switch waits up to busy_timeout itself.
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _begin(self, conn: Any, write: bool) -> None:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _classify(self, error: BaseException) -> str | None:
        # Locked past busy_timeout, disk full, I/O errors: nothing was committed; try again later.
        if isinstance(error, sqlite3.OperationalError):
            return "unavailable"
        return None

    def describe(self) -> str:
        return "SQLite database %s" % self.path


def _create_private(path: str) -> None:
    """Create the database file readable by its owner only (it keeps the generated token secret);
    SQLite creates its -wal and -shm files with the database's own permissions. An existing file
    is left as its owner set it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # there already, or another process (a gunicorn worker) made it a moment ago
    except OSError as error:
        raise StoreError("Cannot create the SQLite database %s: %s." % (path, error.strerror or error)) from error
