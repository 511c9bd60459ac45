"""`coursewire reconcile` (and `python -m coursewire reconcile`, `reconcile --sweep`, `worker
--once`) as a user runs them, against the simulated Coassemble over HTTP and an SQLite record:
the summary line, the exit statuses (0 done, 1 some failed, 2 not configured / not enabled), a
progress line only on a terminal, and no key in anything printed."""

import os
import pty
import subprocess
import sys
import time

import pytest
from server.coassemble_sim import API_KEY, SimulatedCoassemble

from coursewire.server.times import iso

from serving import ROOT

T_START = "2026-11-01T08:00:00.000Z"
T_DONE = "2026-11-02T08:00:00.000Z"


@pytest.fixture
def coassemble():
    sim = SimulatedCoassemble()
    try:
        yield sim
    finally:
        sim.close()


def env_for(coassemble, db):
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("COASSEMBLE_", "COURSEWIRE_")) and name != "DATABASE_URL"
    }
    env.update(coassemble.env() if coassemble else {})
    env.update({"COURSEWIRE_DB": db, "PYTHONPATH": ROOT})
    return env


def run(args, env, **options):
    return subprocess.run(
        [sys.executable, "-m", "coursewire"] + args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )


def seed_half_completed(coassemble, count, course=101):
    for n in range(count):
        done = n % 2 == 0
        coassemble.api.seed_tracking(
            course,
            "learner-%03d" % n,
            commenced=T_START,
            completed=T_DONE if done else None,
            score=60 + n % 40 if done else None,
            passed=True if done else None,
        )


def test_reconcile_verifies_what_coassemble_knows_and_a_second_run_changes_nothing(coassemble, tmp_path):
    seed_half_completed(coassemble, 250)
    env = env_for(coassemble, str(tmp_path / "record.sqlite3"))
    first = run(["reconcile", "--course", "101"], env)
    assert (first.returncode, first.stderr) == (0, "")  # not a terminal: no progress line
    assert (
        first.stdout == "Reconciled 250 trackings of 1 course: 125 newly verified, 125 changed, 0 skipped, 0 failed.\n"
    )
    second = run(["reconcile"], env)  # every course the record knows
    assert (second.returncode, second.stderr) == (0, "")
    assert second.stdout == "Reconciled 250 trackings of 1 course: 0 newly verified, 0 changed, 0 skipped, 0 failed.\n"


def test_some_pages_failing_after_retries_exit_1_and_name_the_course(coassemble, tmp_path):
    seed_half_completed(coassemble, 4, course=101)
    seed_half_completed(coassemble, 4, course=202)
    coassemble.api.set_trackings_switches(fail_next=5, fail_status=429, retry_after=0)  # a storm on the first page
    done = run(["reconcile", "--course", "101", "--course", "202"], env_for(coassemble, str(tmp_path / "r.sqlite3")))
    assert done.returncode == 1, done
    assert done.stdout == "Reconciled 4 trackings of 2 courses: 2 newly verified, 2 changed, 0 skipped, 1 failed.\n"
    assert done.stderr.splitlines() == [
        "coursewire reconcile: Course 101: Coassemble rate-limited the trackings request (course 101, page 0); "
        "try again in 0 seconds (gave up after 5 attempts)."
    ]


def test_trackings_not_enabled_exit_2_with_one_sentence(coassemble, tmp_path):
    coassemble.api.set_trackings_switches(enabled=False)
    done = run(["reconcile", "--course", "101"], env_for(coassemble, str(tmp_path / "r.sqlite3")))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "coursewire: Coassemble's trackings are not enabled for this workspace (HTTP 403): "
        "they are available on request from Coassemble.\n"
    )
    assert API_KEY not in done.stderr


def test_not_configured_exit_2_with_one_sentence(tmp_path):
    done = run(["reconcile"], env_for(None, str(tmp_path / "r.sqlite3")))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        done.stderr == "coursewire: Coassemble is not configured: set COASSEMBLE_WORKSPACE_ID and COASSEMBLE_API_KEY.\n"
    )


def test_a_terminal_gets_a_progress_line_that_is_cleared(coassemble, tmp_path):
    seed_half_completed(coassemble, 10)
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "coursewire", "reconcile", "--course", "101"],
            cwd=ROOT,
            env=env_for(coassemble, str(tmp_path / "r.sqlite3")),
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            timeout=120,
        )
        os.close(secondary)
        secondary = None
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if secondary is not None:
            os.close(secondary)
        os.close(primary)
    assert done.returncode == 0
    assert done.stdout.startswith("Reconciled 10 trackings of 1 course: 5 newly verified")
    assert b"course 101: page 1, 10 trackings read" in shown and shown.endswith(b"\r\x1b[K")


def test_the_sweep_and_a_worker_run_once(coassemble, tmp_path):
    seed_half_completed(coassemble, 6)
    env = env_for(coassemble, str(tmp_path / "r.sqlite3"))
    assert run(["reconcile", "--course", "101"], env).returncode == 0
    # A completion a minute ago whose webhook never came: the sweep reads back past its last run.
    coassemble.api.seed_tracking(
        101, "late-learner", commenced=iso(time.time() - 120), completed=iso(time.time() - 60), score=99
    )
    sweep = run(["reconcile", "--sweep"], env)
    assert sweep.returncode == 0, sweep
    assert sweep.stdout == "Reconciled 1 tracking of 1 course: 1 newly verified, 0 changed, 0 skipped, 0 failed.\n"
    worker = run(["worker", "--once"], env)
    assert worker.returncode == 0, worker
    assert worker.stdout == "Worker stopped: 0 checks done.\n"  # the sweep ran minutes ago: not due
