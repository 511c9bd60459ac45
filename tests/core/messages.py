"""Building parsed events for the core tests, the way Coassemble's messages arrive (JSON text)."""

import json

from coursewire.core.wire import parse_message

from replay import timestamp

# Unlock rules of every kind, used across the reducer and record tests.
RULES = [
    {"id": "half", "label": "Halfway", "when": "progress", "at": 50},
    {"id": "intro", "label": "Intro done", "when": "screen-complete", "screen": "s1"},
    {"id": "quiz", "label": "Quiz passed", "when": "quiz-passed", "screen": "q"},
    {"id": "done", "label": "Finished", "when": "completed"},
]


def event(msg_type, name=None, **data):
    message = {"type": msg_type, "data": data}
    if name is not None:
        message["event"] = name
    return parse_message(json.dumps(message))


def progress(value):
    return event("course", "progress", progress=value)


def screen(name, **data):
    return event("screen", name, **data)


def run(state, *events):
    """Apply events with times t1, t2... (labels: reducers keep `now` as given); return the last changes."""
    changes = {}
    for i, ev in enumerate(events, 1):
        changes = state.apply(ev, "t%d" % i)
    return changes


def run_timed(state, *events):
    """Apply events with real ISO-8601 times, as the browser stamps them (records validate times)."""
    changes = {}
    for i, ev in enumerate(events, 1):
        changes = state.apply(ev, timestamp(i))
    return changes
