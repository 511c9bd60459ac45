"""The course page (index.html) through its stable hooks, on both runtimes, driven by the harness."""

import csv
import io
import json

from conftest import harness_frame, open_app, screenshot

COURSE = "script=%s&speed=%d"


def wait_done(page):
    page.wait_for_selector("#course-status:text-is('Completed')", timeout=30_000)


def quiz_rows(page):
    """[(data-event, data-result, cells...)] newest first, as shown."""
    return page.eval_on_selector_all(
        "#quiz-log [data-quiz-entry]",
        "rows => rows.map(r => [r.dataset.event, r.dataset.result, r.dataset.quizEntry,"
        " ...[...r.cells].map(c => c.textContent)])",
    )


def test_perfect_run_fills_every_widget(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query=COURSE % ("perfect", 20))
    wait_done(page)
    page.wait_for_selector("#next-step:not([disabled])")
    bar = page.locator("#progress")
    assert bar.get_attribute("role") == "progressbar"
    assert (
        bar.get_attribute("aria-valuemin"),
        bar.get_attribute("aria-valuemax"),
        bar.get_attribute("aria-valuenow"),
    ) == ("0", "100", "100")
    assert page.inner_text("#progress-text") == "100%"
    assert page.inner_text("#feedback-status") == "Feedback: Excellent (5)"
    rows = quiz_rows(page)
    assert len(rows) == 5 and all(r[0] == "answer" and r[1] == "correct" for r in rows)
    seqs = [int(r[2]) for r in rows]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    # (Steps unlocked in one batch are announced together.)
    announced = page.inner_text("#announcer")
    assert announced.startswith("Unlocked: ") and announced.endswith("Next step")
    assert page.is_hidden("#quiz-empty")
    page.click("#next-step")
    assert page.inner_text("#announcer") == "Opened: Next step"


def test_failed_attempt_and_retry_are_logged_distinctly(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query=COURSE % ("fail-then-pass", 20))
    wait_done(page)
    rows = list(reversed(quiz_rows(page)))  # oldest first
    events = [r[0] for r in rows]
    assert "failed" in events and "retry" in events
    failed = rows[events.index("failed")]
    retry = rows[events.index("retry")]
    assert failed[1] == "failed" and failed[7].startswith("failed")  # Result column
    assert failed[8] == "1" and retry[8] == "2"  # Attempt column
    after_retry = rows[events.index("retry") + 1 :]
    assert after_retry and all(r[0] == "answer" and r[8] == "2" for r in after_retry)
    # Failed and retry rows look different from answers (not only by text).
    colours = page.eval_on_selector_all(
        "#quiz-log tr", "rows => [...new Set(rows.map(r => getComputedStyle(r).backgroundColor))]"
    )
    assert len(colours) == 3


def test_reload_mid_course_restores_everything_without_duplicates(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query=COURSE % ("abandon-halfway", 10))
    page.wait_for_selector("html[data-listening='true']", state="attached")
    harness = harness_frame(page)
    harness.wait_for_selector("html[data-script-done='true']", state="attached", timeout=30_000)
    page.wait_for_timeout(200)
    before = {
        "progress": page.get_attribute("#progress", "aria-valuenow"),
        "status": page.inner_text("#course-status"),
        "rows": quiz_rows(page),
    }
    assert before["status"] == "In progress" and before["rows"]
    open_app(page, servers, runtime=runtime)  # same course, no script: nothing new happens
    page.wait_for_selector("#session-status[data-session='ready']")
    assert page.get_attribute("#progress", "aria-valuenow") == before["progress"]
    assert page.inner_text("#course-status") == "In progress"
    assert [r[:3] for r in quiz_rows(page)] == [r[:3] for r in before["rows"]]


def test_session_expiry_reconnects_on_its_own_and_keeps_the_record(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query=COURSE % ("abandon-halfway", 0))
    frame = harness_frame(page)
    frame.wait_for_selector("html[data-script-done='true']", state="attached", timeout=30_000)
    page.wait_for_timeout(200)
    rows = quiz_rows(page)
    progress = page.get_attribute("#progress", "aria-valuenow")
    first = page.evaluate("document.querySelector('#course-frame iframe').src")
    frame.evaluate("harness.post({type: 'session', event: 'expired'})")
    # A fresh signed URL is minted and mounted: a new session, the record as it was.
    page.wait_for_function("(src) => document.querySelector('#course-frame iframe').src !== src", arg=first)
    page.wait_for_selector("#session-status[data-session='ready']")
    assert page.is_hidden("#reconnect")
    assert quiz_rows(page) == rows and page.get_attribute("#progress", "aria-valuenow") == progress
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no page reload


