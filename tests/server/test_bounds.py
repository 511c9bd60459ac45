"""The bounds (coursewire/server/limits.py), on SQLite and PostgreSQL: a flood of reports meets
429 with Retry-After while other learners' reports still land; a page session's lifetime caps;
caps on bytes; wrong admin tokens (Bearer and staff sign-in) lock an address, then everyone,
out; the counters are the database's, so two apps (two processes) count together. Windows are
moved with the injected clock, never by waiting."""

import json
import sqlite3

import pytest

from coursewire.server.limits import Limits
from coursewire.server.store import open_store
from coursewire.server.store.sqlite import SQLiteRecordStore
from coursewire.server.wsgi import Context, make_app

from .record_client import ADMIN_TOKEN, Clock, WsgiClient, batch, event, free_port, settings

NOW = 1_795_000_000  # 2026-11-18T11:06:40Z
JSON = {"Content-Type": "application/json"}
SMALL = dict(
    report_window_s=600,
    report_events=30,
    report_bytes=10**9,
    session_events=10**6,
    session_bytes=10**9,
    guess_window_s=900,
    guesses_per_address=3,
    guesses_overall=5,
)


@pytest.fixture
def clock():
    return Clock(NOW)


def make_client(store, clock, **limits):
    context = Context(settings(limits=Limits(**dict(SMALL, **limits))), clock=clock, store=store)
    return context, WsgiClient(make_app(context=context))


def from_address(client, address):
    """The same app, as a client at `address` (REMOTE_ADDR, as the WSGI server gives it)."""
    app = client.app
    return WsgiClient(lambda environ, start_response: app(dict(environ, REMOTE_ADDR=address), start_response))


def events(first, count, data=None):
    return [event(seq, "course:progress", data or {"progress": 1}) for seq in range(first, first + count)]


def post(client, token, items, session="session-0001"):
    return client.request("POST", "/api/events", batch(token, items, session=session), JSON)


def stored(store, learner):
    return sum(1 for row in store.dump()["reported_events"] if row[1] == learner)


def is_one_sentence(text):
    return isinstance(text, str) and text.endswith(".") and "\n" not in text and ADMIN_TOKEN not in text


# -- reports --


