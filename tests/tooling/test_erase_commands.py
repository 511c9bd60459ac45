"""`coursewire webhooks register|list|delete`, `coursewire erase` and `coursewire purge`, run as a user
runs them (`python -m coursewire`, configured by the environment), against the simulated Coassemble
(harness/api.py) and a Coursewire receiver, each served over real HTTP."""

import json
import os
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from server.record_client import ADMIN_TOKEN, batch, event, settings

from coursewire.server.coassemble import mint
from coursewire.server.store import open_store
from coursewire.server.times import iso
from coursewire.server.wsgi import Context, make_app

from conftest import ROOT
from serving import free_port

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from harness.api import make_app as make_harness_api  # noqa: E402

WORKSPACE, KEY = "1000", "cli-test-key-" + "5c" * 20
DAY = 86400


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served():
    """serve(app) -> base URL, on a free port in a daemon thread; all stopped at the end."""
    servers = []

    def serve(app):
        server = make_server("127.0.0.1", free_port(), app, server_class=_Server, handler_class=_Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d" % server.server_address[1]

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def coassemble(served):
    return served(make_harness_api(WORKSPACE, KEY, webhook_backoff_s=0.2))


def coursewire(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COASSEMBLE_", "COURSEWIRE_", "DATABASE_URL"))}
    clean.update(PYTHONPATH=ROOT, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "coursewire"] + list(args),
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def coassemble_env(url):
    return {"COASSEMBLE_API_URL": url, "COASSEMBLE_WORKSPACE_ID": WORKSPACE, "COASSEMBLE_API_KEY": KEY}


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def wait_for(check, what, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("never happened: " + what)


def test_register_prints_the_secret_once_and_deliveries_verify_with_it(coassemble, served, tmp_path):
    env = coassemble_env(coassemble)
    assert coursewire("webhooks", "list", env=env).stdout == "No webhook endpoint is registered.\n"
    # The receiver, listening before it knows the secret (its address is what gets registered).
    store = open_store(str(tmp_path / "record.sqlite3"))
    receiver_settings = settings(webhook_secret="whsec_the-old-one")
    receiver = served(make_app(context=Context(receiver_settings, store=store)))
    done = coursewire("webhooks", "register", receiver + "/webhooks/coassemble", env=env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "Registered webhook endpoint 1 for %s/webhooks/coassemble "
        "(course.created, course.commenced, course.completed)." % receiver
    )
    secret = lines[3].strip()
    assert secret.startswith("whsec_") and done.stdout.count(secret) == 2  # the value, and the line to store it
    assert 'COASSEMBLE_WEBHOOK_SECRET="<the secrets already there> %s"' % secret in done.stdout
    # Listed without its secret.
    listed = coursewire("webhooks", "list", env=env)
    assert (
        listed.stdout
        == "1  enabled   %s/webhooks/coassemble  course.created, course.commenced, course.completed\n" % receiver
        and secret not in listed.stdout
    )
    # Stored as printed: appended to the old secret. Then a learner completes the course at Coassemble.
    receiver_settings.webhook_secret = "whsec_the-old-one " + secret
    url = mint("101", "ada@example.com", settings=settings(api_url=coassemble, workspace_id=WORKSPACE, api_key=KEY))
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(url.url).query)["token"][0]
    request = urllib.request.Request(
        coassemble + "/api/tracking",
        method="POST",
        data=json.dumps({"token": token, "event": "completed"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()

    # Both deliveries (commenced, then completed) arrive on their own thread: wait for the second.
    def verified():
        return [r for r in store.course_records("101")["records"] if r["status"] == "completed_verified"]

    record = wait_for(verified, "the verified completion arrived")[0]
    assert record["learner"] == "ada@example.com"
    assert [r["learner"] for r in store.course_records("101")["records"]] == ["ada@example.com"]
    deliveries = get_json(coassemble + "/api/deliveries")["deliveries"]
    assert sorted(d["event"] for d in deliveries) == ["course.commenced", "course.completed"]
    assert all(d["state"] == "delivered" and [a["status"] for a in d["attempts"]] == [200] for d in deliveries)
    # The old endpoint is deleted; the list says so.
    assert coursewire("webhooks", "delete", "1", env=env).stdout == "Deleted webhook endpoint 1.\n"
    assert coursewire("webhooks", "list", env=env).stdout == "No webhook endpoint is registered.\n"
    store.close()


@pytest.mark.parametrize(
    "args, env, sentence",
    [
        (["webhooks", "list"], {}, "coursewire: Coassemble is not configured: set COASSEMBLE_API_KEY on the server.\n"),
        (["webhooks", "register", "ftp://x"], {}, "coursewire: URL must be the receiver's https:// address"),
        (
            ["webhooks", "register", "https://x.example/w", "--events", "course.deleted"],
            {},
            "coursewire: Argument --events: invalid choice: 'course.deleted'",
        ),
        (["webhooks", "delete", "one"], {}, "coursewire: ID must be an endpoint's number"),
        (["erase"], {}, "coursewire: Name one learner ID, or give --pending (see --help).\n"),
        (["erase", "ada"], {}, "coursewire: No learner record is configured: set DATABASE_URL or COURSEWIRE_DB"),
        (["erase", " ada"], {}, "coursewire: ID must not begin or end with spaces.\n"),
        (["purge"], {}, "coursewire: Set COURSEWIRE_RETENTION_DAYS to the number of days reported events are kept.\n"),
        (
            ["purge"],
            {"COURSEWIRE_RETENTION_DAYS": "soon"},
            "coursewire: COURSEWIRE_RETENTION_DAYS must be a whole number",
        ),
    ],
)
def test_command_line_mistakes_are_one_sentence(args, env, sentence):
    done = coursewire(*args, env=env)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith(sentence) and len(done.stderr.splitlines()) == 1, done.stderr


def test_coassemble_refusing_a_registration_is_one_sentence_without_the_key(coassemble):
    done = coursewire("webhooks", "list", env=dict(coassemble_env(coassemble), COASSEMBLE_API_KEY="wrong-key-1234567"))
    assert done.returncode == 2 and done.stderr == (
        "coursewire: Coassemble refused the API key for the webhook list (HTTP 401): check COASSEMBLE_API_KEY.\n"
    )


def seed_learner(store, learner, when):
    context = Context(settings(), clock=lambda: when + 60, store=store)
    token = context.issue_report_token("101", learner)
    client_app = make_app(context=context)
    from wsgi_client import call_wsgi

    answer = call_wsgi(
        client_app,
        "POST",
        "/api/events",
        batch(
            token,
            [
                event(1, "course:start", time_text=iso(when)),
                event(2, "screen:answer", {"id": "q", "question": "Q", "answer": "A", "correct": True}, iso(when)),
            ],
        ),
        {"Content-Type": "application/json"},
    )
    assert answer.status == 200 and answer.json["applied"] == 2, answer


def test_a_failed_erasure_at_coassemble_is_retried_by_the_command(coassemble, served, tmp_path):
    database = str(tmp_path / "record.sqlite3")
    store = open_store(database)
    seed_learner(store, "ada@example.com", time.time() - 60)
    mint("101", "ada@example.com", settings=settings(api_url=coassemble, workspace_id=WORKSPACE, api_key=KEY))
    # The route, while Coassemble cannot be reached: erased here, reported as failed there.
    down = "http://127.0.0.1:%d" % free_port()
    app = served(make_app(context=Context(settings(api_url=down, workspace_id=WORKSPACE, api_key=KEY), store=store)))
    request = urllib.request.Request(
        app + "/api/learners/ada%40example.com", method="DELETE", headers={"Authorization": "Bearer " + ADMIN_TOKEN}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert answer["coassemble"] == "failed" and answer["removed"]["records"] == 1
    assert get_json(coassemble + "/api/erasures")["erasures"] == []
    # The command, once Coassemble is back: asks it again (nothing is left to remove here).
    env = dict(coassemble_env(coassemble), COURSEWIRE_DB=database)
    done = coursewire("erase", "ada@example.com", env=env)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "ada@example.com: 0 rows removed here; Coassemble: erased.\n"
    assert get_json(coassemble + "/api/erasures")["erasures"] == [
        {"method": "DELETE", "path": "user", "identifier": "ada@example.com", "found": True}
    ]
    assert coursewire("erase", "--pending", env=env).stdout == "No erasure is waiting for Coassemble.\n"
    # A learner the record never held is not "erased": one sentence, status 2.
    unknown = coursewire("erase", "nobody@example.com", env=env)
    assert (
        unknown.returncode == 2
        and unknown.stderr == "coursewire: Nothing is held about learner 'nobody@example.com': nothing to erase.\n"
    )
    store.close()


def test_erase_by_the_command_alone_and_a_failure_is_status_1(tmp_path):
    database = str(tmp_path / "record.sqlite3")
    store = open_store(database)
    seed_learner(store, "grace", time.time() - 60)
    down = "http://127.0.0.1:%d" % free_port()
    done = coursewire("erase", "grace", env=dict(coassemble_env(down), COURSEWIRE_DB=database))
    assert done.returncode == 1 and done.stderr == ""
    assert done.stdout.startswith(
        "grace: 5 rows removed here; Coassemble: failed (Erased here, but not at "
        "Coassemble: Coassemble could not be reached"
    )
    assert KEY not in done.stdout
    assert store.course_records("101")["records"] == [] and store.pending_coassemble_erasures() == ["grace"]
    store.close()


def test_purge_removes_only_what_is_older_than_the_period(tmp_path):
    database = str(tmp_path / "record.sqlite3")
    store = open_store(database)
    seed_learner(store, "old", time.time() - 40 * DAY)
    seed_learner(store, "recent", time.time() - 5 * DAY)
    done = coursewire("purge", env={"COURSEWIRE_DB": database, "COURSEWIRE_RETENTION_DAYS": "30"})
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("Purged 2 reported events and 1 quiz answers older than 30 days (before ")
    dump = store.dump()
    assert sorted(set(row[1] for row in dump["reported_events"])) == ["recent"]
    assert sorted(row[1] for row in dump["records"]) == ["old", "recent"]  # records are kept
    store.close()