XSS = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'


def test_text_from_the_course_is_inert(page, servers, runtime):
    open_app(page, servers, runtime=runtime)
    frame = harness_frame(page)
    frame.evaluate(
        """(x) => {
            harness.post({type: 'screen', event: 'answer', data: {id: 'q1', title: x, question: x,
                          answer: ['javascript:alert(1)', x], correct: false}});
            harness.post({type: 'course', event: 'feedback', data: {value: x, rating: 1}});
            harness.post({type: 'session', event: 'error', data: {message: x}});
        }""",
        XSS,
    )
    page.wait_for_selector("#quiz-log [data-quiz-entry]")
    page.click("#inspector summary")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#quiz-log img, #quiz-log script, #event-log img, #feedback-status img").count() == 0
    row = quiz_rows(page)[0]
    assert row[4] == XSS and row[5] == XSS and row[6] == "javascript:alert(1), " + XSS
    assert page.inner_text("#feedback-status") == "Feedback: %s (1)" % XSS
    assert page.inner_text("#session-status") == "Session error: " + XSS


def test_exports_download_the_log_as_csv_and_json(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query=COURSE % ("fail-then-pass", 0))
    wait_done(page)
    with page.expect_download() as csv_download:
        page.click("#export-csv")
    text = open(csv_download.value.path(), encoding="utf-8-sig").read()  # (a BOM: Excel reads UTF-8)
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["Time", "Screen", "Question", "Answer", "Result", "Attempt"]
    assert len(table) - 1 == len(quiz_rows(page))
    assert [row[4].split(" ")[0] for row in table[1:]].count("failed") == 1
    with page.expect_download() as json_download:
        page.click("#export-json")
    assert csv_download.value.suggested_filename == "quiz-answers.csv"
    assert csv_download.value.url.startswith("blob:") and json_download.value.url.startswith("blob:")
    data = json.load(open(json_download.value.path(), encoding="utf-8"))
    assert [e["event"] for e in data["quiz"]] == [r[0] for r in reversed(quiz_rows(page))]


def test_a_large_export_downloads_whole_through_a_blob_url(page, servers, runtime):
    # 700 answers of 4,000 characters: a JSON export of ~2.9 MB, past the 2 MB that Chromium caps a
    # data: URL at (for navigation); every download goes through one Blob URL helper (boot.js).
    open_app(page, servers, runtime=runtime, query="burst=0")
    harness_frame(page).evaluate("""() => {
        const text = 'x'.repeat(3990);
        for (let i = 1; i <= 700; i++)
            harness.post({type: 'screen', event: 'answer', data: {id: 'q', answer: text + i}}); }""")
    page.wait_for_selector("#quiz-log [data-quiz-entry='700']")
    with page.expect_download() as download:
        page.click("#export-json")
    assert download.value.url.startswith("blob:")
    quiz = json.load(open(download.value.path(), encoding="utf-8"))["quiz"]
    assert [e["answer"][-3:] for e in quiz[-2:]] == ["699", "700"]
    assert len(quiz) == 700


def test_clear_log_asks_first_and_the_clear_survives_a_reload(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query=COURSE % ("perfect", 0))
    wait_done(page)
    page.click("#clear-log")
    assert page.inner_text("#clear-question") == "Clear all 5 recorded answers? This cannot be undone."
    page.click("#clear-no")
    assert page.is_hidden("#clear-confirm") and len(quiz_rows(page)) == 5
    page.click("#clear-log")
    page.click("#clear-yes")
    assert quiz_rows(page) == [] and page.is_visible("#quiz-empty")
    assert page.get_attribute("#progress", "aria-valuenow") == "100"  # only the log was cleared
    open_app(page, servers, runtime=runtime)
    page.wait_for_selector("#session-status[data-session='ready']")
    assert quiz_rows(page) == [] and page.inner_text("#course-status") == "Completed"


