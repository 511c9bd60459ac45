"""The same core, unchanged, in the browser: recorded sequences replayed on Pyodide and
MicroPython end in exactly the state CPython reaches."""

import json
import os

from coursewire.core.jsonsafe import parse_json
from coursewire.core.wire import Rejection, parse_message

from conftest import BOOT_TIMEOUT_MS, ROOT
from replay import replay

FIXTURES = os.path.join(ROOT, "tests", "fixtures")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script>window.RECORDED = RECORDED_LITERAL;</script>
<script type="module" src="/runtime/pyscript/core.js"></script></head>
<body><script type="RUNTIME" config="/CONFIG">
REPLAY_SOURCE
import json
from pyscript import document, window
from coursewire.core.jsonsafe import json_loads
recorded = json_loads(window.RECORDED)  # ASCII-only text, as bridge.js hands it over
result = {"player": replay("player", recorded["player"]), "builder": replay("builder", recorded["builder"])}
document.body.setAttribute("data-result", json.dumps(result))
</script></body></html>"""


def recorded():
    with open(os.path.join(FIXTURES, "recorded_course.json"), encoding="utf-8") as f:
        player = json.load(f)
    with open(os.path.join(FIXTURES, "recorded_builder.json"), encoding="utf-8") as f:
        builder = json.load(f)
    return {"player": player, "builder": builder}


def test_recorded_sequences_end_in_the_same_state_as_on_cpython(page, servers, runtime):
    messages = recorded()
    expected = {kind: replay(kind, messages[kind]) for kind in ("player", "builder")}
    # A JS string literal holding the JSON text ("</" escaped so the data cannot close the tag).
    # ASCII-only JSON, as bridge.js hands messages to Python (MicroPython's string conversion
    # mangles characters outside the BMP; the fixtures contain an emoji).
    literal = json.dumps(json.dumps(messages, ensure_ascii=True)).replace("</", "<\\/")
    config = "coursewire/mpy.toml" if runtime == "mpy" else "coursewire/pyscript.toml"
    # tests/replay.py is test code, not part of the library: its source goes into the page itself.
    with open(os.path.join(ROOT, "tests", "replay.py"), encoding="utf-8") as f:
        replay_source = f.read()
    html = (
        PAGE.replace("RECORDED_LITERAL", literal)
        .replace("RUNTIME", runtime)
        .replace("CONFIG", config)
        .replace("REPLAY_SOURCE", replay_source)
    )
    page.route(servers.app + "/replay-test.html", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(servers.app + "/replay-test.html")
    page.wait_for_selector("body[data-result]", state="attached", timeout=BOOT_TIMEOUT_MS)
    got = json.loads(page.get_attribute("body", "data-result"))
    assert got == expected
    assert expected["player"]["quiz"] and expected["player"]["progress"] == 100  # a real sequence


NUMBERS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script>window.TEXTS = TEXTS_LITERAL;</script>
<script type="module" src="/runtime/pyscript/core.js"></script></head>
<body><script type="RUNTIME" config="/CONFIG">
import json
from pyscript import document, window
from coursewire.core.jsonsafe import parse_json
from coursewire.core.wire import Rejection, parse_message
def outcome(text):
    value, reason = parse_json(text, 10000)
    result = parse_message(text)
    message = ["rejected", result.reason] if isinstance(result, Rejection) else ["event", result.name, result.data]
    return [value, reason, message]
document.body.setAttribute("data-result", json.dumps([outcome(text) for text in json.loads(window.TEXTS)]))
</script></body></html>"""

# Numbers json.loads overflows into infinities (1e999, -1E400, 309+ digits), in short and long
# text, next to numbers that do not overflow and a string that spells one.
NUMBER_TEXTS = [
    "1e999",
    "-1E400",
    "[1e999, 2]",
    '{"a": [{"b": -1e+400}], "c": "1e999", "d": 1.5}',
    "1" * 400 + ".0",
    "[" + "1" * 400 + "]",
    "[1.5e-999, 1e308]",
    '{"type": "course", "event": "progress", "data": {"progress": 1e400}}',
    '{"type": "course", "event": "progress", "data": {"progress": 50, "score": -1E999, "x": "' + "a" * 400 + '"}}',
    '{"type": "screen", "event": "answer", "data": {"id": "q", "answer": [1e999, "1e999"], "score": 1}}',
]


def outcome(text):
    value, reason = parse_json(text, 10000)
    result = parse_message(text)
    message = ["rejected", result.reason] if isinstance(result, Rejection) else ["event", result.name, result.data]
    return [value, reason, message]


def test_overflowing_numbers_mean_the_same_as_on_cpython(page, servers, runtime):
    expected = json.loads(json.dumps([outcome(text) for text in NUMBER_TEXTS]))
    assert expected[0] == [None, None, ["rejected", "not an object (got null)"]]  # 1e999 became null
    literal = json.dumps(json.dumps(NUMBER_TEXTS))
    config = "coursewire/mpy.toml" if runtime == "mpy" else "coursewire/pyscript.toml"
    html = NUMBERS_PAGE.replace("TEXTS_LITERAL", literal).replace("RUNTIME", runtime).replace("CONFIG", config)
    page.route(servers.app + "/numbers-test.html", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(servers.app + "/numbers-test.html")
    page.wait_for_selector("body[data-result]", state="attached", timeout=BOOT_TIMEOUT_MS)
    assert json.loads(page.get_attribute("body", "data-result")) == expected
