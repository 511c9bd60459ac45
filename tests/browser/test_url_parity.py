"""coursewire/core/urls.py against Chromium's own URL parser: every URL web_url accepts parses in
the browser (a throwing `new URL` escapes Python's `except` on MicroPython), to the same origin
(the allow-list and the builder's Back compare origins). Seeded, a few thousand URLs a run."""

import random

from coursewire.core.urls import web_url

LABELS = ["a", "b", "z", "0", "1", "9", "255", "256", "4294967296", "0x", "0xff", "0x100000000", "08", "09",
          "xn--", "-", ".", "..", "1.2.3.4", "_"]
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
    theirs = dict(page.evaluate(
        "(us) => us.map((u) => { try { return [u, new URL(u).origin]; } catch (e) { return [u, null]; } })",
        sorted(ours)))
    throws = [url for url in ours if theirs[url] is None]
    differ = [(url, ours[url], theirs[url]) for url in ours if theirs[url] not in (None, ours[url])]
    assert len(ours) > 500  # a real sample, not a refusal of everything
    assert throws == [] and differ == []