def test_reset_forgets_the_course_record(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query=COURSE % ("perfect", 0))
    wait_done(page)
    page.click("#reset")
    page.click("#reset-yes")
    assert page.get_attribute("#progress", "aria-valuenow") == "0"
    assert page.inner_text("#course-status") == "Not started" and quiz_rows(page) == []
    # The course frame is still there and listened to: the pill does not fall back to "Connecting…".
    assert page.get_attribute("#session-status", "data-session") == "ready"
    assert page.is_disabled("#next-step")
    open_app(page, servers, runtime=runtime)
    page.wait_for_selector("#session-status[data-session='ready']")
    assert quiz_rows(page) == [] and page.is_disabled("#next-step")


def test_inspector_lists_accepted_and_rejected_messages_with_reasons(page, servers, runtime):
    open_app(page, servers, runtime=runtime)
    frame = harness_frame(page)
    page.wait_for_selector("#session-status[data-session='ready']")
    frame.evaluate(
        "harness.postRaw('{not json'); harness.postRaw('[1,2]');"
        "harness.post({type: 'course', event: 'progress', data: {progress: 'lots'}});"
        "harness.post({type: 'course', event: 'teleport'})"
    )
    page.click("#inspector summary")
    page.wait_for_selector("#event-log [data-event-name='course:teleport']")
    reasons = page.eval_on_selector_all("#event-log [data-rejected]", "rs => rs.map(r => r.dataset.rejected)")
    assert reasons[:3] == ["progress is not a finite number", "not an object (got array)", "not JSON"]
    assert page.locator("#event-log [data-event-name='session:ready']").count() == 1
    counts = page.inner_text("#event-counts")
    assert counts.endswith("· 3 rejected")


def test_keyboard_reaches_the_controls(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query=COURSE % ("perfect", 0))
    wait_done(page)
    page.focus("#next-step")
    page.keyboard.press("Enter")
    assert page.inner_text("#announcer") == "Opened: Next step"
    page.focus("#clear-log")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "clear-no"  # safe choice focused
    page.keyboard.press("Enter")
    assert page.is_hidden("#clear-confirm") and page.evaluate("document.activeElement.id") == "clear-log"


def test_screenshots_at_phone_and_desktop_widths(page, servers, runtime):
    """Artifacts for people to look at: start, mid-quiz after a failed attempt, completed."""
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        open_app(page, servers, runtime=runtime)
        page.wait_for_selector("#session-status[data-session='ready']")
        screenshot(page, "course-start-%s-%d" % (runtime, width))
        page.click("#reset")
        page.click("#reset-yes")
        open_app(page, servers, runtime=runtime, query="script=fail-then-pass&speed=400")
        page.wait_for_selector("#quiz-log [data-event='retry']", timeout=30_000)
        page.click("#inspector summary")
        screenshot(page, "course-mid-quiz-%s-%d" % (runtime, width))
        wait_done(page)
        page.wait_for_timeout(300)
        screenshot(page, "course-completed-%s-%d" % (runtime, width))
        # Nothing may stick out sideways on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.click("#reset")
        page.click("#reset-yes")


def test_text_outside_ascii_survives_both_ways(page, servers, runtime):
    # MicroPython's JS<->Python string conversion mangles astral characters; the bridge and the
    # renderer must not let it show.
    text = "Café ☕ — 😀 naïve 中文"
    open_app(page, servers, runtime=runtime)
    harness_frame(page).evaluate(
        "(t) => harness.post({type: 'screen', event: 'answer', data: {id: 'q', question: t, answer: t}})", text
    )
    page.wait_for_selector("#quiz-log [data-quiz-entry]")
    row = quiz_rows(page)[0]
    assert row[5] == text and row[6] == text


def test_a_script_url_in_src_is_refused_plainly(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query="src=javascript:window.__pwned%3D1")
    assert page.locator("#course-frame iframe").count() == 0
    assert page.inner_text("#session-status") == (
        "No course: Coursewire: refusing to embed a non-web URL (javascript:)"
    )
    assert page.evaluate("window.__pwned") is None


