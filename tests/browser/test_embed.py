"""The drop-in wrapper: the no-code snippet (DOM CustomEvents, progress widget, cross-origin
loading), several isolated embeds on one page, and the Python API (on/off/once/"*"/decorator,
raising handlers, destroy)."""

import json
import re

from conftest import BOOT_TIMEOUT_MS, ROOT, harness_frame

PLAYER_NAMES = {
    "session:ready",
    "course:start",
    "course:progress",
    "screen:answer",
    "screen:failed",
    "screen:retry",
    "course:feedback",
    "course:completed",
}


def names_sent(frame):
    """Names of the messages the harness posted, in order (as the host should see them)."""
    sent = frame.evaluate("harness.sent.filter(m => typeof m === 'string')")
    names = []
    for text in sent:
        message = json.loads(text)
        names.append(message["type"] + (":" + message["event"] if message.get("event") else ""))
    return names


def example_elsewhere(servers, name, runtime, queries, reports=False):
    """examples/<name> as a host site on another origin would have it: absolute URLs to the
    Coursewire server, the wrapper tag for `runtime` (the examples use mpy), and each element's
    signed URL written into data-src by "its server" (minted here, with the demo harness
    parameters `queries[element id]`) instead of data-mint-url, which only a same-origin server
    answers. Reports go to the host's own server, which this test site does not have (`reports`
    keeps the attribute: the page then has a report URL and no report token)."""
    with open(ROOT + "/examples/" + name, encoding="utf-8") as f:
        html = f.read()
    if runtime == "py":
        html = html.replace(
            '<script type="mpy" src="/coursewire/browser/automount.py" config="/coursewire/mpy.toml">',
            '<script type="py" src="/coursewire/browser/automount.py" config="/coursewire/pyscript.toml">',
        )
    for path in ("/runtime/", "/coursewire/"):
        html = html.replace('"%s' % path, '"%s%s' % (servers.app, path))
    if not reports:
        html = html.replace(' data-report-url="/api/events"', "")

    def signed(match):
        element = re.search(r'id="([^"]+)"', html[html.rfind("<div", 0, match.start()) : match.start()]).group(1)
        product = (
            "builder"
            if 'data-coursewire="builder"' in html[html.rfind("<div", 0, match.start()) : match.start()]
            else "player"
        )
        return 'data-src="%s"' % servers.signed(product, match.group(2), queries.get(element, "")).replace("&", "&amp;")

    html = re.sub(
        r'data-mint-url="/api/embed-url"\s+data-course="(\d+)"\s+data-login-url="/demo/login\?learner=([^"&]+)'
        r'(?:&amp;edit=1)?"',
        signed,
        html,
    )
    assert "data-mint-url" not in html
    return html


def test_a_page_with_a_report_url_and_no_report_token_says_so_once(page, servers, runtime, host_page):
    # An own backend that hands the page a signed URL but no report token: nothing can be reported,
    # and the host developer is told once, not left with a silently empty record.
    html = example_elsewhere(servers, "host-site.html", runtime, {"course": "script=perfect&speed=20"}, reports=True)
    assert 'data-report-url="/api/events"' in html and "data-report-token" not in html
    warnings = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    page.goto(host_page("no-token-%s.html" % runtime, html))
    wait_mounted(page)
    page.wait_for_selector("#done:not([hidden])", timeout=30_000)  # the whole course played meanwhile
    told = [text for text in warnings if "report token" in text]
    assert told == [
        "Coursewire: Reports to /api/events are off: the host's server gave this page no report "
        "token, so what the learner does stays in this browser."
    ], warnings


def embed_frames(page, keys):
    """{key: Frame} for the harness iframes mounted with ?embed=<key>."""
    frames = {}
    for _ in range(300):
        for frame in page.frames:
            for key in keys:
                if "embed=" + key in frame.url:
                    frames[key] = frame
        if len(frames) == len(keys):
            return frames
        page.wait_for_timeout(50)
    raise AssertionError("harness frames missing: %s" % (set(keys) - set(frames)))


