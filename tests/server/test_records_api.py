"""GET /api/records: only with the admin token, one course's records, and a cursor for cheap polling."""

import pytest

from coursewire.server.wsgi import Context, make_app

from .record_client import ADMIN_TOKEN, TOKEN_SECRET, WEBHOOK_SECRET, WsgiClient, batch, event, settings

AUTH = {"Authorization": "Bearer " + ADMIN_TOKEN}


@pytest.fixture
def context(store):
    return Context(settings(), store=store)


@pytest.fixture
def client(context):
    return WsgiClient(make_app(context=context))


def report(client, context, learner, events, course="101", session="session-0001"):
    token = context.issue_report_token(course, learner)
    answer = client.request(
        "POST", "/api/events", batch(token, events, session=session), {"Content-Type": "application/json"}
    )
    assert answer.status == 200, answer


def get(client, query, headers=AUTH):
    return client.request("GET", "/api/records", query=query, headers=headers)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        "bearer " + ADMIN_TOKEN,
        ADMIN_TOKEN,
        "Basic " + ADMIN_TOKEN,
        "Bearer " + ADMIN_TOKEN + "x",
        "Bearer " + ADMIN_TOKEN[:-1],
    ],
)
def test_without_the_admin_token_the_records_are_refused_401(client, context, header):
    report(client, context, "ada", [event(1, "course:progress", {"progress": 30})])
    answer = get(client, "course=101", {} if header is None else {"Authorization": header})
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "ada" not in answer.body.decode() and ADMIN_TOKEN not in answer.body.decode()


def test_without_a_configured_admin_token_the_api_answers_503(store):
    client = WsgiClient(make_app(context=Context(settings(admin_token=None), store=store)))
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        answer = get(client, "course=101", headers)
        assert answer.status == 503 and "COURSEWIRE_ADMIN_TOKEN" in answer.json["error"]


def test_the_records_of_one_course_with_every_field(client, context):
    report(
        client,
        context,
        "ada",
        [
            event(1, "course:start", {}, "2026-11-15T08:00:00Z"),
            event(2, "course:progress", {"progress": 60}, "2026-11-15T08:01:00Z"),
            event(3, "screen:answer", {"id": "q", "answer": "B", "correct": False}, "2026-11-15T08:02:00Z"),
        ],
    )
    report(client, context, "bob", [event(1, "course:completed", {}, "2026-11-15T09:00:00Z")])
    report(client, context, "eve", [event(1, "course:progress", {"progress": 90})], course="202")
    answer = get(client, "course=101")
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
    page = answer.json
    assert page["course"] == "101" and page["cursor"] == 2
    assert [r["learner"] for r in page["records"]] == ["ada", "bob"]
    ada = page["records"][0]
    assert set(ada) == {
        "learner",
        "progress",
        "status",
        "answers",
        "reported_started_at",
        "reported_completed_at",
        "verified_commenced_at",
        "verified_completed_at",
        "last_event_at",
        "reported_events",
        "verified_score",
        "verified_passed",
        "verified_progress",
        "changed",
        "answers_total",
    }
    assert (ada["verified_score"], ada["verified_passed"], ada["verified_progress"]) == (None, None, None)
    assert (ada["progress"], ada["status"], ada["last_event_at"]) == (60, "in_progress", "2026-11-15T08:02:00.000Z")
    assert ada["answers"][0]["answer"] == "B" and ada["answers"][0]["correct"] is False
    assert page["records"][1]["status"] == "completed_reported"
    body = answer.body.decode()
    for secret in (ADMIN_TOKEN, WEBHOOK_SECRET, TOKEN_SECRET):
        assert secret not in body


def test_polling_with_the_cursor_returns_only_what_changed(client, context):
    report(client, context, "ada", [event(1, "course:progress", {"progress": 10})])
    report(client, context, "bob", [event(1, "course:progress", {"progress": 20})])
    first = get(client, "course=101").json
    cursor = first["cursor"]
    idle = get(client, "course=101&since=%d" % cursor).json
    assert idle == {"course": "101", "title": None, "cursor": cursor, "records": [], "next_page": None}
    report(client, context, "bob", [event(2, "course:progress", {"progress": 50})])
    changed = get(client, "course=101&since=%d" % cursor).json
    assert [(r["learner"], r["progress"]) for r in changed["records"]] == [("bob", 50)]
    assert changed["cursor"] > cursor
    # A retried batch changes nothing, so the cursor stays.
    report(client, context, "bob", [event(2, "course:progress", {"progress": 50})])
    assert get(client, "course=101&since=%d" % changed["cursor"]).json["records"] == []


