"""The server at scale: PostgreSQL with 100,000 learners x 3 courses and 5 million reported events,
SQLite at 10,000 learners, through gunicorn (2 workers) as a host runs it. Prints figures; asserts
nothing about time.

    .venv/bin/python bench/scale.py                        # the whole run (~5-10 min on 2 cores)
    .venv/bin/python bench/scale.py --learners 20000 --events 1000000 --sqlite-learners 2000   # quicker

Figures (issue 20's goals in brackets):
- records page: `GET /api/records?course=&limit=100&page=` walking every page of one course, p50/p95
  [p95 <= 100 ms]; and a `since=` poll after one change;
- summary: `GET /api/records/summary`, p50/p95;
- webhooks during a reconcile: signed `course.completed` deliveries sent one after another while
  `coursewire reconcile` reads 100,000 trackings from the simulated Coassemble, p50/p95 [p95 <= 100 ms];
- reconcile rate, trackings per second [>= 1,000/s];
- erase: `DELETE /api/learners/<id>` of learners holding 3 records each, p50/p95;
- the same records page, summary and webhook figures on SQLite at 10,000 learners.
The report page's first render at 10,000 learners is measured in the browser by
tests/browser/test_report_scale.py (run it with -s to see its figures).

Everything runs on this machine: PostgreSQL and gunicorn compete with the load generator for the same
cores, so the figures are upper bounds of what a dedicated server would show. The machine's load
average is printed before and after.
"""

import argparse
import json
import math
import os
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "bench")]

from scale_fill import course_names, fill, learner_name  # noqa: E402
from server.conftest import PostgresServer  # noqa: E402
from server.record_client import (  # noqa: E402
    ADMIN_TOKEN,
    WEBHOOK_SECRET,
    Gunicorn,
    delivery_body,
    delivery_headers,
    http_request,
    percentile,
)

from coursewire.server.store import open_store  # noqa: E402
from harness import api as harness_api  # noqa: E402

WORKSPACE, API_KEY = "4242", "scale-bench-key"
ADMIN = {"Authorization": "Bearer " + ADMIN_TOKEN}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve_simulated_coassemble(app):
    """The simulated Coassemble API on a free port, in this process's threads: its base URL."""
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


def timed(call):
    started = time.perf_counter()
    answer = call()
    return answer, (time.perf_counter() - started) * 1000


def figures(name, values_ms, unit="ms"):
    if not values_ms:
        return {"figure": name, "n": 0}
    return {
        "figure": name,
        "n": len(values_ms),
        "p50": percentile(values_ms, 0.5),
        "p95": percentile(values_ms, 0.95),
        "max": max(values_ms),
        "unit": unit,
    }


def walk_records(base, course, limit=100):
    """Every page of `course`: (latencies in ms, learners seen, pages)."""
    latencies, seen, page, pages = [], [], None, 0
    while True:
        query = {"course": course, "limit": str(limit)}
        if page:
            query["page"] = page
        answer, ms = timed(
            lambda query=query: http_request(
                base, "GET", "/api/records?" + urllib.parse.urlencode(query), headers=ADMIN, timeout=60
            )
        )
        if answer.status != 200:
            raise RuntimeError("records page answered %d: %s" % (answer.status, answer.body[:300]))
        latencies.append(ms)
        value = answer.json
        seen.extend(record["learner"] for record in value["records"])
        pages += 1
        page = value.get("next_page")
        if not page:
            return latencies, seen, pages


def summary_latencies(base, course, times=20):
    latencies = []
    for _ in range(times):
        answer, ms = timed(
            lambda: http_request(base, "GET", "/api/records/summary?course=" + course, headers=ADMIN, timeout=60)
        )
        if answer.status != 200:
            raise RuntimeError("summary answered %d: %s" % (answer.status, answer.body[:300]))
        latencies.append(ms)
    return latencies


