"""coursewire/core/urls.py against Chromium's own URL parser: every URL web_url accepts parses in
the browser (a throwing `new URL` escapes Python's `except` on MicroPython), to the same origin
(the allow-list and the builder's Back compare origins); and web_url answers alike on CPython,
Pyodide and MicroPython. Seeded, a few thousand URLs a run."""

import json
import random

from coursewire.core.urls import web_url

from conftest import BOOT_TIMEOUT_MS

LABELS = [
    "a",
    "b",
    "z",
    "0",
    "1",
    "9",
    "255",
    "256",
    "4294967296",
    "0x",
    "0xff",
    "0x100000000",
    "08",
    "09",
    "xn--",
    "-",
    ".",
    "..",
    "1.2.3.4",
    "_",
]
V6_PIECES = ["", "0", "1", "ffff", "fffff", "::", ":", "1.2.3.4", "01.2.3.4", "1.2.3", "a", "g", "0000"]
PORTS = ["", ":80", ":443", ":8000", ":0", ":65536", ":", ":0080"]


def candidates(seed, n):
    rng = random.Random(seed)
    urls = set()
    for _ in range(n):
        host = "".join(rng.choice(LABELS) for _ in range(rng.randint(1, 5)))
        urls.add("%s://%s%s/p?q#f" % (rng.choice(["http", "https", "HTTP"]), host, rng.choice(PORTS)))
        v6 = ":".join(rng.choice(V6_PIECES) for _ in range(rng.randint(1, 10)))
        urls.add("https://[%s]%s/p" % (v6, rng.choice(PORTS)))
    return sorted(urls)


def test_every_url_web_url_accepts_parses_in_chromium_to_the_same_origin(page):
    urls = candidates(15, 3000)
    ours = {}
    for url in urls:
        try:
            ours[url] = web_url(url, "http://127.0.0.1:8000/page.html")[1]
        except ValueError:
            pass
    theirs = dict(
        page.evaluate(
            "(us) => us.map((u) => { try { return [u, new URL(u).origin]; } catch (e) { return [u, null]; } })",
            sorted(ours),
        )
    )
    throws = [url for url in ours if theirs[url] is None]
    differ = [(url, ours[url], theirs[url]) for url in ours if theirs[url] not in (None, ours[url])]
    assert len(ours) > 500  # a real sample, not a refusal of everything
    assert throws == [] and differ == []


RUN_IN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module" src="/runtime/pyscript/core.js"></script></head>
<body><script type="%(runtime)s" config="/%(config)s">
import json
from pyscript import document
from coursewire.core.urls import web_url
out = []
for url in json.loads(document.body.getAttribute("data-urls")):
    try:
        out.append(list(web_url(url, "http://127.0.0.1:8000/page.html")))
    except ValueError as error:
        out.append(str(error))
document.body.setAttribute("data-result", json.dumps(out))
</script></body></html>"""


def test_web_url_answers_the_same_on_both_browser_runtimes_as_on_cpython(page, servers, runtime):
    # The same core module decides in the browser: octal and hex IPv4 parts, IPv6 groups and
    # ports must come out of MicroPython and Pyodide exactly as out of CPython.
    urls = candidates(16, 400)
    expected = []
    for url in urls:
        try:
            expected.append(list(web_url(url, "http://127.0.0.1:8000/page.html")))
        except ValueError as error:
            expected.append(str(error))
    html = RUN_IN_PAGE % {
        "runtime": runtime,
        "config": "coursewire/mpy.toml" if runtime == "mpy" else "coursewire/pyscript.toml",
    }
    html = html.replace("<body>", "<body data-urls='%s'>" % json.dumps(urls).replace("'", "&#39;"), 1)
    page.route(servers.app + "/urls-test.html", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(servers.app + "/urls-test.html")
    page.wait_for_selector("body[data-result]", state="attached", timeout=BOOT_TIMEOUT_MS)
    assert json.loads(page.get_attribute("body", "data-result")) == expected
