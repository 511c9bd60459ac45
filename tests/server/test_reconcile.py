"""Reconcile with Coassemble's trackings, on both backends, against the simulated Coassemble over
HTTP: verified completions and scores with no webhook, idempotence, webhook and tracking agreeing
on the earliest time, odd rows skipped and counted, bounded retries, 403 "not enabled", and the
pending check a reported completion leaves (done by a worker, outside the request)."""

import json

import pytest

from coursewire.server import trackings, worker
from coursewire.server.evidence import ReportedEvent, VerifiedDelivery
from coursewire.server.reconcile import reconcile
from coursewire.server.store import open_store
from coursewire.server.store.migrations import MIGRATIONS
from coursewire.server.times import iso, parse_iso

from .coassemble_sim import SimulatedCoassemble

T_START = "2026-11-01T08:00:00.000Z"
T_EARLY = "2026-11-02T08:00:00.000Z"
T_LATE = "2026-11-03T08:00:00.000Z"


@pytest.fixture
def coassemble():
    sim = SimulatedCoassemble()
    try:
        yield sim
    finally:
        sim.close()


class Sleeps(list):
    """A sleep that records what it was asked to wait (the tests never wait for luck)."""

    def __call__(self, seconds):
        self.append(seconds)


def webhook(store, learner, occurred_at, course="101"):
    body = json.dumps({"type": "course.completed", "occurredAt": occurred_at}).encode()
    return store.record_delivery(
        VerifiedDelivery(
            "d-" + learner + occurred_at,
            "course.completed",
            course,
            learner,
            None,
            occurred_at,
            1764000000,
            occurred_at,
            body.decode(),
        )
    )


def record_of(store, learner, course="101"):
    return next(r for r in store.course_records(course)["records"] if r["learner"] == learner)


def test_250_trackings_half_completed_and_no_webhook_become_125_verified_records_once(store, coassemble):
    for n in range(250):
        completed = n % 2 == 0
        coassemble.api.seed_tracking(
            101,
            "learner-%03d" % n,
            commenced=T_START,
            completed=T_EARLY if completed else None,
            progress=100 if completed else n % 100,
            score=50 + n % 50 if completed else None,
            passed=(n % 50 >= 20) if completed else None,
        )
    settings = coassemble.settings()
    summary = reconcile(store, settings, ["101"], page_length=60, sleep=Sleeps())
    assert (
        summary.line() == "Reconciled 250 trackings of 1 course: 125 newly verified, 125 changed, 0 skipped, 0 failed."
    )
    # Five pages of 60, answered in both forms and with both progress spellings.
    assert len(coassemble.api.trackings_requests) == 5
    records = store.course_records("101")["records"]
    verified = [r for r in records if r["status"] == "completed_verified"]
    assert len(records) == 250 and len(verified) == 125
    ada = record_of(store, "learner-042")
    assert (ada["verified_completed_at"], ada["verified_commenced_at"]) == (T_EARLY, T_START)
    assert (ada["verified_score"], ada["verified_passed"], ada["verified_progress"]) == (92, True, 100)
    odd = record_of(store, "learner-041")
    assert (odd["status"], odd["verified_progress"], odd["verified_score"]) == ("in_progress", 41, None)
    assert odd["progress"] == 0  # the browser's reported progress keeps its own meaning

    before = store.dump()
    again = reconcile(store, settings, ["101"], page_length=60, sleep=Sleeps())
    assert again.line() == "Reconciled 250 trackings of 1 course: 0 newly verified, 0 changed, 0 skipped, 0 failed."
    assert store.dump() == before  # not even the course's cursor moved


@pytest.mark.parametrize("webhook_first", [True, False], ids=["webhook-then-tracking", "tracking-then-webhook"])
def test_a_webhook_and_a_tracking_for_one_completion_keep_the_earlier_time(store, coassemble, webhook_first):
    settings = coassemble.settings()
    # ada: the earlier time comes second; bob: the earlier time comes first.
    coassemble.api.seed_tracking(
        101, "ada", commenced=T_START, completed=T_EARLY if webhook_first else T_LATE, score=80
    )
    coassemble.api.seed_tracking(
        101, "bob", commenced=T_START, completed=T_LATE if webhook_first else T_EARLY, score=70
    )
    steps = [
        lambda: (
            webhook(store, "ada", T_LATE if webhook_first else T_EARLY),
            webhook(store, "bob", T_EARLY if webhook_first else T_LATE),
        ),
        lambda: reconcile(store, settings, ["101"], sleep=Sleeps()),
    ]
    for step in steps if webhook_first else steps[::-1]:
        step()
    for learner in ("ada", "bob"):
        record = record_of(store, learner)
        assert record["verified_completed_at"] == T_EARLY, learner
        assert record["status"] == "completed_verified"
    assert record_of(store, "ada")["verified_score"] == 80