def send_webhook(base, course, learner):
    body = delivery_body("course.completed", course=course, learner=learner, occurred_at="2026-11-29T10:00:00.000Z")
    answer, ms = timed(
        lambda: http_request(
            base, "POST", "/webhooks/coassemble", body, delivery_headers(body, delivery=str(uuid.uuid4())), timeout=60
        )
    )
    if answer.status not in (200, 202):
        raise RuntimeError("webhook answered %d: %s" % (answer.status, answer.body[:300]))
    return ms


def webhooks_while(base, course, first_learner, running):
    """Send deliveries one after another while `running()`; their latencies in ms."""
    latencies, n = [], first_learner
    while running():
        latencies.append(send_webhook(base, course, learner_name(n)))
        n += 1
    return latencies


def since_poll(base, course):
    """One change, then the poll that picks it up: (ms, records answered)."""
    answer = http_request(base, "GET", "/api/records?course=%s&limit=1" % course, headers=ADMIN, timeout=60)
    cursor = answer.json["cursor"]
    send_webhook(base, course, learner_name(7))
    answer, ms = timed(
        lambda: http_request(
            base, "GET", "/api/records?course=%s&since=%d" % (course, cursor), headers=ADMIN, timeout=60
        )
    )
    return ms, len(answer.json["records"])


def reconcile(database, api_url, course, env_extra):
    env = dict(
        os.environ,
        PYTHONPATH=ROOT,
        COASSEMBLE_API_URL=api_url,
        COASSEMBLE_WORKSPACE_ID=WORKSPACE,
        COASSEMBLE_API_KEY=API_KEY,
        COASSEMBLE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        **env_extra,
    )
    env.pop("COURSEWIRE_DB", None)
    env["DATABASE_URL" if database.startswith("postgres") else "COURSEWIRE_DB"] = database
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "coursewire", "reconcile", "--course", course],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError("reconcile exited %d: %s" % (done.returncode, (done.stderr or done.stdout)[-500:]))
    return elapsed, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def erase_latencies(base, learners):
    latencies = []
    for learner in learners:
        answer, ms = timed(
            lambda learner=learner: http_request(
                base, "DELETE", "/api/learners/" + urllib.parse.quote(learner, safe=""), headers=ADMIN, timeout=60
            )
        )
        if answer.status != 200:
            raise RuntimeError("erase answered %d: %s" % (answer.status, answer.body[:300]))
        latencies.append(ms)
    return latencies


def run_backend(label, database, learners, courses, events, trackings, log_dir, results):
    store = open_store(database)
    try:
        per_record = max(2, math.ceil(events / (learners * courses * 29 / 30)))
        started = time.perf_counter()
        steps = fill(store, learners, courses, per_record)
        counts = store._transaction(
            lambda tx: {
                table: tx.run("SELECT COUNT(*) FROM %s" % table).fetchone()[0]
                for table in ("records", "reported_events", "quiz_answers", "webhook_deliveries")
            },
            write=False,
        )
    finally:
        store.close()
    fill_s = time.perf_counter() - started
    print(
        "  %s filled in %.1f s: %s" % (label, fill_s, ", ".join("%s %s" % (k, f"{v:,}") for k, v in counts.items())),
        flush=True,
    )
    results.append({"figure": "%s fill" % label, "seconds": fill_s, "steps": steps, "rows": counts})

    simulated = harness_api.make_app(WORKSPACE, API_KEY)
    names = course_names(courses)
    if trackings:
        seed_trackings(simulated, names[0], min(trackings, learners))
    api_server, api_url = serve_simulated_coassemble(simulated)
    server = Gunicorn(
        database,
        workers=2,
        log_path=os.path.join(log_dir, "gunicorn-%s.log" % label),
        COASSEMBLE_API_URL=api_url,
        COASSEMBLE_WORKSPACE_ID=WORKSPACE,
        COASSEMBLE_API_KEY=API_KEY,
    )
    server.start()
    try:
        latencies, seen, pages = walk_records(server.base, names[0])
        assert len(seen) == len(set(seen)) == learners, (len(seen), len(set(seen)), learners)
        results.append(dict(figures("%s records page (limit=100, %d pages)" % (label, pages), latencies)))
        results.append(figures("%s summary" % label, summary_latencies(server.base, names[0])))
        ms, changed = since_poll(server.base, names[1])
        results.append({"figure": "%s since= poll after one change" % label, "ms": ms, "records": changed})
        results.append(
            figures(
                "%s webhook, idle" % label,
                [send_webhook(server.base, names[1], learner_name(n)) for n in range(1, 201)],
            )
        )
        if trackings:
            finished = threading.Event()
            box = {}

            def run_reconcile():
                try:
                    box["result"] = reconcile(database, api_url, names[0], {})
                finally:
                    finished.set()

            thread = threading.Thread(target=run_reconcile)
            thread.start()
            during = webhooks_while(server.base, names[2], 1, lambda: not finished.is_set())
            thread.join()
            elapsed, line = box["result"]
            results.append(figures("%s webhook during reconcile" % label, during))
            results.append(
                {
                    "figure": "%s reconcile of %d trackings" % (label, trackings),
                    "seconds": elapsed,
                    "per_second": trackings / elapsed,
                    "summary": line,
                }
            )
        results.append(
            figures(
                "%s erase (3 records each)" % label,
                erase_latencies(server.base, [learner_name(n) for n in range(101, 121)]),
            )
        )
    finally:
        server.stop()
        api_server.shutdown()


