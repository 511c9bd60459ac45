"""The Python floor (bench/pyfloor.html): the least Python any Coursewire listener must run.

The library's bridge (coursewire/browser/bridge.js) queues the course frame's messages and hands
them over at most 100 per call, as JSON text, exactly as it does for the demo page. Per message:
check where it came from (two comparisons), parse its JSON, look its event up in a dict and make
the workload's minimum state change (progress: keep the maximum; screens: set a dict entry by
id; answers: append to a list). Once per batch: write the counter, the bar's value and, for
answers, the newest row's text. Nothing is validated, kept for an inspector, stored or rendered
beyond that: whatever our pipeline spends above this page's time is ours, not the interpreter's.

?variant=report adds the least reporting: every accepted event stamped with a sequence number and
the batch's time, the batch serialised in one json.dumps and POSTed to /api/events with the
report token of the minted URL (one POST per batch, not waiting for the last one's answer).
"""

import json

from pyscript import document, window
from pyscript.ffi import create_proxy

bridge = window.coursewireBridge
HARNESS = window.coursewireConfig.harnessOrigin
FRAME = bridge.mountedIn(document.getElementById("course-frame"))
REPORT = "variant=report" in window.location.search
TEXT_FORMS = ("text", "json")

bar = document.getElementById("progress")
counts = document.getElementById("event-counts")
newest = document.getElementById("newest-answer")

state = {"progress": 0, "accepted": 0, "rejected": 0, "seq": 0, "token": None}
screens = {}
answers = []
session = bridge.sessionId()


def on_progress(data):
    value = data["progress"]
    if value > state["progress"]:
        state["progress"] = value


def on_screen(data):
    screens[data["id"]] = data


def on_answer(data):
    answers.append(data)


HANDLERS = {
    "course:progress": on_progress,
    "screen:start": on_screen,
    "screen:end": on_screen,
    "screen:answer": on_answer,
}


def consume(batch_json):
    answered = len(answers)
    report = [] if REPORT else None
    now = window.Date.new().toISOString() if REPORT else None
    for frame_id, origin, form, payload in json.loads(batch_json):
        if form not in TEXT_FORMS:
            if form == "minted":
                state["token"] = json.loads(payload).get("report_token")
            elif form != "posted":
                state["rejected"] += 1
            continue
        if frame_id != FRAME or origin != HARNESS:
            state["rejected"] += 1
            continue
        try:
            message = json.loads(payload)
            handler = HANDLERS.get(message["type"] + ":" + message["event"])
            if handler is not None:
                handler(message["data"])
        except Exception:
            state["rejected"] += 1
            continue
        state["accepted"] += 1
        if report is not None:
            state["seq"] += 1
            message["seq"] = state["seq"]
            message["time"] = now
            report.append(message)
    counts.textContent = "%d accepted · %d rejected" % (state["accepted"], state["rejected"])
    bar.setAttribute("aria-valuenow", str(state["progress"]))
    if len(answers) > answered:
        answer = answers[-1]
        newest.textContent = "%s · %s" % (answer["question"], answer["answer"])
    if report and state["token"]:
        bridge.post(
            FRAME, "/api/events", json.dumps({"token": state["token"], "session": session, "events": report}), "report"
        )
    return ""


_keep = create_proxy(consume)  # alive for the page's lifetime
bridge.connect(_keep)
document.documentElement.setAttribute("data-listening", "true")