def test_an_unknown_course_is_an_empty_list(client):
    assert get(client, "course=999").json == {
        "course": "999",
        "title": None,
        "cursor": 0,
        "records": [],
        "next_page": None,
    }


@pytest.mark.parametrize(
    "query",
    [
        "",
        "course=",
        "course=a%20b",
        "course=101&since=-1",
        "course=101&since=x",
        "course=101&since=1e3",
        "course=101&course=102",
        "course=101&admin=1",
        "course=%27%3B%20DROP%20TABLE%20records%3B--",
        "since=3",
    ],
)
def test_a_bad_query_is_refused_400(client, query):
    answer = get(client, query)
    assert answer.status == 400 and answer.json["error"].endswith(".")


# -- pages, the summary, the answers route --


def seed_many(store, course, learners, since_change=0):
    """Records straight through the store (fast): each learner one progress event."""
    from coursewire.server.evidence import ReportedEvent

    for n, learner in enumerate(learners):
        store.record_events(
            course,
            learner,
            "s-seed",
            [ReportedEvent(1, "course:progress", {"progress": n % 101}, "2026-11-15T08:00:00.000Z")],
            "2026-11-15T08:00:00.000Z",
        )


# Code-point order differs from many collations (en_US puts "b" before "C", and "é" beside "e").
ODD_LEARNERS = [
    "Zoe",
    "zoe",
    "ada",
    "Ada",
    "émile",
    "eve",
    "éclair",
    "b",
    "B",
    "_x",
    "-y",
    "10",
    "9",
    "日本",
    "😀",
    "a b",
    "ab",
    "a",
]


def walk(client, query, limit):
    """Every page of `query` at `limit`: (records in order, answers, cursor of the first page)."""
    seen, answers, token = [], [], None
    while True:
        answer = get(client, query + "&limit=%d" % limit + ("&page=" + token if token else ""))
        assert answer.status == 200, answer
        answers.append(answer.json)
        assert len(answer.json["records"]) <= limit
        seen += answer.json["records"]
        token = answer.json["next_page"]
        if token is None:
            return seen, answers


def test_paging_with_limit_60_visits_every_learner_once_in_code_point_order(client, store):
    learners = ["learner-%04d" % n for n in range(250)] + ODD_LEARNERS
    seed_many(store, "101", learners)
    seen, answers = walk(client, "course=101", 60)
    names = [r["learner"] for r in seen]
    assert names == sorted(learners)  # each once, in Python's (code-point) order on both backends
    assert len(answers) == 5 and answers[-1]["next_page"] is None and len(answers[-1]["records"]) == 28
    assert len(set(a["cursor"] for a in answers)) == 1  # every page answers the first page's cursor
    default = get(client, "course=101").json
    assert len(default["records"]) == 100 and default["next_page"]


@pytest.mark.postgres
def test_pages_keep_code_point_order_in_a_postgres_database_with_a_language_collation(postgres_server):
    # en-US (ICU) sorts "b" before "C" and "é" beside "e": the pages must still follow code points.
    import psycopg

    from coursewire.server.store import open_store

    name = "cw_icu_%d" % id(postgres_server)
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(
            "CREATE DATABASE %s LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' TEMPLATE template0" % name
        )
    store = open_store(postgres_server.url.rsplit("/", 1)[0] + "/" + name)
    try:
        seed_many(store, "101", ODD_LEARNERS)
        client = WsgiClient(make_app(context=Context(settings(), store=store)))
        seen, _ = walk(client, "course=101", 4)
        assert [r["learner"] for r in seen] == sorted(ODD_LEARNERS)
    finally:
        store.close()
        postgres_server.drop_database(name)


