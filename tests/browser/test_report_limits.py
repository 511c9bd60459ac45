"""A page whose reports meet the server's 429 (coursewire/server/limits.py) waits the server's
Retry-After, sends nothing meanwhile however much the course goes on, and then delivers every
report once: on both runtimes, against serve.py with a cap small enough to meet (one batch per
learner per 3-second window, set through COURSEWIRE_LIMITS)."""

import json
import time

import pytest

from conftest import Servers, harness_frame, open_app, serve_env
from serving import start_serve

LIMITS = "report_window_s=3 report_events=1"

# Every report the page POSTs, with the page's own clock: when it was sent and answered.
RECORD_REPORTS = """(() => {
    const realFetch = window.fetch;
    window.__reports = [];
    window.fetch = function (url, options) {
        if (!String(url).includes('api/events')) return realFetch.call(this, url, options);
        const entry = {sent: performance.now()};
        window.__reports.push(entry);
        return realFetch.call(this, url, options).then(response => {
            entry.answered = performance.now();
            entry.retryAfter = response.headers.get('Retry-After');
            response.clone().text().then(text => { entry.body = text; entry.status = response.status; });
            return response;
        });
    };
})()"""
ALL_ANSWERED = "() => window.__reports.length > 0 && window.__reports.every(r => r.status !== undefined)"


@pytest.fixture(scope="module")
def servers():
    proc, app, harness = start_serve(env=serve_env(COURSEWIRE_LIMITS=LIMITS))
    served = Servers(app, harness)
    served.log_path = proc.log_path
    yield served
    proc.stop()


def wait_for_record(servers, learner, check, timeout_s=60):
    deadline = time.time() + timeout_s
    record = None
    while time.time() < deadline:
        record = servers.records().get(learner)
        if record is not None and check(record):
            return record
        time.sleep(0.3)
    raise AssertionError("the server's record never matched: %r" % (record,))


def test_a_page_meeting_429_waits_retry_after_then_delivers_everything_once(page, servers, runtime, guard):
    guard.expect_console_error(r"the server responded with a status of 429")
    learner = "limited-%s" % runtime
    page.add_init_script(RECORD_REPORTS)
    open_app(page, servers, runtime=runtime, query="learner=%s&burst=0" % learner)
    page.wait_for_selector("#session-status[data-session='ready']")
    frame = harness_frame(page)
    # One event at a time, each answered before the next, until one meets the cap (the second
    # batch inside a window does; a few rounds at most).
    progress = 0
    while progress < 40:
        progress += 1
        frame.evaluate("(p) => harness.post({type: 'course', event: 'progress', data: {progress: p}})", progress)
        page.wait_for_selector("#progress[aria-valuenow='%d']" % progress)
        page.wait_for_function(ALL_ANSWERED)
        if 429 in page.evaluate("window.__reports.map(r => r.status)"):
            break
    assert 429 in page.evaluate("window.__reports.map(r => r.status)")
    # The course goes on while the page waits: nothing is lost, and the wait is not cut short.
    frame.evaluate("""() => { for (let p = 41; p <= 45; p++) harness.post({type: 'course', event: 'progress', data: {progress: p}});
        harness.post({type: 'screen', event: 'answer', data: {id: 'q1', question: 'Q1', answer: 'A1', correct: true}});
        harness.post({type: 'screen', event: 'answer', data: {id: 'q2', question: 'Q2', answer: 'A2', correct: false}}); }""")
    page.wait_for_selector("#progress[aria-valuenow='45']")
    record = wait_for_record(servers, learner, lambda r: r["progress"] == 45 and len(r["answers"]) == 2)
    assert sorted(a["answer"] for a in record["answers"]) == ["A1", "A2"]
    page.wait_for_function("() => !Object.keys(localStorage).some(k => k.endsWith(':outbox'))")  # nothing left
    page.wait_for_function(ALL_ANSWERED)
    reports = page.evaluate("window.__reports")
    taken = [json.loads(r["body"]) for r in reports if r["status"] == 200]
    # Every event once: the applied counts add up to the record's, and nothing came twice.
    assert sum(t["applied"] for t in taken) == record["reported_events"]
    assert sum(t["duplicates"] for t in taken) == 0
    # After each 429 the page sent nothing until its Retry-After had passed (the page's own clock;
    # a lower bound, which a slow machine only makes easier to meet).
    for refused, following in zip(reports, reports[1:]):
        if refused["status"] == 429:
            waited_ms = following["sent"] - refused["answered"]
            assert waited_ms >= int(refused["retryAfter"]) * 1000 - 20, (refused, following)
