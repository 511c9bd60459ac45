"""One open transaction (`Tx`), and what RecordStore's parts (the mixins in erasure.py, limits.py,
paging.py, reconcile.py) use of RecordStore: declared here, once, for the type checker only
(annotations, no code); record_store.RecordStore supplies each of them."""

from collections.abc import Callable
from typing import Any


class Tx:
    """One open transaction: `run(sql, params)` with `?` placeholders on every backend."""

    def __init__(self, conn: Any, translate: Callable[[str], str]) -> None:
        self.conn = conn
        self._translate = translate

    def run(self, sql: str, params: tuple | list = ()) -> Any:
        """The backend's cursor (sqlite3 or psycopg: both have fetchone, fetchall, rowcount)."""
        return self.conn.execute(self._translate(sql), params)


class StorePart:
    """A mixin of RecordStore: what its methods call on `self` that another part defines."""

    backend: str | None
    _transaction: Callable[..., Any]  # (body(tx), write=True) -> what body returned
    _bump_course: Callable[[Tx, str], int]
    _load_record: Callable[[Tx, str, str], dict[str, Any]]
    _save_record: Callable[[Tx, dict[str, Any], int], None]
    _enqueue_check: Callable[[Tx, str, str, str], None]
    forget_report_counters: Callable[[Tx, str], int]