def test_learners_added_and_changed_between_pages_are_neither_lost_nor_repeated(client, context, store):
    seed_many(store, "101", ["m-%03d" % n for n in range(100)])
    first = get(client, "course=101&limit=60").json
    # While the staff page reads: one learner sorts before the page, one after, one on page 1 changes.
    seed_many(store, "101", ["a-new", "z-new"])
    report(client, context, "m-010", [event(9, "course:progress", {"progress": 77})])
    rest = get(client, "course=101&limit=60&page=" + first["next_page"]).json
    assert rest["next_page"] is None and rest["cursor"] == first["cursor"]
    names = [r["learner"] for r in first["records"] + rest["records"]]
    assert len(names) == len(set(names)) and "z-new" in names and "a-new" not in names
    # Polling from the first page's cursor brings what changed while it paged.
    changed = get(client, "course=101&since=%d" % first["cursor"]).json
    assert sorted(r["learner"] for r in changed["records"]) == ["a-new", "m-010", "z-new"]


def test_polling_with_since_is_paged_the_same_way(client, context, store):
    seed_many(store, "101", ["p-%03d" % n for n in range(130)])
    cursor = get(client, "course=101").json["cursor"]
    for n in range(0, 130, 2):
        report(client, context, "p-%03d" % n, [event(5, "course:progress", {"progress": 100})])
    seen, answers = walk(client, "course=101&since=%d" % cursor, 30)
    assert [r["learner"] for r in seen] == ["p-%03d" % n for n in range(0, 130, 2)]
    assert len(answers) == 3 and all(r["progress"] == 100 for r in seen)
    assert all(a["cursor"] == answers[0]["cursor"] > cursor for a in answers)
    # A token is only good for the since= it was made with.
    mixed = get(client, "course=101&since=0&limit=30&page=" + answers[0]["next_page"])
    assert mixed.status == 400 and mixed.json["error"].endswith(".")


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "!!!!",
        "e30",
        "W10",
        "WyJyMSIsIjEwMSIsMCwwXQ",
        "bnVsbA",
        "WyJyMSIsIjEwMSIsMCwxLCIiXQ",
        "WyJhMSIsIjEwMSIsImFkYSIsIiIsIiIsMV0",
        "WyJyMSIsIjEwMSIsLTEsMSwiYWRhIl0",
        "A" * 7000,
        "%FF%FE",
        "w%C3%A9",
    ],
)
def test_a_malformed_page_token_is_400_in_one_sentence(client, context, token):
    report(client, context, "ada", [event(1, "course:progress", {"progress": 30})])
    answer = get(client, "course=101&page=" + token)
    assert answer.status == 400, answer
    assert answer.json["error"].endswith(".") and answer.json["error"].count(". ") == 0


def test_a_token_of_another_course_is_400(client, context, store):
    seed_many(store, "101", ["a", "b", "c"])
    seed_many(store, "202", ["a", "b", "c"])
    token = get(client, "course=101&limit=1").json["next_page"]
    assert get(client, "course=202&limit=1&page=" + token).status == 400


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "x", "1e2", "", "99999", "١٠"])
def test_a_limit_out_of_range_is_400(client, limit):
    answer = get(client, "course=101&limit=" + limit)
    assert answer.status == 400 and "limit" in answer.json["error"]


