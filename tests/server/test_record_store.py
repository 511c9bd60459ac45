"""The storage interface on both backends: migrations (ordered, idempotent, safe when processes
start together), durability settings, concurrency, and clear sentences when it cannot open."""

import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from coursewire.server.evidence import ReportedEvent, VerifiedDelivery
from coursewire.server.store import StoreError, open_store
from coursewire.server.store.migrations import LATEST_VERSION, MIGRATIONS, TABLES
from coursewire.server.store.sqlite import SQLiteRecordStore
from coursewire.server.wsgi import Context, make_app

from .record_client import ROOT, WsgiClient, batch, event, settings

T = "2026-11-15T08:00:00.000Z"


def progress(seq, percent):
    return ReportedEvent(seq, "course:progress", {"progress": percent}, T)


def test_a_new_database_is_migrated_to_the_latest_version_once(database):
    store = open_store(database)
    try:
        assert store.schema_version() == LATEST_VERSION
        first = store.dump()
        assert [row[0] for row in first["schema_version"]] == [v for v, _, _ in MIGRATIONS]
        assert set(first) == set(TABLES)
    finally:
        store.close()
    again = open_store(database)  # a restart: nothing applied twice, nothing lost
    try:
        assert again.dump() == first
    finally:
        again.close()


def test_processes_starting_at_once_migrate_once(database):
    code = (
        "import sys; from coursewire.server.store import open_store; s = open_store(sys.argv[1]);"
        " print(s.schema_version()); s.close()"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, database],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outputs
    assert [o.strip() for o in outputs] == [str(LATEST_VERSION)] * 4
    store = open_store(database)
    try:
        assert [row[0] for row in store.dump()["schema_version"]] == [v for v, _, _ in MIGRATIONS]
    finally:
        store.close()


def test_workers_starting_together_on_a_new_sqlite_file_all_open_it(tmp_path):
    # Switching a brand-new file into WAL answered "database is locked" at once (SQLite does not
    # call the busy handler there) in about 1 start in 15; 200 rounds of 4 openers in step show it.
    paths = [str(tmp_path / ("round-%d.sqlite3" % n)) for n in range(200)]
    in_step = threading.Barrier(4)
    failures = []

    def worker():
        for path in paths:
            in_step.wait(timeout=60)
            try:
                open_store(path).close()
            except Exception as error:
                failures.append("%s: %r" % (os.path.basename(path), error))

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert failures == []
    store = open_store(paths[-1])
    try:
        assert [row[0] for row in store.dump()["schema_version"]] == [v for v, _, _ in MIGRATIONS]
    finally:
        store.close()


def test_a_database_from_a_newer_coursewire_is_refused_not_downgraded(store, database):
    store._transaction(
        lambda tx: tx.run(
            "INSERT INTO schema_version (version, summary, applied_at) VALUES (?, ?, ?)", (LATEST_VERSION + 1, "x", T)
        )
    )
    with pytest.raises(StoreError, match=r"newer than this Coursewire .*upgrade Coursewire\."):
        open_store(database)


def test_sqlite_uses_wal_and_full_sync(tmp_path):
    store = open_store(str(tmp_path / "r.sqlite3"))
    try:
        conn = store._pool.acquire()
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        finally:
            store._pool.release(conn)
    finally:
        store.close()


@pytest.mark.parametrize(
    "where, sentence",
    [
        ("missing-folder/r.sqlite3", "its folder does not exist"),
        ("", "is a folder"),
        ("not-a-database.sqlite3", "file is not a database"),
    ],
)
def test_an_unusable_sqlite_path_is_one_sentence(tmp_path, where, sentence):
    (tmp_path / "not-a-database.sqlite3").write_bytes(b"hello, this is not SQLite" * 100)
    with pytest.raises(StoreError, match=sentence) as caught:
        open_store(str(tmp_path / where) if where else str(tmp_path))
    assert "\n" not in str(caught.value)


@pytest.mark.postgres
def test_an_unreachable_postgres_is_one_sentence_without_the_password(postgres_server):
    from .record_client import free_port

    url = "postgresql://coursewire:hunter2-password@127.0.0.1:%d/records" % free_port()
    with pytest.raises(StoreError) as caught:
        open_store(url)
    text = str(caught.value)
    assert "cannot be reached" in text and "hunter2" not in text and "\n" not in text