def test_rows_with_odd_values_are_skipped_and_counted_never_guessed(store, coassemble):
    coassemble.api.seed_tracking(101, "good", commenced=T_START, completed=T_EARLY, score=90.5, passed=1)
    for row in (
        {"completed": T_EARLY},
        {"identifier": "", "completed": T_EARLY},
        {"identifier": "p", "progressPercent": 150},
        {"identifier": "s", "score": "high"},
        {"identifier": "t", "completed": "yesterday"},
        {"identifier": "u", "completed": True},
        {"identifier": "v", "passed": "yes"},
        "not an object",
        {"identifier": "w\u202e", "completed": T_EARLY},
    ):
        coassemble.api.seed_raw_row(101, row)
    coassemble.api.seed_raw_row(101, {"identifier": "fine", "commenced": T_START, "progress_percent": 30.4})
    summary = reconcile(store, coassemble.settings(), ["101"], sleep=Sleeps())
    assert (summary.read, summary.skipped, summary.new, summary.changed, summary.failed) == (11, 9, 1, 1, 0)
    records = {r["learner"]: r for r in store.course_records("101")["records"]}
    assert sorted(records) == ["fine", "good"]
    assert (records["good"]["verified_score"], records["good"]["verified_passed"]) == (90.5, True)
    assert records["fine"]["verified_progress"] == 30


def test_not_enabled_stops_with_one_sentence_and_stores_nothing(store, coassemble):
    coassemble.api.seed_tracking(101, "ada", completed=T_EARLY)
    coassemble.api.set_trackings_switches(enabled=False)
    before = store.dump()
    with pytest.raises(trackings.TrackingsRefused) as refused:
        reconcile(store, coassemble.settings(), ["101"], sleep=Sleeps())
    assert refused.value.status == 403 and "not enabled" in refused.value.sentence
    assert coassemble.settings().api_key not in refused.value.sentence
    assert store.dump() == before


def test_a_bad_key_is_refused_once_without_retrying(store, coassemble):
    with pytest.raises(trackings.TrackingsRefused) as refused:
        reconcile(store, coassemble.settings(api_key="wrong-" + "0" * 40), ["101"], sleep=Sleeps())
    assert refused.value.status == 401 and "COASSEMBLE_API_KEY" in refused.value.sentence
    assert len(coassemble.api.trackings_requests) == 1


def test_429_waits_its_retry_after_then_reads_on(store, coassemble):
    coassemble.api.seed_tracking(101, "ada", commenced=T_START, completed=T_EARLY)
    coassemble.api.set_trackings_switches(fail_next=3, retry_after=7)
    sleeps = Sleeps()
    summary = reconcile(store, coassemble.settings(), ["101"], sleep=sleeps)
    assert sleeps == [7, 7, 7]
    assert (summary.new, summary.failed) == (1, 0)


def test_a_page_that_keeps_failing_is_counted_after_bounded_retries_and_other_courses_go_on(store, coassemble):
    coassemble.api.seed_tracking(101, "ada", completed=T_EARLY)
    coassemble.api.seed_tracking(202, "bob", completed=T_EARLY)
    coassemble.api.set_trackings_switches(fail_next=trackings.ATTEMPTS, fail_status=503)
    sleeps = Sleeps()
    summary = reconcile(store, coassemble.settings(), ["101", "202"], sleep=sleeps)
    assert len(sleeps) == trackings.ATTEMPTS - 1 and sum(sleeps) <= 10  # bounded backoff
    assert (summary.failed, summary.new) == (1, 1)
    assert summary.problems == [
        "Course 101: Coassemble is not available right now for the trackings request "
        "(course 101, page 0) (HTTP 503) (gave up after 5 attempts)."
    ]
    assert record_of(store, "bob", "202")["status"] == "completed_verified"