def test_the_summary_counts_statuses_and_bands_in_the_database(client, context, store):
    from coursewire.core import roster

    seed_many(store, "101", ["s-%03d" % n for n in range(230)])
    report(client, context, "bob", [event(1, "course:completed", {})])
    from coursewire.server.evidence import VerifiedDelivery

    for learner in ("s-005", "verified-only"):  # Coassemble's word: complete, whatever the browser said
        store.record_delivery(
            VerifiedDelivery(
                "d-" + learner,
                "course.completed",
                "101",
                learner,
                None,
                "2026-11-15T09:00:00.000Z",
                0,
                "2026-11-15T09:00:00.000Z",
                "{}",
            )
        )
    store.record_delivery(
        VerifiedDelivery(
            "d-c",
            "course.commenced",
            "101",
            "commenced-only",
            None,
            "2026-11-15T09:00:00.000Z",
            0,
            "2026-11-15T09:00:00.000Z",
            "{}",
        )
    )
    from coursewire.server.trackings import Tracking

    # Coassemble's tracking says 45 % for a learner the browser never reported: the row shows 45 %.
    store.apply_tracking("101", [Tracking("tracked-only", "2026-11-15T09:00:00.000Z", None, 45, None, None)])
    summary = client.request("GET", "/api/records/summary", query="course=101", headers=AUTH)
    assert summary.status == 200, summary
    records, _ = walk(client, "course=101", 1000)
    assert summary.json["learners"] == len(records) == 234
    counted = {}
    for record in records:
        counted[record["status"]] = counted.get(record["status"], 0) + 1
    assert summary.json["statuses"] == dict({"not_started": 0}, **counted)
    shown = [dict(r, progress=roster.progress_evidence(r)["percent"]) for r in records]  # what each row shows
    assert summary.json["bands"] == roster.progress_bands(shown)
    assert summary.json["bands"][4]["count"] == 1 + sum(
        1 for r in records if 40 <= r["progress"] <= 49 and not r["verified_completed_at"]
    )
    assert summary.json["bands"][10]["count"] == 5  # s-100, s-201, bob, s-005 (verified), verified-only
    assert summary.json["statuses"]["completed_verified"] == 2
    assert summary.json["cursor"] == get(client, "course=101").json["cursor"]
    empty = client.request("GET", "/api/records/summary", query="course=999", headers=AUTH).json
    assert empty["learners"] == 0 and sum(b["count"] for b in empty["bands"]) == 0


def test_summary_and_answers_need_staff_and_a_good_query(client, context):
    report(client, context, "ada", [event(1, "course:progress", {"progress": 30})])
    for path, query in (("/api/records/summary", "course=101"), ("/api/records/answers", "course=101&learner=ada")):
        assert client.request("GET", path, query=query).status == 401
        assert client.request("GET", path, query=query, headers={"Authorization": "Bearer x"}).status == 401
        bad = client.request("GET", path, query=query + "&since=1", headers=AUTH)
        assert bad.status == 400 and bad.json["error"].endswith(".")
    missing = client.request("GET", "/api/records/answers", query="course=101&learner=nobody", headers=AUTH)
    assert missing.status == 404 and missing.json["error"].endswith(".")
    bad_learner = client.request("GET", "/api/records/answers", query="course=101&learner=%00", headers=AUTH)
    assert bad_learner.status == 400


def test_a_record_inlines_its_newest_answers_and_the_answers_route_pages_them_all(client, context):
    events = [
        event(
            n,
            "screen:answer",
            {"id": "q%d" % n, "answer": "A%d" % n, "correct": n % 2 == 0},
            "2026-11-15T08:%02d:%02d.000Z" % (n // 60, n % 60),
        )
        for n in range(1, 131)
    ]
    report(client, context, "ada", events)
    report(client, context, "bob", [event(1, "screen:answer", {"id": "q", "answer": "B"})])
    ada, bob = get(client, "course=101").json["records"]
    assert ada["answers_total"] == 130 and len(ada["answers"]) == 50
    assert [a["answer"] for a in ada["answers"]] == ["A%d" % n for n in range(81, 131)]  # newest, oldest first
    assert bob["answers_total"] == 1 and bob["answers"][0]["answer"] == "B"
    everything, token = [], None
    while True:
        page = client.request(
            "GET",
            "/api/records/answers",
            headers=AUTH,
            query="course=101&learner=ada&limit=60" + ("&page=" + token if token else ""),
        ).json
        assert page["answers_total"] == 130 and len(page["answers"]) <= 60
        everything += page["answers"]
        token = page["next_page"]
        if token is None:
            break
    assert [a["answer"] for a in everything] == ["A%d" % n for n in range(1, 131)]
    assert everything[-50:] == ada["answers"]
    other = client.request(
        "GET", "/api/records/answers", headers=AUTH, query="course=101&learner=bob&page=" + get_token(client)
    )
    assert other.status == 400


def get_token(client):
    return client.request("GET", "/api/records/answers", headers=AUTH, query="course=101&learner=ada&limit=1").json[
        "next_page"
    ]
