"""Retention: COURSEWIRE_RETENTION_DAYS purges the browser's reported events, and the quiz answers
they carried, once they are older than that. A record keeps its fields (progress, reported and
verified times, verified completions): only the raw evidence goes.

    coursewire purge          once (a cron job or timer), or
    purge(store, settings, now)   from the periodic sweep

The reports route refuses an event older than the retention period (reports.py), so a very late
retry cannot bring a purged event back as new.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coursewire.server.settings import Settings
    from coursewire.server.store import RecordStore

DAY_S = 86400


def cutoff(settings: Settings, now: float) -> str | None:
    """The stored time before which reported evidence is purged, or None when nothing is."""
    from coursewire.server.times import iso

    if not settings.retention_days:
        return None
    return iso(max(0, now - settings.retention_days * DAY_S))


def purge(store: RecordStore, settings: Settings, now: float) -> dict[str, int]:
    """Delete what is older than the retention period; {"reported_events": n, "quiz_answers": n}
    (zeros when COURSEWIRE_RETENTION_DAYS is unset)."""
    before = cutoff(settings, now)
    if before is None:
        return {"reported_events": 0, "quiz_answers": 0}
    return store.purge_reported(before)


DESCRIPTION = (
    "Purge reported events and their quiz answers older than COURSEWIRE_RETENTION_DAYS from the learner "
    "record (records, verified completions included, are kept)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        default=None,
        help="the learner record (default: DATABASE_URL, else COURSEWIRE_DB)",
    )


def main(args: argparse.Namespace) -> int:
    from coursewire.server.command_error import CliError
    from coursewire.server.settings import Settings
    from coursewire.server.store import StoreError, open_store

    try:
        settings = Settings.from_env()
    except ValueError as error:
        raise CliError(str(error)) from error
    if not settings.retention_days:
        raise CliError("Set COURSEWIRE_RETENTION_DAYS to the number of days reported events are kept.")
    database = args.db or settings.database
    if not database:
        raise CliError("No learner record is configured: set DATABASE_URL or COURSEWIRE_DB, or give --db.")
    try:
        store = open_store(database)
        try:
            counts = purge(store, settings, time.time())
        finally:
            store.close()
    except StoreError as error:
        raise CliError(str(error)) from error
    print(
        "Purged %d reported events and %d quiz answers older than %d days (before %s)."
        % (counts["reported_events"], counts["quiz_answers"], settings.retention_days, cutoff(settings, time.time()))
    )
    return 0
