"""report.html: one course's learners for staff, live, on both runtimes, through serve.py.

serve.py runs with COURSEWIRE_ADMIN_TOKEN and COURSEWIRE_SECRET set; the records come from signed
webhooks and report batches posted straight to it, as Coassemble and learners' pages would.
The browser runs in Pacific/Auckland, so a time shown in UTC would be caught.
"""

import csv
import datetime
import os
import secrets
import time
import uuid
import zoneinfo

import pytest
from server.record_client import WEBHOOK_SECRET, batch, delivery_body, delivery_headers, event, http_request
from test_accessibility import CONTRAST_FAILURES, UNNAMED_CONTROLS

from app import report_text
from coursewire.core import roster
from coursewire.server.times import iso
from coursewire.server.tokens import issue_report_token

from conftest import BOOT_TIMEOUT_MS, screenshot
from serving import start_serve

ADMIN_TOKEN = "staff-" + secrets.token_hex(16)
TOKEN_SECRET = "report-page-" + secrets.token_hex(8)
TIMEZONE = "Pacific/Auckland"
POLL_WAIT_MS = 20_000  # the page polls every 3 s; a loaded machine may answer slowly
MARKUP_LEARNER = '<img src=x onerror="window.pwned=1"><b>Mallory</b>'
FORMULA_LEARNER = '=HYPERLINK("http://evil.example","click me")'
FORMULA_ANSWER = "@SUM(1+1)*cmd|' /C calc'!A0"
MARKUP_ANSWER = "<script>window.pwned=2</script>ok;=1+2"


class ReportServer:
    def __init__(self, app):
        self.app = app

    def report(self, course, learner, events):
        """A learner's page reporting `events` (name, data) through its report token."""
        token = issue_report_token(TOKEN_SECRET, course, learner, time.time())
        stamp = iso(time.time() - 30)
        items = [event(seq, name, data, stamp) for seq, (name, data) in enumerate(events, 1)]
        answer = http_request(
            self.app,
            "POST",
            "/api/events",
            batch(token, items, session="s-" + uuid.uuid4().hex),
            {"Content-Type": "application/json"},
        )
        assert answer.status == 200, answer

    def webhook(self, event_type, course, learner):
        """Coassemble's signed delivery of `event_type` for the learner."""
        body = delivery_body(event_type, course=course, learner=learner, occurred_at=iso(time.time() - 10))
        answer = http_request(self.app, "POST", "/webhooks/coassemble", body, delivery_headers(body))
        assert answer.status == 200, answer

    def records(self, course):
        answer = http_request(
            self.app, "GET", "/api/records?course=" + course, headers={"Authorization": "Bearer " + ADMIN_TOKEN}
        )
        assert answer.status == 200, answer
        return answer.json["records"]


