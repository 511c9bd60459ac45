"""Erasing a learner, here and at Coassemble (GDPR Article 17): what the route and `coursewire erase` share.

Here first, in one transaction (store/erasure.py), so the erasure stands whatever Coassemble
answers; then Coassemble's `DELETE /api/v1/headless/user/{identifier}`. Its answer is kept beside
the tombstone: "erased" (2xx), "not found" (404: nothing to erase there), "failed" (anything else,
or no answer: retry with `coursewire erase ID`) or "not configured" (no Coassemble key here).

    coursewire erase ID            erase ID here (if not done yet) and at Coassemble
    coursewire erase --pending     retry Coassemble for every learner it has not confirmed
"""

from __future__ import annotations

import argparse
import time
import urllib.parse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coursewire.server.settings import Settings
    from coursewire.server.store import RecordStore

USER_PATH = "/api/v1/headless/user/"
ERASED, NOT_FOUND, FAILED, NOT_CONFIGURED = "erased", "not found", "failed", "not configured"


def erase_at_coassemble(settings: Settings, learner: str) -> tuple[str, str | None]:
    """(state, sentence when it failed) of asking Coassemble to erase `learner`."""
    from coursewire.server import coassemble  # here, not at import: `coursewire --help` stays quick

    try:
        status, headers, raw, failure = coassemble.api_call(
            settings, "DELETE", USER_PATH + urllib.parse.quote(learner, safe="")
        )
    except coassemble.NotConfigured:
        return NOT_CONFIGURED, None
    if failure is not None:
        return FAILED, failure.sentence
    if 200 <= status < 300:
        return ERASED, None
    if status == 404:
        return NOT_FOUND, None
    return FAILED, coassemble.refusal_sentence(status, headers, raw, "erasing the learner", settings.api_key)


def erase(store: RecordStore, settings: Settings, learner: str, now: float) -> dict | None:
    """Erase `learner` here (kept if done before) and at Coassemble. The contract's answer:
    {"learner", "removed": {table: n}, "coassemble": state[, "error": sentence]}; None for a
    learner nothing is held about (no rows, no tombstone)."""
    from coursewire.server.times import iso

    local = store.erase_learner(learner, iso(now))
    if local is None:
        return None
    state, sentence = erase_at_coassemble(settings, learner)
    store.note_coassemble_erasure(learner, state)
    answer = {"learner": learner, "removed": local["removed"], "coassemble": state}
    if state == FAILED:
        answer["error"] = "Erased here, but not at Coassemble: %s Retry with: coursewire erase ID." % sentence
    return answer


DESCRIPTION = (
    "Erase a learner: every row of theirs in the learner record (records, reported events, quiz "
    "answers, the learner and body of their webhook deliveries), then at Coassemble (DELETE "
    "user). Safe to repeat: a learner erased before is asked of Coassemble again."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("learner", metavar="ID", nargs="?", help="the learner's identifier, as the record keeps it")
    parser.add_argument(
        "--pending",
        action="store_true",
        help="retry Coassemble for every learner erased here that it has not confirmed",
    )
    parser.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        default=None,
        help="the learner record (default: DATABASE_URL, else COURSEWIRE_DB)",
    )


def main(args: argparse.Namespace) -> int:
    """0 done (here and at Coassemble, or Coassemble not configured), 1 Coassemble failed, 2 a mistake."""
    from coursewire.server.command_error import CliError
    from coursewire.server.ids import learner_id
    from coursewire.server.settings import Settings
    from coursewire.server.store import StoreError, open_store

    if (args.learner is None) == (not args.pending):
        raise CliError("Name one learner ID, or give --pending (see --help).")
    try:
        settings = Settings.from_env()
        learners = [learner_id(args.learner, "ID")] if args.learner is not None else None
    except ValueError as error:
        raise CliError(str(error)) from error
    database = args.db or settings.database
    if not database:
        raise CliError("No learner record is configured: set DATABASE_URL or COURSEWIRE_DB, or give --db.")
    try:
        store = open_store(database)
    except StoreError as error:
        raise CliError(str(error)) from error
    failed = 0
    try:
        if learners is None:
            learners = store.pending_coassemble_erasures()
            if not learners:
                print("No erasure is waiting for Coassemble.")
        for learner in learners:
            answer = erase(store, settings, learner, time.time())
            if answer is None:
                raise CliError("Nothing is held about learner %r: nothing to erase." % learner[:100])
            removed = sum(answer["removed"].values())
            print(
                "%s: %d rows removed here; Coassemble: %s%s"
                % (learner, removed, answer["coassemble"], " (%s)" % answer["error"] if "error" in answer else ".")
            )
            failed += answer["coassemble"] == FAILED
    except StoreError as error:
        raise CliError(str(error)) from error
    finally:
        store.close()
    return 1 if failed else 0