def test_a_flood_from_one_learner_meets_429_while_another_learners_reports_still_land(store, clock):
    context, client = make_client(store, clock)
    ada, grace = context.issue_report_token("101", "ada"), context.issue_report_token("101", "grace")
    for n in range(3):  # 30 events: the window's cap
        assert post(client, ada, events(1 + 10 * n, 10)).json == {"applied": 10, "duplicates": 0}
    before = store.dump()
    refused = post(client, ada, events(31, 10))
    window_end = (NOW // 600 + 1) * 600
    assert refused.status == 429 and refused.headers["Retry-After"] == str(window_end - NOW)
    assert is_one_sentence(refused.json["error"]) and "not stored" in refused.json["error"]
    assert store.dump() == before  # a refused batch stores nothing, counters included
    again = post(client, ada, events(31, 10))  # (this process remembers the refusal)
    assert again.status == 429 and again.headers["Retry-After"] == refused.headers["Retry-After"]
    # A fresh token buys no more: the cap is the learner's, not the token string's.
    clock.now += 1
    fresh = context.issue_report_token("101", "ada")
    assert fresh != ada and post(client, fresh, events(31, 10), session="session-0002").status == 429
    # Another learner, and the same learner in another course, are not held up.
    assert post(client, grace, events(1, 10)).json == {"applied": 10, "duplicates": 0}
    assert post(client, context.issue_report_token("102", "ada"), events(1, 5)).status == 200
    assert stored(store, "grace") == 10 and stored(store, "ada") == 35
    # Once the window has turned, the refused batch is taken, once.
    clock.now = window_end
    assert post(client, ada, events(31, 10)).json == {"applied": 10, "duplicates": 0}
    assert stored(store, "ada") == 45


def test_a_batch_is_taken_while_the_window_is_under_its_cap_so_none_is_ever_too_big(store, clock):
    context, client = make_client(store, clock)
    ada = context.issue_report_token("101", "ada")
    assert post(client, ada, events(1, 25)).status == 200
    assert post(client, ada, events(26, 100)).status == 200  # 25 before it: under 30
    assert post(client, ada, events(126, 1)).status == 429  # 125 before it
    clock.now += 600
    assert post(client, ada, events(126, 100)).status == 200  # bigger than the cap, in a fresh window
    assert stored(store, "ada") == 225


def test_a_page_session_has_a_total_cap_over_its_life(store, clock):
    context, client = make_client(store, clock, report_events=10**6, session_events=25, session_retry_after_s=3600)
    ada = context.issue_report_token("101", "ada")
    for n in range(3):  # 0, 10, 20 before each: under 25
        assert post(client, ada, events(1 + 10 * n, 10)).status == 200
    before = store.dump()
    refused = post(client, ada, events(31, 10))
    assert refused.status == 429 and refused.headers["Retry-After"] == "3600"
    assert is_one_sentence(refused.json["error"]) and "page session" in refused.json["error"]
    assert store.dump() == before
    # Days later (past what this process remembers) the database still refuses that session ...
    clock.now += 5 * 86400
    ada = context.issue_report_token("101", "ada")
    assert post(client, ada, events(31, 10)).status == 429
    # ... and the same learner's next page (a new session) reports.
    assert post(client, ada, events(1, 10), session="session-0002").json == {"applied": 10, "duplicates": 0}


@pytest.mark.parametrize("scope", ["learner", "session"])
def test_bytes_are_capped_too(store, clock, scope):
    caps = dict(report_bytes=20000) if scope == "learner" else dict(session_bytes=20000)
    context, client = make_client(store, clock, report_events=10**6, **caps)
    ada = context.issue_report_token("101", "ada")
    big = {"progress": 1, "note": "x" * 9000}  # ~9 KB an event
    assert post(client, ada, events(1, 1, big)).status == 200
    assert post(client, ada, events(2, 1, big)).status == 200  # ~9 KB before it
    third = post(client, ada, events(3, 1, big))  # ~18 KB before it: under 20,000 ...
    assert third.status == 200
    refused = post(client, ada, events(4, 1))  # ... ~27 KB before this small one
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    assert stored(store, "ada") == 3
    other_session = post(client, ada, events(1, 1), session="session-0002")
    assert other_session.status == (429 if scope == "learner" else 200)


def test_two_apps_on_one_database_count_together(database, clock):
    # Two stores, two contexts: what two server processes have in common is the database.
    first_store, second_store = open_store(database), open_store(database)
    try:
        context, first = make_client(first_store, clock)
        _, second = make_client(second_store, clock)
        ada = context.issue_report_token("101", "ada")
        assert post(first, ada, events(1, 10)).status == 200
        assert post(second, ada, events(11, 10)).status == 200
        assert post(first, ada, events(21, 10)).status == 200
        refused = post(second, ada, events(31, 10))  # the second app never saw 30 events itself
        assert refused.status == 429
        # Wrong admin tokens: two at one app, one at the other, lock the address out at both.
        for client in (first, first, second):
            assert records(from_address(client, "192.0.2.7"), "Bearer wrong").status == 401
        for client in (first, second):
            assert records(from_address(client, "192.0.2.7")).status == 429
    finally:
        first_store.close()
        second_store.close()


# -- admin-token guesses --


def records(client, authorization="Bearer " + ADMIN_TOKEN, cookie=None):
    headers = {"Authorization": authorization} if authorization else {}
    if cookie:
        headers["Cookie"] = "coursewire_staff=" + cookie
    return client.request("GET", "/api/records", query="course=101", headers=headers)


def sign_in(client, token=ADMIN_TOKEN):
    return client.request("POST", "/api/staff-session", json.dumps({"token": token}).encode(), JSON)


def test_wrong_admin_tokens_lock_the_address_out_even_for_the_right_token(store, clock):
    _, client = make_client(store, clock)
    guesser, staff = from_address(client, "192.0.2.1"), from_address(client, "198.51.100.2")
    for _ in range(3):
        assert records(guesser, "Bearer guess").status == 401
    refused = records(guesser, "Bearer guess")
    window_end = (NOW // 900 + 1) * 900
    assert refused.status == 429 and refused.headers["Retry-After"] == str(window_end - NOW)
    assert is_one_sentence(refused.json["error"]) and "even the right one" in refused.json["error"]
    # The right token from the locked address is refused too: a guesser cannot test guesses.
    right = records(guesser)
    assert right.status == 429 and right.json == refused.json
    # Another address is not held up.
    assert records(staff).status == 200
    # Once the window has turned, the right token works from that address again.
    clock.now = window_end
    assert records(guesser).status == 200


def test_staff_sign_in_guesses_count_with_bearer_guesses(store, clock):
    _, client = make_client(store, clock)
    guesser = from_address(client, "192.0.2.1")
    assert sign_in(guesser, "guess-1").status == 401
    assert records(guesser, "Bearer guess-2").status == 401
    assert sign_in(guesser, "guess-3").status == 401
    refused = sign_in(guesser, "guess-4")
    assert refused.status == 429 and "Set-Cookie" not in refused.headers and int(refused.headers["Retry-After"]) > 0
    assert sign_in(guesser).status == 429 and records(guesser).status == 429
    # A staff session signed in before the lockout is not a guess and keeps working.
    clock.now += 900
    answer = sign_in(guesser)
    assert answer.status == 200
    cookie = answer.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    for _ in range(3):
        sign_in(guesser, "guess")
    assert sign_in(guesser).status == 429
    assert records(guesser, authorization=None, cookie=cookie).status == 200


def test_wrong_tokens_from_many_addresses_lock_everyone_out(store, clock):
    _, client = make_client(store, clock)
    for n in range(5):  # the overall cap, from five addresses: none of them locked alone
        assert records(from_address(client, "203.0.113.%d" % n), "Bearer guess").status == 401
    refused = records(from_address(client, "198.51.100.9"))
    assert refused.status == 429 and "from everywhere" in refused.json["error"]
    assert sign_in(from_address(client, "198.51.100.9")).status == 429
    clock.now += 900
    assert records(from_address(client, "198.51.100.9")).status == 200


def test_a_locked_out_address_does_not_lock_out_everyone(store, clock):
    _, client = make_client(store, clock)
    guesser = from_address(client, "192.0.2.1")
    for _ in range(20):  # 3 counted, then refused uncounted
        records(guesser, "Bearer guess")
    assert records(from_address(client, "198.51.100.2")).status == 200


def test_the_guess_counter_unavailable_answers_503_never_5xx_else(database, backend, tmp_path, clock):
    if backend == "sqlite":
        open_store(database).close()
        store = SQLiteRecordStore(database, busy_timeout_s=0.3)
        store.open()
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # a wrong token cannot be counted
    else:
        from coursewire.server.store.postgres import PostgresRecordStore

        store = PostgresRecordStore("postgresql://postgres@127.0.0.1:%d/gone" % free_port())  # nothing listens
        blocker = None
    try:
        _, client = make_client(store, clock)
        for answer in (records(client, "Bearer guess"), sign_in(client, "guess")):
            assert answer.status == 503 and is_one_sentence(answer.json["error"]), answer
            assert "guess" not in answer.text
    finally:
        if blocker is not None:
            blocker.execute("ROLLBACK")
            blocker.close()
        store.close()


def test_limits_are_read_from_the_environment_in_one_sentence():
    from coursewire.server.settings import Settings

    limits = Settings.from_env({"COURSEWIRE_LIMITS": "report_events=5 guess_window_s=60"}).limits
    assert (limits.report_events, limits.guess_window_s, limits.session_events) == (5, 60, 20000)
    for text in ("report_events=0", "report_events=five", "nonsense=3", "report_events"):
        with pytest.raises(ValueError) as caught:
            Settings.from_env({"COURSEWIRE_LIMITS": text})
        assert is_one_sentence(str(caught.value))


def test_two_server_processes_count_together(database, tmp_path):
    # Two gunicorn servers (one worker each) on one database: what one counted, the other sees.
    # Caps without a window that could turn mid-test: a session's (its life long) and a guess
    # window of ~31 years.
    from .record_client import Gunicorn, http_request

    limits = "session_events=30 guess_window_s=1000000000 guesses_per_address=3"
    servers = [
        Gunicorn(database, workers=1, log_path=str(tmp_path / ("gunicorn-%d.log" % n)), COURSEWIRE_LIMITS=limits)
        for n in range(2)
    ]
    try:
        for server in servers:
            server.start()
        store = open_store(database)
        try:
            token = Context(settings(token_secret=None), store=store).issue_report_token("101", "ada")
        finally:
            store.close()
        statuses = [
            http_request(servers[n % 2].base, "POST", "/api/events", batch(token, events(1 + 10 * n, 10)), JSON).status
            for n in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429]
        wrong = {"Authorization": "Bearer guess"}
        guesses = [
            http_request(servers[n % 2].base, "GET", "/api/records?course=101", headers=wrong).status for n in range(4)
        ]
        assert guesses == [401, 401, 401, 429]
        right = {"Authorization": "Bearer " + ADMIN_TOKEN}
        assert [
            http_request(server.base, "GET", "/api/records?course=101", headers=right).status for server in servers
        ] == [429, 429]  # (the test's requests all come from 127.0.0.1)
    finally:
        for server in servers:
            server.stop()
