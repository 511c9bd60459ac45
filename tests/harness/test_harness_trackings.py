"""The simulated Coassemble's trackings endpoint (harness/api.py): both answer forms, both progress
spellings, paging, filters, 401/403/429 in Coassemble's envelope, seeding without webhooks, and
the player's own trackings. CPython only: no browser."""

import json
import sys

from serving import ROOT
from wsgi_client import call_wsgi

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from harness.api import COURSE, make_app  # noqa: E402

WORKSPACE = "1000"
KEY = "harness-test-key-" + "9f" * 24
AUTH = "COASSEMBLE:%s:%s" % (WORKSPACE, KEY)
T0 = "2026-11-01T08:00:00.000Z"
T1 = "2026-11-02T08:00:00.000Z"


def get(app, query, auth=AUTH):
    return call_wsgi(app, "GET", "/api/v1/headless/trackings", query=query, headers={"Authorization": auth})


def rows(answer):
    value = answer.json
    return value["data"] if isinstance(value, dict) else value


def test_trackings_page_in_both_answer_forms_and_both_progress_spellings():
    app = make_app(WORKSPACE, KEY)
    for n in range(5):
        app.seed_tracking(
            COURSE["id"],
            "learner-%d" % n,
            commenced=T0,
            completed=T1 if n % 2 == 0 else None,
            score=70 + n,
            passed=n % 2 == 0,
        )
    pages = [get(app, "id=101&length=2&page=%d" % page) for page in range(3)]
    assert [a.status for a in pages] == [200, 200, 200]
    assert [type(a.json).__name__ for a in pages] == ["dict", "list", "dict"]
    seen = [row for a in pages for row in rows(a)]
    assert [row["identifier"] for row in seen] == ["learner-%d" % n for n in range(5)]
    assert "progressPercent" in seen[0] and "progress_percent" in seen[2]
    assert [row["score"] for row in seen] == [70, 71, 72, 73, 74]
    assert [bool(row["completed"]) for row in seen] == [True, False, True, False, True]
    completed = rows(get(app, "id=101&completed=true"))
    assert [row["identifier"] for row in completed] == ["learner-0", "learner-2", "learner-4"]
    assert [row["identifier"] for row in rows(get(app, "id=101&identifier=learner-3"))] == ["learner-3"]
    assert rows(get(app, "id=999")) == []


def test_trackings_refusals_use_coassembles_envelope():
    app = make_app(WORKSPACE, KEY)
    assert get(app, "id=101", auth="COASSEMBLE:1000:wrong").status == 401
    assert get(app, "id=101&length=501").status == 400
    app.set_trackings_switches(fail_next=2, retry_after=3)
    first = get(app, "id=101")
    assert first.status == 429 and first.headers["Retry-After"] == "3"
    assert first.json["error"]["status"] == 429
    assert get(app, "id=101").status == 429
    assert get(app, "id=101").status == 200
    app.set_trackings_switches(enabled=False)
    refused = get(app, "id=101")
    assert refused.status == 403 and "available on request" in refused.json["message"]


def test_trackings_seeded_over_http_and_made_by_the_player_are_listed_without_webhooks():
    app = make_app(WORKSPACE, KEY)
    body = json.dumps(
        {
            "trackings": [
                {"course": 101, "identifier": "seeded", "commenced": T0, "completed": T1, "score": 90, "passed": True}
            ],
            "raw": [{"course": 101, "row": {"identifier": 42, "completed": "not a time"}}],
            "switches": {"shape": "list", "progress_spelling": "snake"},
        }
    ).encode()
    answer = call_wsgi(app, "POST", "/api/test/trackings", body, {"Content-Type": "application/json"})
    assert answer.status == 200, answer
    mint = call_wsgi(
        app,
        "POST",
        "/api/v1/headless/embed/course",
        json.dumps({"action": "view", "courseId": 101, "identifier": "player"}).encode(),
        {"Authorization": AUTH, "Content-Type": "application/json", "Host": "localhost:8001"},
    )
    token = mint.text.split("token=", 1)[1]
    played = call_wsgi(
        app,
        "POST",
        "/api/tracking",
        json.dumps({"token": token, "event": "completed"}).encode(),
        {"Content-Type": "application/json"},
    )
    assert played.status == 200 and played.json["sent"] == []  # no webhook receiver configured
    listed = get(app, "id=101").json
    assert isinstance(listed, list)
    assert [row.get("identifier") for row in listed] == ["seeded", "player", 42]
    assert listed[1]["progress_percent"] == 100 and listed[1]["completed"]