def seed_trackings(simulated, course, count):
    """`count` trackings of `course` in the simulated Coassemble (no webhooks), half completed with a score."""
    for n in range(1, count + 1):
        done = n % 2 == 0
        simulated.seed_tracking(
            course,
            learner_name(n),
            commenced="2026-11-28T08:00:00.000Z",
            completed="2026-11-28T09:30:00.000Z" if done else None,
            progress=100 if done else n % 100,
            score=n % 101 if done else None,
            passed=(n % 101 >= 50) if done else None,
        )


def print_results(results):
    for item in results:
        if "p50" in item:
            print(
                "  %-58s p50 %7.1f  p95 %7.1f  max %7.1f ms  (n=%d)"
                % (item["figure"], item["p50"], item["p95"], item["max"], item["n"])
            )
        elif "per_second" in item:
            print(
                "  %-58s %.1f s, %.0f trackings/s  [%s]"
                % (item["figure"], item["seconds"], item["per_second"], item["summary"])
            )
        elif "ms" in item:
            print("  %-58s %.1f ms, %d record(s) answered" % (item["figure"], item["ms"], item["records"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=100000)
    parser.add_argument("--courses", type=int, default=3)
    parser.add_argument("--events", type=int, default=5000000)
    parser.add_argument("--trackings", type=int, default=100000)
    parser.add_argument("--sqlite-learners", type=int, default=10000)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results", "scale.json"))
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    print(
        "Scale bench, %s UTC, %d cores, load average %.2f %.2f %.2f"
        % ((time.strftime("%Y-%m-%d %H:%M", time.gmtime()), os.cpu_count()) + load_before),
        flush=True,
    )
    results = []
    log_dir = tempfile.mkdtemp(prefix="coursewire-scale-")
    postgres = PostgresServer()
    postgres.start()
    try:
        name, url = postgres.create_database()
        run_backend(
            "PostgreSQL %s learners" % f"{args.learners:,}",
            url,
            args.learners,
            args.courses,
            args.events,
            args.trackings,
            log_dir,
            results,
        )
    finally:
        postgres.stop()
    sqlite_path = os.path.join(log_dir, "scale.sqlite3")
    sqlite_events = args.events * args.sqlite_learners // max(1, args.learners)
    run_backend(
        "SQLite %s learners" % f"{args.sqlite_learners:,}",
        sqlite_path,
        args.sqlite_learners,
        args.courses,
        sqlite_events,
        args.sqlite_learners,
        log_dir,
        results,
    )
    load_after = os.getloadavg()
    print()
    print_results(results)
    print("  load average after: %.2f %.2f %.2f" % load_after)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(
            {
                "when": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
                "cores": os.cpu_count(),
                "load_before": load_before,
                "load_after": load_after,
                "results": results,
            },
            f,
            indent=1,
        )
    print("  written to %s" % os.path.relpath(args.output, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