def test_a_long_quiz_log_is_stored_in_chunks_and_restored_whole(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query="burst=0")
    frame = harness_frame(page)
    frame.evaluate("""() => { for (let i = 1; i <= 120; i++)
        harness.post({type: 'screen', event: 'answer', data: {id: 'q' + (i % 7), answer: 'answer ' + i}}); }""")
    page.wait_for_selector("#quiz-log [data-quiz-entry='120']")
    keys = page.evaluate("Object.keys(localStorage).sort()")
    assert [k.rsplit(":", 1)[1] for k in keys if ":quiz:" in k] == ["0", "1", "2"]  # 50 + 50 + 20
    open_app(page, servers, runtime=runtime, query="burst=0")
    page.wait_for_selector("#quiz-log [data-quiz-entry='120']")
    answers = page.eval_on_selector_all("#quiz-log [data-quiz-entry]", "rows => rows.map(r => r.cells[3].textContent)")
    assert answers == ["answer %d" % i for i in range(120, 0, -1)]
    # Clearing the log removes the chunks too, at once (not on the next frame): what the learner
    # sees emptied is what is stored.
    page.click("#clear-log")
    # The confirmation and the storage read in one task: no animation frame can come between.
    keys = page.evaluate("() => { document.getElementById('clear-yes').click(); return Object.keys(localStorage); }")
    assert not [k for k in keys if ":quiz:" in k]
    assert page.locator("#quiz-log [data-quiz-entry]").count() == 0


def test_steps_unlock_one_by_one_and_never_lock_again(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query=COURSE % ("abandon-halfway", 0))
    page.wait_for_selector("li[data-step='cheat-sheet'][data-unlocked='true']", timeout=30_000)
    assert page.get_attribute("li[data-step='practical']", "data-unlocked") == "false"
    assert page.is_disabled("#next-step") and page.is_enabled("#step-cheat-sheet")
    open_app(page, servers, runtime=runtime, query=COURSE % ("perfect", 0))  # same course, again
    wait_done(page)
    page.wait_for_selector("#next-step:not([disabled])")
    states = page.eval_on_selector_all("#steps li", "items => items.map(i => [i.dataset.step, i.dataset.unlocked])")
    assert states == [["cheat-sheet", "true"], ["practical", "true"], ["next-step", "true"]]


def test_the_table_shows_the_newest_200_entries_and_says_so(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query="burst=0")
    assert page.is_hidden("#quiz-more")
    # 230 at once (a large batch: its newest rows first, the older ones when the page is idle),
    # then 5 more in a later task, which may land before or after those older rows.
    harness_frame(page).evaluate("""() => {
        const post = (i) => harness.post({type: 'screen', event: 'answer', data: {id: 'q', answer: 'answer ' + i}});
        for (let i = 1; i <= 230; i++) post(i);
        setTimeout(() => { for (let i = 231; i <= 235; i++) post(i); }, 0); }""")
    page.wait_for_selector("#quiz-log [data-quiz-entry='235']")
    page.wait_for_selector("#quiz-log:not([aria-busy])", state="attached")
    page.wait_for_selector("#quiz-more:visible")
    assert page.inner_text("#quiz-more") == "Showing the newest 200 of 235 entries; the exports hold them all."
    seqs = page.eval_on_selector_all("#quiz-log [data-quiz-entry]", "rows => rows.map(r => +r.dataset.quizEntry)")
    assert seqs == list(range(235, 35, -1))
    answers = page.eval_on_selector_all("#quiz-log [data-quiz-entry]", "rows => rows.map(r => r.cells[3].textContent)")
    assert answers == ["answer %d" % i for i in range(235, 35, -1)]
    with page.expect_download() as download:
        page.click("#export-json")
    assert len(json.load(open(download.value.path(), encoding="utf-8"))["quiz"]) == 235


def test_a_locked_step_names_its_screen_by_title_once_known(page, servers, runtime):
    open_app(page, servers, runtime=runtime, query="burst=0")
    practical = "li[data-step='practical'] .state"
    assert page.inner_text(practical) == "Locked: pass the quiz \u201cknowledge-check\u201d"
    harness_frame(page).evaluate(
        "harness.post({type: 'screen', event: 'start', data: {id: 'knowledge-check', title: 'Knowledge check'}})"
    )
    page.wait_for_selector(practical + ":has-text('Knowledge check')")
    assert page.inner_text(practical) == "Locked: pass the quiz \u201cKnowledge check\u201d"