def test_a_locked_sqlite_database_answers_503_and_acknowledges_nothing(tmp_path):
    path = str(tmp_path / "r.sqlite3")
    open_store(path).close()
    store = SQLiteRecordStore(path, busy_timeout_s=0.3)
    store.open()
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        context = Context(settings(), store=store)
        client = WsgiClient(make_app(context=context))
        token = context.issue_report_token("101", "ada")
        blocker.execute("BEGIN EXCLUSIVE")
        answer = client.request(
            "POST", "/api/events", batch(token, [event(1, "course:start")]), {"Content-Type": "application/json"}
        )
        assert answer.status == 503 and answer.json["error"].endswith("retry it later.")
        blocker.execute("ROLLBACK")
        assert store.dump()["reported_events"] == []
        answer = client.request(
            "POST", "/api/events", batch(token, [event(1, "course:start")]), {"Content-Type": "application/json"}
        )
        assert answer.json == {"applied": 1, "duplicates": 0}
    finally:
        blocker.close()
        store.close()


def test_concurrent_writers_of_one_record_lose_nothing(store):
    # 8 threads x 25 batches for one learner: every event applied once, the record's counters agree.
    errors = []

    def send(worker):
        try:
            for n in range(25):
                events = [progress(n * 2 + 1, worker * 10 + n % 10), progress(n * 2 + 2, 5)]
                assert store.record_events("101", "ada", "session-%04d" % worker, events, T) == (2, 0)
        except Exception as error:  # reported below, with the thread's failure
            errors.append(error)

    threads = [threading.Thread(target=send, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    page = store.course_records("101")
    (ada,) = page["records"]
    assert ada["reported_events"] == 400 == len(store.dump()["reported_events"])
    assert ada["progress"] == 79 and page["cursor"] == 200


def test_a_delivery_and_a_batch_for_the_same_record_keep_both_kinds_of_evidence(store):
    delivery = VerifiedDelivery("d-1", "course.commenced", "101", "ada", "Safety", T, 1, T, "{}")
    assert store.record_delivery(delivery) == "applied"
    assert store.record_delivery(delivery) == "duplicate"
    assert store.record_events("101", "ada", "session-0001", [progress(1, 40)], T) == (1, 0)
    (ada,) = store.course_records("101")["records"]
    assert (ada["verified_commenced_at"], ada["progress"], ada["status"]) == (T, 40, "in_progress")


def test_the_token_secret_is_generated_once_per_database(database):
    stores = [open_store(database) for _ in range(3)]
    try:
        secrets = set()
        threads = [threading.Thread(target=lambda s=s: secrets.add(s.token_secret())) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(secrets) == 1 and len(secrets.pop()) == 64
    finally:
        for s in stores:
            s.close()


def test_the_demo_database_file_is_ignored_by_git():
    with open(os.path.join(ROOT, ".gitignore"), encoding="utf-8") as f:
        assert "var/" in f.read().split()


def test_a_new_sqlite_database_and_its_wal_files_are_readable_by_their_owner_only(tmp_path):
    # Issue 19, item 8: the file keeps the generated report-token secret; it was created 0644.
    import stat

    from coursewire.server.store import open_store

    path = tmp_path / "record.sqlite3"
    old_umask = os.umask(0o022)  # the usual umask, which left it readable by everyone
    try:
        store = open_store(str(path))
    finally:
        os.umask(old_umask)
    try:
        assert store.token_secret()
        for name in ("record.sqlite3", "record.sqlite3-wal", "record.sqlite3-shm"):
            assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
    finally:
        store.close()


def test_a_migration_merged_after_a_later_one_is_still_applied(store, monkeypatch):
    # Migrations are numbered per branch (issue 20): a database that has 1003 from one branch
    # still gets 1002 once it is merged, instead of skipping every number below its newest.
    from coursewire.server.store import migrations

    first = [(1001, "a", ["CREATE TABLE merged_a (x INTEGER)"]), (1003, "c", ["CREATE TABLE merged_c (x INTEGER)"])]
    merged = first[:1] + [(1002, "b", ["CREATE TABLE merged_b (x INTEGER)"])] + first[1:]
    monkeypatch.setattr(migrations, "LATEST_VERSION", 1003)
    for listed, applied in ((first, [1001, 1003]), (merged, [1002]), (merged, [])):
        monkeypatch.setattr(migrations, "MIGRATIONS", listed)
        assert store._transaction(lambda tx: migrations.migrate(tx, "2026-12-04T00:00:00.000Z")) == applied
