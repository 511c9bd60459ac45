"""report.html's per-learner Export and Erase… against the erasure API (DELETE /api/learners/<id>,
GET /api/learners/<id>/export), on both runtimes, through serve.py and its simulated Coassemble."""

import json

from test_accessibility import CONTRAST_FAILURES, UNNAMED_CONTROLS
from test_report_page import (  # noqa: F401  (fixtures: the serve.py with an admin token, downloads on)
    browser_context_args,
    cell_texts,
    course_for,
    learner_body,
    open_report,
    report_server,
    server,
    sign_in,
    signed_in,
)

ODD_LEARNER = "ana maría <b>&amp;</b>"


def test_a_learner_is_exported_and_erased_through_a_confirmation(page, server, runtime, request):  # noqa: F811 (the imported fixture)
    course = course_for(request, runtime)
    keep, gone = "keep-%s" % runtime, "%s %s" % (ODD_LEARNER, runtime)
    server.report(course, keep, [("course:progress", {"progress": 30})])
    server.report(
        course,
        gone,
        [("course:progress", {"progress": 60}), ("screen:answer", {"id": "q1", "answer": "B", "correct": True})],
    )
    server.webhook("course.completed", course, gone)
    open_report(page, server, runtime, course)
    sign_in(page)
    signed_in(page)
    page.wait_for_selector("#count-all:text-is('2')")

    # Export: everything held about the learner, downloaded as JSON through a Blob URL.
    with page.expect_download() as download:
        learner_body(page, gone).query_selector("button[data-action=export]").click()
    assert download.value.url.startswith("blob:")
    with open(download.value.path(), encoding="utf-8") as f:
        exported = json.load(f)
    assert gone in json.dumps(exported, ensure_ascii=False)
    page.wait_for_selector("#record-status:has-text('Exported everything held about')")

    # Erase…: a dialog naming the learner; Enter on the first focus (Cancel) erases nothing.
    erase = learner_body(page, gone).query_selector("button[data-action=erase]")
    erase.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#erase-dialog[open]")
    assert page.inner_text("#erase-learner") == gone  # as text: the markup in the id does not render
    assert page.locator("#erase-dialog b").count() == 0
    assert "cannot be undone" in page.inner_text("#erase-dialog") and "Coassemble" in page.inner_text("#erase-dialog")
    assert page.evaluate("document.activeElement.id") == "erase-cancel"
    assert page.evaluate(CONTRAST_FAILURES) == [] and page.evaluate(UNNAMED_CONTROLS) == []
    page.keyboard.press("Enter")
    page.wait_for_selector("#erase-dialog", state="hidden")
    assert page.evaluate("document.activeElement.dataset.action") == "erase"  # back where the user was
    assert gone in [r["learner"] for r in server.records(course)]
    page.keyboard.press("Enter")
    page.wait_for_selector("#erase-dialog[open]")
    page.keyboard.press("Escape")  # Escape cancels too
    page.wait_for_selector("#erase-dialog", state="hidden")
    assert gone in [r["learner"] for r in server.records(course)]

    # The deliberate button erases: the row goes, the status line says what was removed and what
    # Coassemble answered, and the summary counts one learner fewer.
    page.keyboard.press("Enter")
    page.wait_for_selector("#erase-dialog[open]")
    page.click("#erase-confirm")
    page.wait_for_selector("#record-status:has-text('rased')")
    status = page.inner_text("#record-status")
    assert status.startswith("Erased %s: 1 record, 2 reported events, 1 quiz answer" % gone)
    # serve.py's simulated Coassemble was asked (DELETE user) and never knew this learner.
    assert status.split("removed here.")[1].strip() == "Coassemble holds nothing about the learner."
    assert learner_body(page, gone) is None and cell_texts(page, keep)["learner"] == keep
    page.wait_for_selector("#count-all:text-is('1')")
    assert [r["learner"] for r in server.records(course)] == [keep]
