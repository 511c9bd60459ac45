"""A small bounded pool of database connections, shared by the request threads of one process.

serve.py starts a thread per request and gunicorn may run several threads per worker: the pool
keeps a few connections open (a PostgreSQL connection costs a server process) and makes the
N+1st concurrent request wait instead of opening another one.
"""

import threading
from collections.abc import Callable
from typing import Any

from coursewire.server.store.errors import StoreUnavailable


class ConnectionPool:
    def __init__(self, connect: Callable[[], Any], limit: int, wait_s: float = 30.0) -> None:
        self._connect = connect
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limit)
        self._wait_s = wait_s
        self._closed = False

    def acquire(self) -> Any:
        if not self._slots.acquire(timeout=self._wait_s):
            raise StoreUnavailable("Every database connection stayed busy for %d seconds." % self._wait_s)
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            try:
                conn = self._connect()
            except BaseException:
                self._slots.release()
                raise
        return conn

    def release(self, conn: Any, reuse: bool = True) -> None:
        """Give `conn` back; reuse=False closes it (after an error that may have broken it)."""
        try:
            if reuse and not self._closed:
                with self._lock:
                    self._idle.append(conn)
                return
            _close_quietly(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:
        pass
