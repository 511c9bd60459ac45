"""Pending checks with two `coursewire worker` processes on one database (both backends), one of
them SIGKILLed in the middle of a check: every check is finished exactly once, none is lost, and
only the check the dead worker held is asked again, by the other worker, once its lease ran out.

The simulated Coassemble holds the first request for one learner open until the test ends, so
the kill lands, for certain, while worker A is inside that check (claim taken, answer not yet
applied): no timing luck involved."""

import collections
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from coursewire.server.evidence import ReportedEvent
from coursewire.server.store import open_store

from .coassemble_sim import SimulatedCoassemble
from .record_client import ROOT, server_env

LEARNERS = ["learner-%02d" % n for n in range(30)]
HELD = "learner-05"  # worker A does learner-00..04, then is killed inside this one
LEASE_S = 3
T_DONE = "2026-11-02T08:00:00.000Z"
T_REPORTED = "2026-11-03T08:00:00.000Z"
DEADLINE_S = 120


@pytest.fixture
def coassemble():
    sim = SimulatedCoassemble()
    try:
        yield sim
    finally:
        sim.close()


def wait_for(what, check, deadline):
    while not check():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def test_two_workers_one_killed_mid_check_finish_every_check_exactly_once(database, coassemble, tmp_path):
    store = open_store(database)
    store.check_delay_s = 0  # due at once
    for learner in LEARNERS:
        coassemble.api.seed_tracking(101, learner, commenced=T_DONE, completed=T_DONE, score=75, passed=True)
        store.record_events(
            "101", learner, "session-0001", [ReportedEvent(1, "course:completed", {}, T_REPORTED)], T_REPORTED
        )
    assert len([c for c in store.pending_checks() if c["done_at"] is None]) == len(LEARNERS)

    # Count every trackings request per learner; hold the first one for HELD open.
    route = ("GET", "/api/v1/headless/trackings")
    answer = coassemble.api.routes[route]
    asked = collections.Counter()
    lock, release = threading.Lock(), threading.Event()

    def counting(environ):
        learner = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("identifier", [None])[0]
        with lock:
            asked[learner] += 1
            hold = learner == HELD and asked[learner] == 1
        if hold:
            release.wait(DEADLINE_S)
        return answer(environ)

    coassemble.api.routes[route] = counting

    env = server_env(database, **coassemble.env())
    command = [
        sys.executable,
        "-m",
        "coursewire",
        "worker",
        "--poll",
        "0.1",
        "--lease",
        str(LEASE_S),
        "--sweep-every",
        "0",
    ]
    logs = {name: open(str(tmp_path / ("%s.log" % name)), "w+") for name in ("a", "b")}
    workers = {}
    deadline = time.time() + DEADLINE_S
    try:
        workers["a"] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs["a"], stderr=subprocess.STDOUT)
        wait_for("worker A to be inside %s's check" % HELD, lambda: asked[HELD] == 1, deadline)
        done_by_a = [c["learner"] for c in store.pending_checks() if c["done_at"] is not None]
        assert done_by_a == LEARNERS[:5]

        workers["b"] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs["b"], stderr=subprocess.STDOUT)
        wait_for(
            "worker B to finish some checks",
            lambda: sum(1 for c in store.pending_checks() if c["done_at"] is not None) >= 10,
            deadline,
        )
        workers["a"].kill()  # SIGKILL: no shutdown code runs, its claim on HELD stays behind
        assert workers["a"].wait(30) == -9

        wait_for(
            "every check to be finished",
            lambda: all(c["done_at"] is not None for c in store.pending_checks()),
            deadline,
        )
        workers["b"].terminate()  # SIGTERM: finishes the check in hand, then says what it did
        assert workers["b"].wait(30) == 0
    finally:
        release.set()
        for proc in workers.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
    logs["b"].seek(0)
    b_said = logs["b"].read()
    for log in logs.values():
        log.close()

    checks = store.pending_checks()
    records = {r["learner"]: r for r in store.course_records("101")["records"]}
    store.close()
    # None lost: every check finished, each record verified with Coassemble's time and score.
    assert [(c["learner"], c["outcome"]) for c in checks] == [(learner, "verified") for learner in LEARNERS]
    assert all(
        (records[learner]["status"], records[learner]["verified_completed_at"], records[learner]["verified_score"])
        == ("completed_verified", T_DONE, 75)
        for learner in LEARNERS
    )
    # Each done once: Coassemble was asked once per learner, except the check the dead worker held,
    # which worker B took over after its lease (its attempt count says the second claim).
    assert asked[HELD] == 2 and all(asked[learner] == 1 for learner in LEARNERS if learner != HELD), asked
    assert [c["attempts"] for c in checks if c["learner"] == HELD] == [2]
    assert "Worker stopped: 25 checks done (25 verified)." in b_said, b_said
