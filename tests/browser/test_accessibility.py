"""What a keyboard or screen-reader user and WCAG AA ask of both pages: text contrast, named
controls, live regions. Checked in the finished state, where every kind of row is on screen."""

import pytest

from conftest import harness_frame, open_app

# For each visible element that holds text: its colour against the background behind it
# (translucent layers composited), as WCAG 2 contrast ratios. Large text (24px, or 18.66px bold) needs 3:1, other 4.5:1.
CONTRAST_FAILURES = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                                      .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {  // translucent layers composited down to the first opaque one
    const layers = [];
    for (; el; el = el.parentElement) {
      const [r, g, b, a = 1] = rgb(getComputedStyle(el).backgroundColor);
      if (a > 0) layers.push([r, g, b, a]);
      if (a >= 1) break;
    }
    return layers.reduceRight((under, [r, g, b, a]) => [r, g, b].map((v, i) => v * a + under[i] * (1 - a)),
                              [255, 255, 255]);
  };
  const failures = [];
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.checkVisibility() || el.closest(".visually-hidden, .skip")) continue;
    const style = getComputedStyle(el);
    const a = lum(rgb(style.color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    if (ratio < needed) failures.push(`${el.tagName}#${el.id}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return failures;
}"""

UNNAMED_CONTROLS = """() => [...document.querySelectorAll("button, a[href], summary, [role=progressbar], [tabindex]")]
  .filter((el) => el.checkVisibility())
  .filter((el) => !(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 80))"""


@pytest.mark.parametrize("width", [360, 1280])
def test_course_page_contrast_names_and_live_regions(page, servers, runtime, width):
    page.set_viewport_size({"width": width, "height": 900})
    open_app(page, servers, runtime=runtime, query="script=fail-then-pass&speed=0")
    page.wait_for_selector("#course-status:text-is('Completed')", timeout=30_000)
    page.click("#inspector summary")
    page.wait_for_selector("#event-log li")
    # A session error offers Reconnect (an expired session reconnects on its own): the button on screen too.
    harness_frame(page).evaluate(
        "harness.post({type: 'session', event: 'error', data: {message: 'Signature expired'}})"
    )
    page.wait_for_selector("#reconnect", state="visible")
    page.click("#clear-log")  # the confirmation box on screen too
    assert page.evaluate(CONTRAST_FAILURES) == []
    assert page.evaluate(UNNAMED_CONTROLS) == []
    assert page.get_attribute("#announcer", "aria-live") == "polite"
    assert page.get_attribute("#quiz-log", "aria-live") == "polite"
    assert page.get_attribute("#session-status", "role") == "status"


def test_builder_page_contrast_and_names(page, servers, runtime):
    open_app(page, servers, "builder.html", runtime=runtime, query="script=errors&count=2&speed=0")
    page.wait_for_selector("#error-count:text-is('2')", timeout=30_000)
    assert page.evaluate(CONTRAST_FAILURES) == []
    assert page.evaluate(UNNAMED_CONTROLS) == []