def test_a_reported_completion_leaves_a_check_that_a_worker_does_once(store, coassemble):
    store.check_delay_s = 0  # due at once (the default waits a minute for Coassemble to record it)
    coassemble.api.seed_tracking(101, "ada", commenced=T_START, completed=T_EARLY, score=88, passed=True)
    store.record_events("101", "ada", "session-0001", [ReportedEvent(1, "course:completed", {}, T_LATE)], T_LATE)
    store.record_events("101", "ada", "session-0001", [ReportedEvent(2, "course:completed", {}, T_LATE)], T_LATE)
    checks = store.pending_checks()
    assert [(c["learner"], c["done_at"]) for c in checks] == [("ada", None)]  # one check, in the same transaction
    assert record_of(store, "ada")["status"] == "completed_reported"
    assert worker.do_check(store, coassemble.settings(), sleep=Sleeps()) == "verified"
    assert worker.do_check(store, coassemble.settings(), sleep=Sleeps()) is None
    record = record_of(store, "ada")
    assert (record["status"], record["verified_completed_at"], record["verified_score"]) == (
        "completed_verified",
        T_EARLY,
        88,
    )
    assert coassemble.requests_for("ada") == 1
    [check] = store.pending_checks()
    assert check["outcome"] == "verified" and check["done_at"] is not None
    # Already verified: a later reported completion asks nothing.
    store.record_events("101", "ada", "session-0002", [ReportedEvent(1, "course:completed", {}, T_LATE)], T_LATE)
    assert store.pending_checks()[0]["done_at"] is not None


def test_a_check_coassemble_cannot_answer_yet_is_due_again_later_a_bounded_number_of_times(store, coassemble):
    store.check_delay_s = 0
    store.record_events("101", "ada", "session-0001", [ReportedEvent(1, "course:completed", {}, T_LATE)], T_LATE)
    clock = [parse_iso(T_LATE) + 1]
    outcomes = []
    for _ in range(worker.CHECK_ATTEMPTS + 2):
        outcomes.append(worker.do_check(store, coassemble.settings(), clock=lambda: clock[0], sleep=Sleeps()))
        clock[0] += 7200  # past every retry delay
    assert outcomes == ["no tracking"] * worker.CHECK_ATTEMPTS + [None, None]
    [check] = store.pending_checks()
    assert check["done_at"] is not None and check["attempts"] == worker.CHECK_ATTEMPTS


def test_a_database_at_version_1_gains_the_verified_fields_as_null(database, monkeypatch):
    from coursewire.server.store import migrations

    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:1])
    monkeypatch.setattr(migrations, "LATEST_VERSION", 1)
    old = open_store(database)
    try:
        assert old.schema_version() == 1

        def write(tx):  # a record as version 1 wrote it
            tx.run("INSERT INTO courses (course, last_change) VALUES ('101', 1)")
            tx.run("INSERT INTO records (course, learner, progress, changed) VALUES ('101', 'ada', 40, 1)")

        old._transaction(write)
    finally:
        old.close()
    monkeypatch.undo()
    store = open_store(database)
    try:
        [ada] = store.course_records("101")["records"]
        assert (ada["progress"], ada["verified_score"], ada["verified_passed"], ada["verified_progress"]) == (
            40,
            None,
            None,
            None,
        )
        assert 2 in [row[0] for row in store.dump()["schema_version"]]
    finally:
        store.close()


def test_a_coassemble_that_does_not_answer_in_time_costs_bounded_attempts(store, coassemble):
    coassemble.api.seed_tracking(101, "ada", completed=T_EARLY)
    coassemble.api.set_trackings_switches(delay_s=2)
    sleeps = Sleeps()
    summary = reconcile(store, coassemble.settings(mint_timeout_s=0.2), ["101"], sleep=sleeps)
    assert len(sleeps) == trackings.ATTEMPTS - 1
    assert summary.failed == 1 and "did not answer within 0.2 seconds (gave up after 5 attempts)" in summary.problems[0]
    assert store.course_records("101")["records"] == []


def test_a_retry_after_too_long_to_wait_gives_the_page_up_at_once(store, coassemble):
    coassemble.api.set_trackings_switches(fail_next=1, retry_after=3600)
    sleeps = Sleeps()
    summary = reconcile(store, coassemble.settings(), ["101"], sleep=sleeps)
    assert sleeps == [] and summary.failed == 1
    assert summary.problems[0].endswith("try again in 3600 seconds (gave up after 1 attempt).")


