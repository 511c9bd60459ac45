"""The builder page (builder.html) through its stable hooks, on both runtimes."""

import re

from conftest import harness_frame, open_app, screenshot


def open_builder(page, servers, runtime, query=""):
    return open_app(page, servers, "builder.html", runtime=runtime, query=query)


def test_authoring_shows_course_and_each_saved_draft(page, servers, runtime):
    open_builder(page, servers, runtime, "script=author&speed=30&seed=7")
    page.wait_for_selector("#draft-status:has-text('revision 3')", timeout=30_000)
    assert re.fullmatch(r"Draft saved at \d\d:\d\d:\d\d \(revision 3\)", page.inner_text("#draft-status"))
    assert page.inner_text("#course-id").startswith("course-")
    assert page.inner_text("#course-title") != "—"
    assert page.inner_text("#session-status") == "Session ready"
    # The draft record survives a reload (no script this time: nothing new is saved).
    course_id = page.inner_text("#course-id")
    open_builder(page, servers, runtime)
    assert page.inner_text("#course-id") == course_id
    assert page.inner_text("#draft-status").endswith("(revision 3)")


def test_errors_are_listed_and_counted(page, servers, runtime):
    open_builder(page, servers, runtime, "script=errors&count=4&speed=0")
    page.wait_for_selector("#error-count:text-is('4')", timeout=30_000)
    items = page.eval_on_selector_all("#errors li", "items => items.map(i => i.textContent)")
    assert len(items) == 4 and len(set(items)) == 4
    assert page.get_attribute("#session-status", "data-session") == "error"
    assert page.inner_text("#session-status").startswith("Session error: ")
    assert page.is_visible("#reconnect") and page.is_hidden("#errors-empty")


def test_expiry_reconnects_on_its_own_and_keeps_the_draft(page, servers, runtime):
    # The author saves, then the session expires: the page mints a fresh signed URL and mounts it
    # without being asked, and the draft record stays; the page itself never reloads.
    open_builder(page, servers, runtime, "script=expire&speed=30")
    page.wait_for_function(
        "document.getElementById('event-counts').textContent.startsWith('4 accepted')", timeout=30_000
    )
    page.wait_for_selector("#session-status[data-session='ready']")
    page.click("#inspector summary")
    page.wait_for_selector("#event-log li")
    names = page.eval_on_selector_all("#event-log li", "rows => rows.map(r => r.dataset.eventName).reverse()")
    assert names == ["session:ready", "course:created", "session:expired", "session:ready"]
    assert page.inner_text("#draft-status").startswith("Draft saved at")
    assert page.inner_text("#course-id").startswith("course-")
    assert page.is_hidden("#reconnect")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_back_goes_to_the_configured_page(page, servers, runtime):
    target = servers.app + "/index.html?runtime=" + runtime + "&from=builder"
    open_builder(page, servers, runtime, "back=" + target.replace("&", "%26").replace("?", "%3F"))
    page.wait_for_selector("#session-status[data-session='ready']")
    assert page.get_attribute("#back-target", "href") == target
    with page.expect_navigation():
        harness_frame(page, "builder.html").evaluate("harness.post({type: 'back'})")
    assert page.url == target


def test_back_defaults_to_the_course_page_and_refuses_script_urls(page, servers, runtime):
    open_builder(page, servers, runtime, "back=javascript:alert(1)")
    page.wait_for_selector("#session-status[data-session='ready']")
    assert page.get_attribute("#back-target", "href") == servers.app + "/index.html?runtime=" + runtime


def test_builder_screenshots(page, servers, runtime):
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        if width != 360:
            page.evaluate("localStorage.clear()")  # same picture at each width
        open_builder(page, servers, runtime, "script=author&speed=0")
        page.wait_for_selector("#draft-status:has-text('revision')", timeout=30_000)
        harness_frame(page, "builder.html").evaluate(
            "harness.post({type: 'session', event: 'error', data: {message: 'Autosave failed: network'}})"
        )
        page.wait_for_selector("#error-count:text-is('1')")
        screenshot(page, "builder-%s-%d" % (runtime, width))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
