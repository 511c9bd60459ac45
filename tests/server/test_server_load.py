"""Load: 1,000 signed deliveries from 20 concurrent senders, 10 % of them repeats of another, through
gunicorn (2 workers) on each backend -> exactly the distinct ones applied. Prints the figures;
never fails on timing."""

import queue
import random
import threading
import time

from coursewire.server.store import open_store

from .record_client import Gunicorn, delivery_body, delivery_headers, http_request, percentile, print_figures

DELIVERIES = 1000
REPEATS = 100
SENDERS = 20


def test_1000_deliveries_from_20_senders_with_10_percent_repeats(database, backend, tmp_path, capsys):
    rng = random.Random(13)
    distinct = []
    for n in range(DELIVERIES - REPEATS):
        body = delivery_body(
            "course.completed",
            course="load",
            learner="learner-%04d" % n,
            occurred_at="2026-11-28T08:%02d:%02d.000Z" % (n // 60 % 60, n % 60),
        )
        distinct.append((body, "delivery-%04d" % n))
    work = distinct + [rng.choice(distinct) for _ in range(REPEATS)]
    rng.shuffle(work)
    pending = queue.Queue()
    for item in work:
        pending.put(item)

    server = Gunicorn(database, workers=2, log_path=str(tmp_path / "gunicorn.log")).start()
    answers, latencies, failures = [], [], []
    lock = threading.Lock()

    def sender():
        while True:
            try:
                body, delivery = pending.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            try:
                answer = http_request(
                    server.base,
                    "POST",
                    "/webhooks/coassemble",
                    body,
                    delivery_headers(body, delivery=delivery),
                    timeout=60,
                )
            except OSError as error:
                with lock:
                    failures.append(repr(error))
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                answers.append((delivery, answer.status, answer.json.get("status")))

    try:
        started = time.perf_counter()
        threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.stop()

    assert not failures, failures[:3]
    statuses = [status for _, status, _ in answers]
    outcomes = [outcome for _, _, outcome in answers]
    assert statuses == [200] * DELIVERIES
    assert outcomes.count("applied") == DELIVERIES - REPEATS and outcomes.count("duplicate") == REPEATS
    applied_ids = [delivery for delivery, _, outcome in answers if outcome == "applied"]
    assert len(set(applied_ids)) == len(applied_ids)  # no delivery applied twice

    store = open_store(database)
    try:
        dump = store.dump()
        page = store.course_records("load")
    finally:
        store.close()
    assert sorted(row[0] for row in dump["webhook_deliveries"]) == sorted(d for _, d in distinct)
    assert len(page["records"]) == DELIVERIES - REPEATS
    assert all(r["status"] == "completed_verified" for r in page["records"])
    assert page["cursor"] == DELIVERIES - REPEATS  # one change per applied delivery, none per repeat

    print_figures(
        capsys,
        "webhook load on %s through gunicorn (2 workers)" % backend,
        [
            "%d deliveries (%d distinct, %d repeats) from %d senders in %.2f s: %.0f deliveries/s"
            % (DELIVERIES, DELIVERIES - REPEATS, REPEATS, SENDERS, elapsed, DELIVERIES / elapsed),
            "latency p50 %.1f ms, p95 %.1f ms, max %.1f ms"
            % (percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000, max(latencies) * 1000),
            "applied %d, answered duplicate %d, stored deliveries %d, records %d"
            % (
                outcomes.count("applied"),
                outcomes.count("duplicate"),
                len(dump["webhook_deliveries"]),
                len(page["records"]),
            ),
        ],
    )