def test_a_worker_whose_lease_ran_out_changes_nothing_and_the_new_holder_finishes(store):
    store.check_delay_s = 0
    store.record_events("101", "ada", "session-0001", [ReportedEvent(1, "course:completed", {}, T_LATE)], T_LATE)
    now = parse_iso(T_LATE) + 1
    first = store.claim_check(iso(now), lease_s=10)
    assert first[:3] == ("101", "ada", 1)
    assert store.claim_check(iso(now + 5), lease_s=10) is None  # held: nobody else gets it
    second = store.claim_check(iso(now + 11), lease_s=10)  # the first holder's lease ran out
    assert second[:3] == ("101", "ada", 2)
    tracking = trackings.parse_row({"identifier": "ada", "completed": T_EARLY, "score": 60})
    before = store.dump()
    late = {"learner": "ada", "claim": first[3], "now": iso(now + 12), "retry_at": None}
    assert store.apply_tracking("101", [tracking], check=late) == ["lost"]
    assert store.dump() == before
    current = {"learner": "ada", "claim": second[3], "now": iso(now + 12), "retry_at": None}
    assert store.apply_tracking("101", [tracking], check=current) == ["new"]
    assert [(c["outcome"], c["attempts"]) for c in store.pending_checks()] == [("verified", 2)]
    assert record_of(store, "ada")["verified_score"] == 60


def test_a_check_that_kills_its_workers_is_given_up_after_its_attempts(store, coassemble):
    store.check_delay_s = 0
    store.record_events("101", "ada", "session-0001", [ReportedEvent(1, "course:completed", {}, T_LATE)], T_LATE)
    now = parse_iso(T_LATE) + 1
    for n in range(worker.CHECK_ATTEMPTS):  # each claimer died holding it (the lease lapses)
        assert store.claim_check(iso(now + 1000 * n), lease_s=10) is not None
    later = now + 1000 * worker.CHECK_ATTEMPTS
    assert worker.do_check(store, coassemble.settings(), clock=lambda: later, sleep=Sleeps()) == "gave up"
    assert coassemble.api.trackings_requests == []
    [check] = store.pending_checks()
    assert check["done_at"] is not None and check["outcome"] == "gave up after 5 attempts"


def test_a_reconcile_after_an_erasure_does_not_bring_the_learner_back(store, coassemble):
    """Coassemble may still hold the tracking (its DELETE user failed, or is not done yet): what it
    tells about the time before the erasure is left out; activity after it (a new mint) counts."""
    settings = coassemble.settings()
    coassemble.api.seed_tracking(101, "ada", commenced=T_START, completed=T_EARLY, progress=100, score=90, passed=True)
    coassemble.api.seed_tracking(101, "bob", commenced=T_START, completed=T_EARLY, progress=100, score=80, passed=True)
    assert reconcile(store, settings, ["101"], sleep=Sleeps()).new == 2
    assert store.erase_learner("ada", T_LATE) is not None
    before = store.dump()

    again = reconcile(store, settings, ["101"], sleep=Sleeps())
    assert again.line() == (
        "Reconciled 2 trackings of 1 course: 0 newly verified, 0 changed, 0 skipped, "
        "1 of erased learners left out, 0 failed."
    )
    assert store.dump() == before
    assert [r["learner"] for r in store.course_records("101")["records"]] == ["bob"]

    # Ada comes back through a new mint and completes again, after the erasure: that is a new record.
    after = "2026-11-04T08:00:00.000Z"
    coassemble.api.seed_tracking(101, "ada", commenced=after, completed=after, progress=100, score=70, passed=True)
    assert reconcile(store, settings, ["101"], sleep=Sleeps()).new == 1
    ada = record_of(store, "ada")
    assert (ada["verified_completed_at"], ada["verified_score"]) == (after, 70)


def test_the_sweep_purges_what_is_older_than_the_retention_period(store, coassemble):
    settings = coassemble.settings()
    settings.retention_days = 30
    old, recent = "2026-10-01T08:00:00.000Z", "2026-11-20T08:00:00.000Z"
    store.record_events(
        "101",
        "ada",
        "session-0001",
        [
            ReportedEvent(1, "course:progress", {"progress": 10}, old),
            ReportedEvent(2, "course:progress", {"progress": 20}, recent),
        ],
        recent,
    )
    line, failed = worker.sweep(store, settings, parse_iso("2026-11-28T08:00:00.000Z"), since=None)
    assert "Purged 1 reported events and 0 quiz answers older than 30 days." in line and not failed
    assert [row[3] for row in store.dump()["reported_events"]] == [2]  # seq 2 kept
    assert record_of(store, "ada")["progress"] == 20