def wait_mounted(page, selector="[data-coursewire]"):
    page.wait_for_selector(selector + "[data-coursewire-initialized='true']", state="attached", timeout=BOOT_TIMEOUT_MS)


def test_example_host_site_on_another_origin_receives_dom_events_in_order(page, servers, runtime, host_page):
    html = example_elsewhere(servers, "host-site.html", runtime, {"course": "script=fail-then-pass&speed=20"})
    page.goto(host_page("shop-%s.html" % runtime, html))
    wait_mounted(page)
    page.wait_for_selector("#done:not([hidden])", timeout=30_000)
    frame = harness_frame(page)
    page.wait_for_function("window.received.includes('course:completed')")
    expected = [n for n in names_sent(frame) if n in PLAYER_NAMES]
    assert page.evaluate("window.received") == expected
    assert page.get_attribute("#bar", "value") == "100"  # the data-progress-target widget
    answers = page.eval_on_selector_all("#answers li", "items => items.length")
    assert answers == expected.count("screen:answer")


def test_example_host_site_as_served_by_coursewire(page, servers):
    page.goto(servers.app + "/examples/host-site.html?script=perfect&speed=0")
    wait_mounted(page)
    page.wait_for_selector("#done:not([hidden])", timeout=30_000)
    assert page.evaluate("window.received[0]") == "session:ready"
    assert page.get_attribute("#bar", "value") == "100"


def test_a_script_url_is_refused_with_a_clear_reason(page, servers, runtime, host_page, guard):
    guard.expect_console_error(
        r"Coursewire could not mount an embed: ValueError: the course URL must be http\(s\), not javascript:"
    )
    html = re.sub(
        r'data-src="[^"]*"',
        'data-src="javascript:window.__pwned = 1"',
        example_elsewhere(servers, "host-site.html", runtime, {}),
    )
    page.goto(host_page("evil-%s.html" % runtime, html))
    page.wait_for_selector("[data-coursewire-error]", state="attached", timeout=BOOT_TIMEOUT_MS)
    assert page.get_attribute("#course", "data-coursewire-error") == (
        "ValueError: the course URL must be http(s), not javascript:"
    )
    assert page.locator("#course iframe").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_several_embeds_on_one_page_stay_isolated(page, servers, runtime, host_page):
    queries = {key: "embed=%s&burst=0" % key for key in ("first", "second", "builder")}
    page.goto(host_page("several-%s.html" % runtime, example_elsewhere(servers, "several.html", runtime, queries)))
    page.wait_for_function(
        "document.querySelectorAll('[data-coursewire-initialized]').length === 3", timeout=BOOT_TIMEOUT_MS
    )
    page.evaluate("""() => {
        window.seen = {first: [], second: [], builder: []};
        for (const id of Object.keys(window.seen))
            for (const name of ['course:progress', 'course:created'])
                document.getElementById(id).addEventListener(name, e => window.seen[id].push(e.detail.name));
    }""")
    frames = embed_frames(page, ("first", "second", "builder"))
    for frame in frames.values():  # (interval polling: offscreen iframes get no animation frames)
        frame.wait_for_function("!!window.harness", polling=100)
    frames["first"].evaluate("harness.post({type: 'course', event: 'progress', data: {progress: 40}})")
    frames["builder"].evaluate("harness.post({type: 'course', event: 'created', data: {id: 'c1', title: 'T'}})")
    frames["second"].evaluate("harness.post({type: 'course', event: 'progress', data: {progress: 70}})")
    page.wait_for_function("window.seen.second.length === 1")
    assert page.evaluate("window.seen") == {
        "first": ["course:progress"],
        "second": ["course:progress"],
        "builder": ["course:created"],
    }
    assert page.get_attribute("#first-progress", "value") == "40"
    assert page.get_attribute("#second-progress", "value") == "70"


