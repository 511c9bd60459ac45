"""Kill: gunicorn (2 workers) receives webhook deliveries and report batches from concurrent
senders, is SIGKILLed (master and workers at once) in the middle, and restarted on the same
database (three times in one run). Senders retry only what was not acknowledged. Then: every delivery and event answered
2xx is in the database (checked while the server is dead, and again at the end), and nothing is
applied twice. On both backends; the figures are printed."""

import http.client
import threading
import time

from coursewire.server.store import open_store
from coursewire.server.wsgi import Context

from .record_client import (
    Gunicorn,
    batch,
    delivery_body,
    delivery_headers,
    event,
    http_request,
    print_figures,
    settings,
)

DELIVERY_SENDERS, DELIVERIES_EACH = 8, 40
REPORT_SENDERS, BATCHES_EACH, EVENTS_PER_BATCH = 8, 25, 4
KILL_AFTER_FRACTIONS = (0.25, 0.5, 0.75)  # three kills, each followed by a restart
RUN_LIMIT_S = 240  # bounded: a sender that cannot finish by then fails the test


class Ledger:
    """What the senders were told, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked_deliveries = {}  # delivery id -> ["applied" | "duplicate", ...] (one per 2xx)
        self.acked_events = set()  # (learner, session, seq)
        self.applied_events = 0  # the sum of "applied" over acknowledged batches
        self.attempts = self.refused = 0

    def acked(self):
        with self.lock:
            return len(self.acked_deliveries) + len(self.acked_events) // EVENTS_PER_BATCH


def send_until_acknowledged(server_holder, method, path, make_request, ledger, deadline):
    """POST until a 2xx; a connection error or 5xx means "not acknowledged": wait and retry."""
    delay = 0.05
    while time.time() < deadline:
        body, headers = make_request()
        with ledger.lock:
            ledger.attempts += 1
        try:
            answer = http_request(server_holder["base"], method, path, body, headers, timeout=20)
            if 200 <= answer.status < 300:
                return answer
            assert answer.status >= 500, answer  # a 4xx would be a bug in this test or the server
        except (OSError, http.client.HTTPException):
            pass  # refused, reset, or cut off mid-answer by the kill: not acknowledged
        with ledger.lock:
            ledger.refused += 1
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
    raise AssertionError("not acknowledged before the run's time limit")


def test_a_killed_server_loses_nothing_it_acknowledged_and_applies_nothing_twice(database, backend, tmp_path, capsys):
    store = open_store(database)
    try:
        context = Context(settings(token_secret=None), store=store)  # the server's own, database-kept secret
        tokens = {"learner-%d" % n: context.issue_report_token("kill", "learner-%d" % n) for n in range(REPORT_SENDERS)}
    finally:
        store.close()
    log = str(tmp_path / "gunicorn.log")
    server = Gunicorn(database, workers=2, log_path=log).start()
    holder = {"base": server.base}
    ledger = Ledger()
    deadline = time.time() + RUN_LIMIT_S
    errors = []

    def deliveries(sender):
        try:
            for n in range(DELIVERIES_EACH):
                delivery = "d-%d-%03d" % (sender, n)
                body = delivery_body("course.completed", course="kill", learner="webhook-%d-%03d" % (sender, n))
                answer = send_until_acknowledged(
                    holder,
                    "POST",
                    "/webhooks/coassemble",
                    lambda body=body, delivery=delivery: (body, delivery_headers(body, delivery=delivery)),
                    ledger,
                    deadline,
                )
                with ledger.lock:
                    ledger.acked_deliveries.setdefault(delivery, []).append(answer.json["status"])
        except Exception as error:
            errors.append(error)

    def reports(sender):
        learner, session = "learner-%d" % sender, "session-kill-%d" % sender
        try:
            for n in range(BATCHES_EACH):
                seqs = range(n * EVENTS_PER_BATCH + 1, (n + 1) * EVENTS_PER_BATCH + 1)
                events = [
                    event(seq, "course:progress", {"progress": seq % 101})
                    if seq % 2
                    else event(seq, "screen:answer", {"id": "q%d" % seq, "answer": "a", "correct": True})
                    for seq in seqs
                ]
                body = batch(tokens[learner], events, session=session)
                answer = send_until_acknowledged(
                    holder,
                    "POST",
                    "/api/events",
                    lambda body=body: (body, {"Content-Type": "application/json"}),
                    ledger,
                    deadline,
                )
                with ledger.lock:
                    ledger.applied_events += answer.json["applied"]
                    ledger.acked_events.update((learner, session, seq) for seq in seqs)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=deliveries, args=(s,)) for s in range(DELIVERY_SENDERS)] + [
        threading.Thread(target=reports, args=(s,)) for s in range(REPORT_SENDERS)
    ]
    total = DELIVERY_SENDERS * DELIVERIES_EACH + REPORT_SENDERS * BATCHES_EACH
    started = time.time()
    for t in threads:
        t.start()
    kills = []
    lost_at_kills = 0
    try:
        for fraction in KILL_AFTER_FRACTIONS:
            while ledger.acked() < fraction * total and time.time() < deadline:
                time.sleep(0.002)
            server.kill()  # SIGKILL to master and workers, mid-stream
            killed_at = time.time() - started
            with ledger.lock:
                acked_deliveries_at_kill = set(ledger.acked_deliveries)
                acked_events_at_kill = set(ledger.acked_events)
            # While the server is dead: is everything it acknowledged on disk?
            lost_at_kills += _missing(database, acked_deliveries_at_kill, acked_events_at_kill)
            server = Gunicorn(database, workers=2, port=server.port, log_path=log).start()
            kills.append((killed_at, len(acked_deliveries_at_kill), len(acked_events_at_kill), time.time() - started))
        for t in threads:
            t.join(RUN_LIMIT_S)
    finally:
        server.stop()
    assert not errors, errors[:3]

    lost_at_end = _missing(database, set(ledger.acked_deliveries), ledger.acked_events)
    store = open_store(database)
    try:
        dump = store.dump()
        page = store.course_records("kill")
    finally:
        store.close()
    # Deliveries: each stored once (primary key) and answered "applied" at most once.
    applied_twice = [d for d, answers in ledger.acked_deliveries.items() if answers.count("applied") > 1]
    assert sorted(row[0] for row in dump["webhook_deliveries"]) == sorted(ledger.acked_deliveries)
    # Events: each record's counter equals its distinct stored events (an event applied twice
    # would count twice), and its quiz answers equal its distinct answer events.
    records = {r["learner"]: r for r in page["records"]}
    events_by_learner, answers_by_learner = {}, {}
    for row in dump["reported_events"]:
        events_by_learner[row[1]] = events_by_learner.get(row[1], 0) + 1
    for row in dump["quiz_answers"]:
        answers_by_learner[row[1]] = answers_by_learner.get(row[1], 0) + 1
    double_applied = [
        learner for learner, count in events_by_learner.items() if records[learner]["reported_events"] != count
    ]
    expected_events = BATCHES_EACH * EVENTS_PER_BATCH
    assert events_by_learner == {"learner-%d" % s: expected_events for s in range(REPORT_SENDERS)}
    assert answers_by_learner == {"learner-%d" % s: expected_events // 2 for s in range(REPORT_SENDERS)}
    assert all(records["learner-%d" % s]["progress"] == 99 for s in range(REPORT_SENDERS))
    assert ledger.applied_events <= len(dump["reported_events"])  # an applied answer is never repeated
    webhook_records = [r for r in page["records"] if r["learner"].startswith("webhook-")]
    assert len(webhook_records) == DELIVERY_SENDERS * DELIVERIES_EACH
    assert lost_at_kills == 0 and lost_at_end == 0 and not applied_twice and not double_applied

    # Committed just before a kill but never answered: the retry is answered "duplicate".
    events_in_flight = len(dump["reported_events"]) - ledger.applied_events
    deliveries_in_flight = sum(1 for answers in ledger.acked_deliveries.values() if "applied" not in answers)
    lines = [
        "kill %d after %.2f s (%d deliveries, %d events acknowledged so far), back up after %.2f s" % ((n + 1,) + kill)
        for n, kill in enumerate(kills)
    ]
    print_figures(
        capsys,
        "SIGKILL x%d mid-run on %s (gunicorn, 2 workers)" % (len(kills), backend),
        lines
        + [
            "acknowledged: %d deliveries, %d events (%d requests; %d unacknowledged and retried)"
            % (len(ledger.acked_deliveries), len(ledger.acked_events), ledger.attempts, ledger.refused),
            "applied: %d deliveries, %d events; committed but unanswered at a kill, then answered duplicate:"
            " %d deliveries, %d events"
            % (len(dump["webhook_deliveries"]), len(dump["reported_events"]), deliveries_in_flight, events_in_flight),
            "lost = %d (checked at each kill: %d), duplicates = %d"
            % (lost_at_end, lost_at_kills, len(applied_twice) + len(double_applied)),
        ],
    )


def _missing(database, deliveries, events):
    """How many acknowledged deliveries and events the database does not hold."""
    store = open_store(database)
    try:
        dump = store.dump()
    finally:
        store.close()
    stored_deliveries = {row[0] for row in dump["webhook_deliveries"]}
    stored_events = {(row[1], row[2], row[3]) for row in dump["reported_events"]}
    return len(deliveries - stored_deliveries) + len(events - stored_events)
