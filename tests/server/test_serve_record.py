"""serve.py hosts the learner record's routes on the app origin, on the database --db names."""

import os
import subprocess
import sys
import time

from .record_client import (
    ADMIN_TOKEN,
    ROOT,
    WEBHOOK_SECRET,
    delivery_body,
    delivery_headers,
    free_port,
    http_request,
    server_env,
)


def start_serve_on(database, extra_args=()):
    port, harness_port = free_port(), free_port()
    env = server_env(database)
    env.pop("DATABASE_URL", None)
    env.pop("COURSEWIRE_DB", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            os.path.join(ROOT, "serve.py"),
            "--port",
            str(port),
            "--harness-port",
            str(harness_port),
            "--db",
            database,
        ]
        + list(extra_args),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, "http://127.0.0.1:%d" % port


def test_serve_py_records_deliveries_in_the_database_named_by_db(database):
    proc, base = start_serve_on(database)
    try:
        deadline = time.time() + 120
        while True:
            try:
                if http_request(base, "GET", "/api/records?course=101", timeout=2).status == 401:
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            assert time.time() < deadline, "serve.py did not answer"
            time.sleep(0.1)
        body = delivery_body("course.completed", course="101", learner="ada")
        answer = http_request(base, "POST", "/webhooks/coassemble", body, delivery_headers(body))
        assert (answer.status, answer.json) == (200, {"status": "applied"})
        page = http_request(
            base, "GET", "/api/records?course=101", headers={"Authorization": "Bearer " + ADMIN_TOKEN}
        ).json
        assert [(r["learner"], r["status"]) for r in page["records"]] == [("ada", "completed_verified")]
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert "Learner record: %s database" % ("PostgreSQL" if database.startswith("postgres") else "SQLite") in output
    assert WEBHOOK_SECRET not in output and ADMIN_TOKEN not in output


def test_serve_py_refuses_a_db_it_cannot_open_in_one_sentence(tmp_path):
    proc, _ = start_serve_on(str(tmp_path / "no-such-folder" / "record.sqlite3"))
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 2
    assert output.strip().splitlines()[-1].startswith("serve.py: Cannot create the SQLite database")
    assert "Traceback" not in output
