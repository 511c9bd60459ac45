"""`coursewire worker`: the work that must not run inside a request (CPython only).

- Pending checks: when a browser reports a completion Coassemble has not verified, the report's
  own transaction leaves a check in the database (store/reconcile.py). A worker claims one at a
  time, asks Coassemble for that learner's tracking and applies it with the check's claim, in
  one transaction. Not there yet (Coassemble may lag): due again later, a bounded number of
  times. Any number of workers on any number of machines may share one database: a claim is a
  lease, so each check is finished once, and a killed worker's check is taken by another when
  its lease runs out.
- The periodic sweep (job "sweep"): reconciles the trackings with activity since the last sweep
  (with an overlap) and forgets long-finished checks. Its schedule lives in the database too
  (`periodic_jobs`), so with several workers one of them runs each sweep.

Why a separate process and not a thread in each server process: gunicorn kills and recycles its
workers (timeouts, max-requests, deploys) and a thread there would die mid-call with no one to
notice; the Coassemble calls (seconds, with retries) would compete with requests for the same
workers; and a host that embeds the routes in its own Django/WSGI app should not find threads
started in it. A worker is one more process (a systemd service or a second container), and
`coursewire reconcile --sweep` from a timer does the sweep alone where no worker runs.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from coursewire.server import coassemble
from coursewire.server import trackings as trackings_api
from coursewire.server.store.errors import StoreUnavailable
from coursewire.server.times import iso

if TYPE_CHECKING:
    import argparse

    from coursewire.server.command_error import Fail
    from coursewire.server.settings import Settings
    from coursewire.server.store import RecordStore

CHECK_LEASE_S = 600  # longer than a check can take: 5 attempts x COASSEMBLE_TIMEOUT, backoffs, a Retry-After
CHECK_ATTEMPTS = 5
CHECK_RETRY_S = (60, 300, 900, 3600)  # after attempt n: Coassemble may take a while to record it
POLL_S = 5.0  # how often an idle worker looks for due checks
SWEEP_EVERY_S = 15 * 60
SWEEP_OVERLAP_S = 10 * 60  # a sweep reads back this far before the last one began
SWEEP_JOB = "sweep"


def do_check(
    store: RecordStore,
    settings: Settings,
    clock: Callable[[], float] = time.time,
    lease_s: float = CHECK_LEASE_S,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Claim one due check and do it: its outcome ("verified", "not completed", "no tracking",
    "failed", "refused", "lost"), or None when no check was due."""
    claimed = store.claim_check(iso(clock()), lease_s)
    if claimed is None:
        return None
    course, learner, attempt, claim = claimed
    if attempt > CHECK_ATTEMPTS:  # claimed before by workers that died in it: give up, say so
        store.finish_check(course, learner, claim, iso(clock()), None, "gave up after %d attempts" % CHECK_ATTEMPTS)
        return "gave up"
    retry_at = iso(clock() + CHECK_RETRY_S[attempt - 1]) if attempt < CHECK_ATTEMPTS else None
    try:
        found: list[trackings_api.Tracking] = []
        for page in trackings_api.read_course(settings, course, identifier=learner, sleep=sleep):
            found.extend(t for t in page.trackings if t.identifier == learner)
    except (trackings_api.TrackingsRefused, coassemble.NotConfigured) as error:
        # Asking again cannot help (the key, the plan, the configuration): done, with the reason.
        store.finish_check(course, learner, claim, iso(clock()), None, "refused: " + error.sentence[:300])
        return "refused"
    except trackings_api.PageFailed as error:
        store.finish_check(course, learner, claim, iso(clock()), retry_at, "failed: " + error.sentence[:300])
        return "failed"
    if not found:
        store.finish_check(course, learner, claim, iso(clock()), retry_at, "no tracking")
        return "no tracking"
    check = {"learner": learner, "claim": claim, "now": iso(clock()), "retry_at": retry_at}
    outcomes = store.apply_tracking(course, found, check=check)
    if outcomes == ["lost"]:
        return "lost"
    verified = [t for t in found if t.completed]
    return "verified" if verified else "not completed"


def sweep(
    store: RecordStore, settings: Settings, now: float, since: str | None, progress: Callable[[str], None] | None = None
) -> tuple[str, bool]:
    """One periodic sweep: reconcile recent trackings, forget long-finished checks, purge what
    is older than COURSEWIRE_RETENTION_DAYS, and ask Coassemble again to erase the learners it
    has not confirmed. Returns (its summary line, whether something failed), each task adding
    its sentence, run in order."""
    from coursewire.server import erase, retention
    from coursewire.server.reconcile import reconcile

    lines: list[str] = []
    summary = reconcile(store, settings, since=since, progress=progress)
    lines.append(summary.line())
    lines.extend(problem.rstrip(".") + "." for problem in summary.problems)
    forgotten = store.forget_done_checks(iso(now))
    if forgotten:
        lines.append("Forgot %d finished check%s." % (forgotten, "" if forgotten == 1 else "s"))
    purged = retention.purge(store, settings, now)
    if any(purged.values()):
        lines.append(
            "Purged %d reported events and %d quiz answers older than %d days."
            % (purged["reported_events"], purged["quiz_answers"], settings.retention_days or 0)
        )
    store.purge_report_counters(now, settings.limits)  # ended windows, sessions past a token's life
    failed_erasures = 0
    for learner in store.pending_coassemble_erasures():
        answer = erase.erase(store, settings, learner, now)
        failed_erasures += answer is not None and answer["coassemble"] == erase.FAILED
    if failed_erasures:
        lines.append(
            "Coassemble did not confirm %d erasure%s; the next sweep asks again."
            % (failed_erasures, "" if failed_erasures == 1 else "s")
        )
    return " ".join(lines), summary.failed > 0 or failed_erasures > 0