@pytest.fixture(scope="module")
def report_server():
    env = dict(
        os.environ,
        COURSEWIRE_ADMIN_TOKEN=ADMIN_TOKEN,
        COURSEWIRE_SECRET=TOKEN_SECRET,
        COASSEMBLE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    for name in ("DATABASE_URL", "COURSEWIRE_DB"):
        env.pop(name, None)
    proc, app, _ = start_serve(env=env)
    try:
        yield ReportServer(app)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return dict(browser_context_args, timezone_id=TIMEZONE, accept_downloads=True)


@pytest.fixture
def server(report_server, guard):
    guard.origins.add(report_server.app)
    return report_server


def seed_course(server, course):
    """The same cast in any course: verified, reported-only, in progress, webhook-only, hostile."""
    server.report(
        course,
        "ada@example.com",
        [
            ("course:start", {}),
            (
                "screen:answer",
                {"id": "q1", "title": "Knowledge check", "question": "Which port?", "answer": "A", "correct": False},
            ),
            ("screen:retry", {"id": "q1"}),
            ("screen:answer", {"id": "q1", "answer": "B", "correct": True}),
            ("course:completed", {}),
        ],
    )
    server.webhook("course.completed", course, "ada@example.com")
    server.report(course, "bob", [("course:progress", {"progress": 100}), ("course:completed", {})])
    server.report(course, "carol", [("course:progress", {"progress": 45})])
    server.webhook("course.commenced", course, "dave")
    server.report(
        course,
        MARKUP_LEARNER,
        [
            ("course:progress", {"progress": 5}),
            ("screen:answer", {"id": "q2", "title": "<i>Free text</i>", "answer": MARKUP_ANSWER}),
        ],
    )
    server.report(
        course,
        FORMULA_LEARNER,
        [("course:progress", {"progress": 15}), ("screen:answer", {"id": "q2", "answer": FORMULA_ANSWER})],
    )


def course_for(request, runtime):
    """A course of this test's own, so tests and runtimes never see each other's learners."""
    return "c-%s-%s" % (request.node.originalname.replace("test_", "")[:40].replace("_", "-"), runtime)


def open_report(page, server, runtime, course):
    page.goto("%s/report.html?runtime=%s&course=%s" % (server.app, runtime, course))
    page.wait_for_selector("html[data-listening='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
    assert page.get_attribute("html", "data-runtime") == runtime


def sign_in(page, token=ADMIN_TOKEN):
    page.wait_for_selector("#admin-token", state="visible")
    page.focus("#admin-token")
    page.keyboard.type(token)
    page.keyboard.press("Enter")  # the keyboard alone signs in


def signed_in(page):
    page.wait_for_selector("#report-body", state="visible")
    page.wait_for_selector("#live-status[data-live='live']")


def learner_body(page, learner):
    """The <tbody> of `learner`, found by its exact id whatever characters it holds."""
    return page.evaluate_handle(
        "name => [...document.querySelectorAll('#learners tbody')].find(b => b.dataset.learner === name) || null",
        learner,
    ).as_element()


def cell_texts(page, learner):
    body = learner_body(page, learner)
    assert body is not None, learner
    return body.evaluate("""b => ({
        learner: b.querySelector('th').textContent,
        progress: b.querySelector('[role=progressbar]').getAttribute('aria-valuenow'),
        reported: b.querySelector('[data-evidence=reported]').textContent.trim(),
        reportedState: b.querySelector('[data-evidence=reported]').dataset.state,
        verified: b.querySelector('[data-evidence=verified]').textContent.trim(),
        verifiedState: b.querySelector('[data-evidence=verified]').dataset.state,
        answers: b.querySelector('td.answers').textContent.trim(),
        last: b.querySelector('td.last-activity').textContent.trim(),
        lastIso: (b.querySelector('td.last-activity time') || {}).dateTime || null,
        status: b.dataset.status})""")


def local_text(iso_text):
    moment = datetime.datetime.fromisoformat(iso_text.replace("Z", "+00:00")).astimezone(zoneinfo.ZoneInfo(TIMEZONE))
    return moment.strftime("%Y-%m-%d %H:%M")


def test_sign_in_shows_the_learners_and_the_token_is_kept_nowhere(page, server, runtime, request):
    course = course_for(request, runtime)
    seed_course(server, course)
    logged = []
    page.on("console", lambda message: logged.append(message.text))
    open_report(page, server, runtime, course)
    # The card appears once the session check answers, which may be after the page listens.
    page.wait_for_selector("#sign-in-card", state="visible")
    assert page.is_hidden("#report-body")
    assert page.evaluate("document.activeElement.id") == "admin-token"
    assert page.locator("#learners tbody").count() == 0  # nothing of the records before signing in
    sign_in(page)
    signed_in(page)
    assert page.input_value("#admin-token") == ""  # cleared after submit
    assert page.is_hidden("#sign-in-card") and page.is_visible("#sign-out")

    learners = page.eval_on_selector_all("#learners tbody", "bodies => bodies.map(b => b.dataset.learner)")
    assert learners == [r["learner"] for r in server.records(course)]  # every learner, in the server's order
    assert len(learners) == 6

    # The cookie is HttpOnly, SameSite=Strict, only for /api; no script, storage or log holds the token.
    [cookie] = page.context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
        "coursewire_staff",
        True,
        "Strict",
        "/api",
    )
    assert ADMIN_TOKEN not in cookie["value"]
    held = page.evaluate(
        "[document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage),"
        " document.documentElement.outerHTML].join(' ')"
    )
    assert ADMIN_TOKEN not in held and "coursewire_staff" not in held
    assert not [text for text in logged if ADMIN_TOKEN in text]


def test_a_wrong_token_is_refused_and_the_field_is_cleared(page, server, runtime, guard):
    guard.expect_console_error(r"status of 401")  # the browser's own line for the refused sign-in
    open_report(page, server, runtime, "101")
    sign_in(page, "not-the-admin-token")
    page.wait_for_selector("#sign-in-error:has-text('admin token')")
    assert page.inner_text("#sign-in-error") == "That is not this server's admin token."
    assert page.input_value("#admin-token") == ""
    assert page.evaluate("document.activeElement.id") == "admin-token"
    assert page.is_hidden("#report-body") and page.context.cookies() == []


def test_reported_and_verified_completion_read_differently_and_hostile_text_stays_text(page, server, runtime, request):
    course = course_for(request, runtime)
    seed_course(server, course)
    open_report(page, server, runtime, course)
    sign_in(page)
    signed_in(page)

    ada, bob = cell_texts(page, "ada@example.com"), cell_texts(page, "bob")
    assert ada["status"] == "completed_verified" and bob["status"] == "completed_reported"
    assert ada["verified"].startswith("✔Verified complete") and ada["verifiedState"] == "completed"
    assert bob["reported"].startswith("◌Reported complete") and bob["reportedState"] == "completed"
    assert bob["verified"] == "Not verified" and bob["verifiedState"] == "none"
    # Not colour alone: the badges differ in border style as well as words and marks.
    styles = page.evaluate("""() => ['ada@example.com', 'bob'].map(name => {
        const body = [...document.querySelectorAll('#learners tbody')].find(b => b.dataset.learner === name);
        const cell = body.querySelector(name === 'bob' ? '[data-evidence=reported] .badge' : '[data-evidence=verified] .badge');
        return getComputedStyle(cell).borderTopStyle; })""")
    assert styles == ["solid", "dashed"]
    assert page.inner_text("#count-verified") == "1" and page.inner_text("#count-reported") == "1"
    dave = cell_texts(page, "dave")
    assert (dave["reported"], dave["verified"].split("20")[0], dave["status"]) == (
        "Nothing reported",
        "Verified started",
        "in_progress",
    )

    # Last activity in the viewer's time zone (Pacific/Auckland here), not UTC.
    assert ada["lastIso"] and ada["last"] == local_text(ada["lastIso"])
    assert local_text(ada["lastIso"]) != ada["lastIso"][:16].replace("T", " ")

    # Answers with attempts, expandable per learner, by keyboard.
    assert ada["answers"].startswith("2 answers · 1 correct · 2 attempts")
    toggle = learner_body(page, "ada@example.com").query_selector("button[data-toggle]")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    items = learner_body(page, "ada@example.com").eval_on_selector_all(
        ".answer-list li", "items => items.map(i => [i.dataset.result, i.querySelector('.answer-attempt').textContent])"
    )
    assert items == [["incorrect", "attempt 1"], ["retry", "attempt 2"], ["correct", "attempt 2"]]
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-expanded") == "false"

    # Markup in a learner id and in answers is shown as text; nothing of it runs or renders.
    hostile = cell_texts(page, MARKUP_LEARNER)
    assert hostile["learner"] == MARKUP_LEARNER
    learner_body(page, MARKUP_LEARNER).query_selector("button[data-toggle]").click()
    shown = learner_body(page, MARKUP_LEARNER).query_selector(".answer-list").inner_text()
    assert MARKUP_ANSWER in shown and "<i>Free text</i>" in shown
    assert page.locator("#learners img, #learners script, #learners b, #learners i").count() == 0
    assert page.evaluate("window.pwned") is None
    assert cell_texts(page, FORMULA_LEARNER)["learner"] == FORMULA_LEARNER


def test_the_page_updates_live_only_the_rows_that_changed_and_pauses_while_hidden(page, server, runtime, request):
    course = course_for(request, runtime)
    server.report(course, "ada", [("course:progress", {"progress": 20})])
    server.report(
        course,
        "bob",
        [("course:progress", {"progress": 30}), ("screen:answer", {"id": "q1", "answer": "A", "correct": True})],
    )
    open_report(page, server, runtime, course)
    sign_in(page)
    signed_in(page)
    page.wait_for_selector("#learners tbody >> nth=1")
    page.evaluate("document.querySelectorAll('#learners tbody').forEach(b => b.seen = b.dataset.learner)")
    learner_body(page, "bob").query_selector("button[data-toggle]").focus()

    # Coassemble's webhook arrives while the page is open: bob's row changes, ada's stays the same node.
    server.webhook("course.completed", course, "bob")
    page.wait_for_selector(
        "#learners tbody[data-learner='bob'][data-status='completed_verified']", timeout=POLL_WAIT_MS
    )
    kept = page.evaluate(
        "[...document.querySelectorAll('#learners tbody')].map(b => [b.dataset.learner, b.seen || null])"
    )
    assert kept == [["ada", "ada"], ["bob", None]]
    assert page.inner_text("#count-verified") == "1"
    # A keyboard user on bob's row keeps their place in the redrawn row.
    assert page.evaluate("document.activeElement.closest('tbody').dataset.learner") == "bob"

    # A new learner is inserted in order; the others are untouched.
    server.report(course, "anna", [("course:progress", {"progress": 70})])
    page.wait_for_selector("#learners tbody[data-learner='anna']", timeout=POLL_WAIT_MS)
    kept = page.evaluate(
        "[...document.querySelectorAll('#learners tbody')].map(b => [b.dataset.learner, b.seen || null])"
    )
    assert kept == [["ada", "ada"], ["anna", None], ["bob", None]]
    assert page.get_attribute("#progress-chart g[data-band='70–79%']", "data-count") == "1"

    # Hidden tab: no polling at all; shown again: it polls at once.
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/records?" in r.url else None)
    page.evaluate("""() => { Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
                             document.dispatchEvent(new Event('visibilitychange')); }""")
    assert page.inner_text("#live-status") == "Paused while hidden"
    asked.clear()
    server.report(course, "cleo", [("course:progress", {"progress": 10})])
    page.wait_for_timeout(7000)  # more than two polling intervals
    assert asked == [] and learner_body(page, "cleo") is None
    page.evaluate("""() => { delete document.visibilityState;
                             document.dispatchEvent(new Event('visibilitychange')); }""")
    page.wait_for_selector("#learners tbody[data-learner='cleo']", timeout=5000)
    assert page.inner_text("#live-status") == "Live"
    assert asked and all("since=" in url for url in asked)


def test_the_svg_chart_has_a_bar_per_band_matching_the_records(page, server, runtime, request):
    course = course_for(request, runtime)
    for learner, progress in (("p0", 0), ("p5", 5), ("p15a", 15), ("p15b", 15), ("p50", 50), ("p99", 99)):
        server.report(course, learner, [("course:progress", {"progress": progress})])
    server.report(course, "done1", [("course:completed", {})])
    server.report(course, "done2", [("course:completed", {})])
    server.report(course, "done3", [("course:completed", {})])
    open_report(page, server, runtime, course)
    sign_in(page)
    signed_in(page)
    expected = roster.progress_bands(server.records(course))
    assert [b["count"] for b in expected] == [2, 2, 0, 0, 0, 1, 0, 0, 0, 1, 3]  # the data, as the server has it
    drawn = page.eval_on_selector_all(
        "#progress-chart g.band",
        """groups => groups.map(g => ({
        band: g.dataset.band, count: Number(g.dataset.count),
        label: g.querySelector('.band-label').textContent, shown: g.querySelector('.band-count').textContent,
        width: g.querySelector('rect.bar') ? Number(g.querySelector('rect.bar').getAttribute('width')) : 0}))""",
    )
    assert [(d["band"], d["count"], d["label"], d["shown"]) for d in drawn] == [
        (b["label"], b["count"], b["label"], str(b["count"])) for b in expected
    ]
    widest = max(d["width"] for d in drawn)
    for d in drawn:  # bars in proportion to their counts; the 3 learners at 100 % get the longest
        assert d["width"] == pytest.approx(widest * d["count"] / 3, abs=0.2)
    chart = page.query_selector("#progress-chart")
    assert chart.get_attribute("role") == "img"
    assert page.evaluate("document.querySelector('#progress-chart').namespaceURI") == "http://www.w3.org/2000/svg"
    name = page.evaluate("""() => ['chart-title', 'chart-desc'].map(id => document.getElementById(id).textContent)""")
    assert name == ["Learners by progress", report_text.bands_text(expected)]
    assert "100%: 3 learners." in name[1]


def test_csv_export_has_a_row_per_learner_and_defuses_formulas(page, server, runtime, request):
    course = course_for(request, runtime)
    seed_course(server, course)
    open_report(page, server, runtime, course)
    sign_in(page)
    signed_in(page)
    with page.expect_download() as download:
        page.click("#export-csv")
    assert download.value.suggested_filename == "learners-course-%s.csv" % course
    with open(download.value.path(), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(report_text.CSV_COLUMNS)
    table = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    records = server.records(course)
    assert len(rows) == 1 + len(records)
    # Ids that a spreadsheet would run come back behind an apostrophe; the rest as they are.
    assert set(table) == {("'" + r["learner"]) if r["learner"] == FORMULA_LEARNER else r["learner"] for r in records}
    formula = table["'" + FORMULA_LEARNER]
    assert formula["Answer log"] == "q2 — %s — answered — attempt 1" % FORMULA_ANSWER  # mid-cell: inert
    markup = table[MARKUP_LEARNER]
    assert MARKUP_ANSWER.replace(";=", ";'=") in markup["Answer log"]  # its ";=" is defused where it splits
    ada = table["ada@example.com"]
    assert (ada["Progress (%)"], ada["Status"], ada["Answers"], ada["Correct"], ada["Highest attempt"]) == (
        "100",
        "Completed (verified by Coassemble)",
        "2",
        "1",
        "2",
    )
    assert table["bob"]["Status"] == "Completed (reported by the browser, not verified)"
    assert table["bob"]["Verified completed (UTC)"] == "" and table["bob"]["Reported completed (UTC)"].endswith("Z")
    for row in rows[1:]:
        for value in row:
            assert not value or value[0] not in "=+-@|\t\r", (row, value)


def test_signing_out_forgets_the_records_and_the_cookie(page, server, runtime, request):
    course = course_for(request, runtime)
    server.report(course, "ada", [("course:progress", {"progress": 20})])
    open_report(page, server, runtime, course)
    sign_in(page)
    signed_in(page)
    assert len(page.context.cookies()) == 1
    page.click("#sign-out")
    page.wait_for_selector("#sign-in-card", state="visible")
    assert page.inner_text("#sign-in-error") == "You signed out."
    assert page.locator("#learners tbody").count() == 0 and page.is_hidden("#report-body")
    assert page.context.cookies() == []
    page.reload()
    page.wait_for_selector("html[data-listening='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
    page.wait_for_selector("#sign-in-card", state="visible")  # still signed out after a reload


def test_the_course_form_opens_another_course(page, server, runtime, request):
    course = course_for(request, runtime)
    server.report(course, "zed", [("course:progress", {"progress": 60})])
    open_report(page, server, runtime, "101")
    sign_in(page)
    signed_in(page)
    page.fill("#course-input", course)
    with page.expect_navigation():
        page.press("#course-input", "Enter")
    page.wait_for_selector("html[data-listening='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
    assert "runtime=%s" % runtime in page.url  # the runtime is kept
    signed_in(page)  # the session cookie carries over: no second sign-in
    assert page.inner_text("#course-id") == course
    assert page.eval_on_selector_all("#learners tbody", "bs => bs.map(b => b.dataset.learner)") == ["zed"]


def test_report_screenshots_at_1280_and_360(page, server, runtime, request):
    course = course_for(request, runtime)
    seed_course(server, course)
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        open_report(page, server, runtime, course)
        if width == 1280:
            sign_in(page)
        signed_in(page)
        learner_body(page, "ada@example.com").query_selector("button[data-toggle]").click()
        screenshot(page, "report-%s-%d" % (runtime, width))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width == 360:  # cards, not a table that scrolls sideways
            assert page.evaluate("getComputedStyle(document.querySelector('#learners tbody')).display") == "block"
            assert page.evaluate("document.querySelector('.learners-wrap').scrollWidth") <= page.evaluate(
                "document.querySelector('.learners-wrap').clientWidth"
            )


@pytest.mark.parametrize("width", [360, 1280])
def test_contrast_names_and_live_regions_signed_out_and_in(page, server, runtime, request, width, guard):
    guard.expect_console_error(r"status of 401")
    course = course_for(request, runtime)
    seed_course(server, course)
    page.set_viewport_size({"width": width, "height": 900})
    open_report(page, server, runtime, course)
    sign_in(page, "wrong")  # the sign-in card with its error on screen
    page.wait_for_selector("#sign-in-error:has-text('admin token')")
    assert page.evaluate(CONTRAST_FAILURES) == []
    assert page.evaluate(UNNAMED_CONTROLS) == []
    assert page.get_attribute("#sign-in-error", "role") == "alert"
    sign_in(page)
    signed_in(page)
    for learner in ("ada@example.com", MARKUP_LEARNER):
        learner_body(page, learner).query_selector("button[data-toggle]").click()
    assert page.evaluate(CONTRAST_FAILURES) == []
    assert page.evaluate(UNNAMED_CONTROLS) == []
    assert page.get_attribute("#live-status", "role") == "status"
    assert page.get_attribute("#announcer", "aria-live") == "polite"
    assert page.evaluate("document.querySelector('label[for=admin-token]').textContent") == "Admin token"
    assert page.evaluate("document.querySelector('label[for=course-input]').textContent") == "Course id"
