"""`coursewire reconcile [--course ID ...] [--since TIME]`: bring the learner record in line with
Coassemble's trackings, page by page (CPython only).

Every tracking read is applied through the store's one `apply_tracking`: a completion Coassemble
knows becomes `completed_verified` with its time (the earliest, whether it came by webhook or
here), and its score, passed and progress are kept. Running it again changes nothing. One
summary line on stdout; a progress line on stderr only when stderr is a terminal.

Exit status: 0 all read and applied; 1 some pages or records failed (each named on stderr,
after the summary); 2 a mistake or missing configuration, or trackings not enabled / the key
refused: one sentence.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from coursewire.server import trackings as trackings_api
from coursewire.server.store.errors import StoreUnavailable

if TYPE_CHECKING:
    import argparse

    from coursewire.server.command_error import Fail
    from coursewire.server.settings import Settings
    from coursewire.server.store import RecordStore


class Summary:
    def __init__(self) -> None:
        self.read = self.new = self.changed = self.unchanged = self.skipped = self.failed = self.erased = 0
        self.courses = 0
        self.problems: list[str] = []  # one sentence each

    def line(self) -> str:
        erased = ", %d of erased learners left out" % self.erased if self.erased else ""
        return "Reconciled %d tracking%s of %d course%s: %d newly verified, %d changed, %d skipped%s, %d failed." % (
            self.read,
            "" if self.read == 1 else "s",
            self.courses,
            "" if self.courses == 1 else "s",
            self.new,
            self.changed,
            self.skipped,
            erased,
            self.failed,
        )


def reconcile(
    store: RecordStore,
    settings: Settings,
    courses: list | None = None,
    since: str | None = None,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    summary: Summary | None = None,
    page_length: int = trackings_api.PAGE_LENGTH,
) -> Summary:
    """Read every page of each course's trackings (default: every course the record knows) and
    apply them. Raises trackings_api.TrackingsRefused (401/403) and coassemble.NotConfigured;
    everything else that fails is counted in the summary and the run goes on."""
    summary = summary or Summary()
    for course in courses if courses is not None else store.known_courses():
        summary.courses += 1
        try:
            for page in trackings_api.read_course(settings, course, since=since, length=page_length, sleep=sleep):
                summary.read += len(page.trackings) + page.skipped
                summary.skipped += page.skipped
                if page.trackings:
                    _apply(store, course, page, summary)
                if progress is not None:
                    progress("course %s: page %d, %d trackings read" % (course, page.number + 1, summary.read))
        except trackings_api.PageFailed as error:
            summary.failed += 1
            summary.problems.append("Course %s: %s" % (course, error.sentence))
    return summary


def _apply(store: RecordStore, course: str, page: trackings_api.Page, summary: Summary) -> None:
    try:
        outcomes = store.apply_tracking(course, page.trackings)
    except StoreUnavailable as error:
        summary.failed += len(page.trackings)
        summary.problems.append("Course %s, page %d: not stored (%s)" % (course, page.number, error))
        return
    summary.new += outcomes.count("new")
    summary.changed += outcomes.count("changed")
    summary.unchanged += outcomes.count("unchanged")
    summary.erased += outcomes.count("erased")


class _ProgressLine:
    """One line on a terminal, rewritten in place; nothing at all when stderr is not a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False

    def __call__(self, text: str) -> None:
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def main(args: argparse.Namespace, fail: Fail) -> int:
    """The command; `fail(sentence)` raises the CLI's one-sentence error (exit status 2)."""
    from coursewire.server import coassemble
    from coursewire.server.ids import course_id
    from coursewire.server.times import iso, parse_iso

    courses = None
    if args.course:
        try:
            courses = [course_id(value, "--course") for value in args.course]
        except ValueError as error:
            fail(str(error))
    since = None
    if args.since is not None:
        try:
            since = iso(parse_iso(args.since, "--since"))
        except ValueError as error:
            fail(str(error))
    settings, store = open_configured(args, fail)
    line = _ProgressLine(sys.stderr) if sys.stderr.isatty() else None
    try:
        summary = reconcile(store, settings, courses, since, progress=line)
    except trackings_api.TrackingsRefused as refusal:
        fail(refusal.sentence)
    except coassemble.NotConfigured as error:
        fail(error.sentence)
    except StoreUnavailable as error:
        fail(str(error))
    finally:
        if line is not None:
            line.clear()
        store.close()
    print(summary.line(), flush=True)
    for problem in summary.problems:
        print("coursewire reconcile: %s" % problem, file=sys.stderr)
    return 1 if summary.failed else 0


def open_configured(args: argparse.Namespace, fail: Fail) -> tuple[Settings, RecordStore]:
    """(settings, store) from the environment and --db, or fail(one sentence)."""
    from coursewire.server.settings import Settings
    from coursewire.server.store import StoreError, open_store

    try:
        settings = Settings.from_env()
    except ValueError as error:
        fail(str(error))
    if not settings.workspace_id or not settings.api_key:
        fail("Coassemble is not configured: set COASSEMBLE_WORKSPACE_ID and COASSEMBLE_API_KEY.")
    database = args.db or settings.database
    if not database:
        fail(
            "No database is configured: set DATABASE_URL (postgresql://...) or COURSEWIRE_DB (a file path), "
            "or pass --db."
        )
    try:
        store = open_store(database)
    except StoreError as error:
        fail(str(error))
    return settings, store