def run_sweep(
    store: RecordStore,
    settings: Settings,
    clock: Callable[[], float] = time.time,
    every_s: float = SWEEP_EVERY_S,
    force: bool = False,
    lease_s: float = CHECK_LEASE_S,
) -> tuple[str, bool] | None:
    """Run the sweep if it is due (or `force`) and no other process is running it: (its line,
    whether something failed), or None. TrackingsRefused / NotConfigured are recorded as the sweep's outcome and raised."""
    started = clock()
    claimed = store.claim_job(SWEEP_JOB, iso(started), lease_s, force=force)
    if claimed is None:
        return None
    claim, last_run_at = claimed
    since = (
        iso(max(0.0, _seconds(last_run_at) - SWEEP_OVERLAP_S))
        if last_run_at
        else iso(max(0.0, started - every_s - SWEEP_OVERLAP_S))
    )
    outcome = "failed"
    try:
        ran = sweep(store, settings, started, since)
        outcome = ran[0]
        return ran
    except (trackings_api.TrackingsRefused, coassemble.NotConfigured) as error:
        outcome = error.sentence
        raise
    finally:
        try:
            store.finish_job(SWEEP_JOB, claim, iso(started), iso(started + every_s), outcome)
        except StoreUnavailable:
            pass  # the lease runs out and the sweep is due again: nothing is lost


def _seconds(text: str) -> float:
    from coursewire.server.times import parse_iso

    return parse_iso(text)


def run(
    store: RecordStore,
    settings: Settings,
    stop: threading.Event,
    once: bool = False,
    poll_s: float = POLL_S,
    sweep_every_s: float = SWEEP_EVERY_S,
    lease_s: float = CHECK_LEASE_S,
    clock: Callable[[], float] = time.time,
    say: Callable[[str], None] = lambda line: print(line, flush=True),
) -> dict[str, int]:
    """Do due checks until `stop` is set (or, with `once`, until none is due), running the sweep
    whenever it is due. Returns the count of each check outcome."""
    counts: dict[str, int] = {}
    while not stop.is_set():
        try:
            outcome = do_check(store, settings, clock, lease_s)
            if outcome is not None:
                counts[outcome] = counts.get(outcome, 0) + 1
                continue
            if sweep_every_s > 0:
                try:
                    ran = run_sweep(store, settings, clock, sweep_every_s, lease_s=lease_s)
                    line = ran[0] if ran else None
                except (trackings_api.TrackingsRefused, coassemble.NotConfigured) as error:
                    line = "Sweep not done: %s" % error.sentence
                if line:
                    say(line)
        except StoreUnavailable as error:
            say("The learner record is unavailable (%s); trying again in %g s." % (error, poll_s))
        except Exception as error:  # a bug: say it and go on; the check's claim lapses and its attempts are bounded
            say("A check failed unexpectedly (%s); trying again in %g s." % (type(error).__name__, poll_s))
        if once:
            break
        stop.wait(poll_s)
    return counts


def main(args: argparse.Namespace, fail: Fail) -> int:
    import signal

    from coursewire.server.reconcile import open_configured

    poll = POLL_S if args.poll is None else args.poll
    sweep_every_s = SWEEP_EVERY_S if args.sweep_every is None else args.sweep_every * 60
    lease = CHECK_LEASE_S if args.lease is None else args.lease
    if not poll > 0 or not sweep_every_s >= 0 or not lease > 0:
        fail("--poll and --lease must be above 0 and --sweep-every 0 or more.")
    settings, store = open_configured(args, fail)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())  # finish the check in hand, then stop
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    if not args.once:
        print(
            "Coursewire worker on %s: checks every %g s, sweep every %g min."
            % (store.describe(), poll, sweep_every_s / 60),
            flush=True,
        )
    try:
        counts = run(store, settings, stop, once=args.once, poll_s=poll, sweep_every_s=sweep_every_s, lease_s=lease)
    finally:
        store.close()
    done = sum(counts.values())
    print(
        "Worker stopped: %d check%s done%s."
        % (
            done,
            "" if done == 1 else "s",
            " (%s)" % ", ".join("%d %s" % (n, name) for name, n in sorted(counts.items())) if counts else "",
        ),
        file=sys.stdout,
        flush=True,
    )
    return 0


def sweep_command(args: argparse.Namespace, fail: Fail) -> int:
    """`coursewire reconcile --sweep`: one sweep now (unless another process is running one)."""
    if args.course or args.since:
        fail("--sweep reads the recent trackings of every course: leave out --course and --since.")
    from coursewire.server.reconcile import open_configured

    settings, store = open_configured(args, fail)
    try:
        ran = run_sweep(store, settings, force=True)
    except (trackings_api.TrackingsRefused, coassemble.NotConfigured) as error:
        fail(error.sentence)
    finally:
        store.close()
    if ran is None:
        print("Another process is running the sweep now; nothing done.", flush=True)
        return 0
    line, failed = ran
    print(line, flush=True)
    return 1 if failed else 0