API_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module" src="%(app)s/runtime/pyscript/core.js"></script></head>
<body><div id="course"></div><div id="other"></div>
<script>window.calls = []; window.COURSE_URL = "%(course_url)s"; window.OTHER_URL = "%(other_url)s";</script>
<script type="%(runtime)s" config="%(app)s/%(config)s">
from pyscript import document, window
from pyscript.ffi import create_proxy
from coursewire.browser.embed import Embed

# Signed URLs the host's server minted (burst=0: the harness posts session:ready, then only what
# the test sends).
course = Embed(document.getElementById("course"), window.COURSE_URL)
other = Embed(document.getElementById("other"), window.OTHER_URL, persist=False)

def record(tag):
    def handler(event):
        window.calls.push(tag + " " + event.name)
    return handler

course.on("course:progress", record("on"))
course.once("course:progress", record("once"))
course.on("*", record("any"))

@course.on("screen:answer")
def answered(event):
    window.calls.push("decorated " + event.data["answer"])

def boom(event):
    raise RuntimeError("host bug")

course.on("course:progress", boom)
course.on("course:progress", record("after-boom"))
removed = record("removed")
course.on("course:progress", removed)
course.off("course:progress", removed)
other.on("*", record("other"))
window.destroyCourse = create_proxy(lambda: course.destroy())
document.body.setAttribute("data-ready", "true")
</script></body></html>"""


def open_api_page(page, servers, runtime, host_page):
    config = "coursewire/mpy.toml" if runtime == "mpy" else "coursewire/pyscript.toml"
    html = API_PAGE % {
        "app": servers.app,
        "runtime": runtime,
        "config": config,
        "course_url": servers.signed(query="embed=course&burst=0"),
        "other_url": servers.signed(learner="other-learner", query="embed=other&burst=0"),
    }
    page.goto(host_page("api-%s.html" % runtime, html))
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
    frames = embed_frames(page, ("course", "other"))
    # Both frames' own session:ready first, so the test starts from a quiet page.
    page.wait_for_function("window.calls.includes('other session:ready') && window.calls.includes('any session:ready')")
    page.evaluate("window.calls.length = 0")
    return frames


def post(frame, message):
    frame.evaluate("(m) => harness.post(m)", message)


def test_python_api_on_off_once_wildcard_decorator_and_a_raising_handler(page, servers, runtime, guard, host_page):
    guard.expect_console_error(r"Coursewire: handler boom for course:progress raised RuntimeError: host bug")
    frames = open_api_page(page, servers, runtime, host_page)
    post(frames["course"], {"type": "course", "event": "progress", "data": {"progress": 10}})
    post(frames["course"], {"type": "course", "event": "progress", "data": {"progress": 20}})
    post(frames["course"], {"type": "screen", "event": "answer", "data": {"id": "q", "answer": "B"}})
    page.wait_for_function("window.calls.includes('any screen:answer')")
    assert page.evaluate("window.calls") == [
        "on course:progress",
        "once course:progress",
        "after-boom course:progress",
        "any course:progress",
        "on course:progress",
        "after-boom course:progress",
        "any course:progress",
        "decorated B",
        "any screen:answer",
    ]
    # The other embed heard none of it.
    assert not [c for c in page.evaluate("window.calls") if c.startswith("other")]


def test_destroy_removes_the_iframe_and_stops_all_handling(page, servers, runtime, host_page):
    frames = open_api_page(page, servers, runtime, host_page)
    page.evaluate("window.destroyCourse()")
    assert page.locator("#course iframe").count() == 0
    # Nothing from the page can reach the destroyed embed; the other keeps working.
    page.evaluate("window.postMessage(JSON.stringify({type: 'course', event: 'progress', data: {progress: 5}}), '*')")
    post(frames["other"], {"type": "course", "event": "progress", "data": {"progress": 30}})
    page.wait_for_function("window.calls.includes('other course:progress')")
    assert page.evaluate("window.calls") == ["other course:progress"]
