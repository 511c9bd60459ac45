"""Where a burst's time goes in Coursewire's core, stage by stage, on the interpreter itself.

Run by bench/profile_core.mjs on MicroPython or Pyodide (the same npm packages the pages load) in
Node: no browser, no DOM, no bridge, so what it measures is the Python alone. Each stage handles
the same N messages the bench posts (bench/run.py: POST_WORKLOAD and the harness's burst), in
batches of 100 as bridge.js hands them over, and is timed on its own:

  floor        bench/pyfloor.py's Python: the batch's JSON, each message's JSON, a dict
               lookup and the least state change
  batch json   json.loads of the batches alone (the bridge's envelope)
  message json json.loads of each message alone
  depth scan   jsonsafe.nests_deeper_than of each message (parse_json's nesting check)
  infinity scan  jsonsafe.holds_non_finite of each decoded message (parse_json's check for 1e999)
  safe json    jsonsafe.parse_json of each message (its size, depth and number checks around json.loads)
  parse        wire.parse_message of each message (its JSON and the wire's checks: an Event)
  log          EventLog.add_event (the inspector's last 500)
  reduce       CourseState.apply (the learner's record: progress, screens, quiz entries)
  receive      Session.receive: parse + log + reduce + handlers + change sets, as the page runs it
  report add   Outbox.add of every accepted event
  report body  Outbox.next_batch + answered(200) per batch: one POST body per 100 events
  report save  Outbox.save_plan of every pending event (the page saves the outbox once a second)
  save         Store.save(record_of(state)) once per batch (an in-memory storage), the most the
               page does (it saves at most once an animation frame)
  quiz rows    the quiz table's rows a burst draws: present.shown_cells and one json.dumps per
               row (app/course_view.py; the DOM work itself is not here)
  pipeline     all of the above together, as the page runs them per batch (see pipeline()), the
               server answering each report at once
  pipeline, unanswered   the same with no answer during the burst: all its reports stay pending
  one gc, record alive   one full collection with the pipeline's record alive
  floor, per call      the floor's Python called from JavaScript once per batch (PerCall), in a
                       fresh interpreter, the batches' texts kept in JavaScript, as in the page
  pipeline, per call   the pipeline in the page's shape (PerCall): one call per batch, one per
                       record save, one per outbox save every 10 batches, in a fresh interpreter.
                       MicroPython collects between such calls, and an allocation then searches
                       the heap from its start past all that is alive: this is the row that
                       reproduces the page's cost (the one-call rows above do not)

Every stage starts after gc.collect() and includes the collections its own garbage causes.

Times are the Node process's CPU time (process.cpuUsage), so a busy machine moves them less
than it moves the browser's figures. Prints one JSON object: {"runtime", "events", "stages": {workload: {stage: ms}}}.
"""

import gc
import json
import sys
import time

from app import present
from coursewire.core import changes as C
from coursewire.core.eventlog import EventLog
from coursewire.core.jsonsafe import holds_non_finite, nests_deeper_than, parse_json
from coursewire.core.outbox import Outbox
from coursewire.core.records import record_of, state_for
from coursewire.core.session import Session
from coursewire.core.store import Store
from coursewire.core.wire import MAX_DEPTH, MAX_MESSAGE_CHARS, parse_message

ORIGIN = "http://localhost:8001"
NOW = "2026-12-04T12:00:00.000Z"
SLICE = 100
QUIZ_FIRST_ROWS, QUIZ_ROWS = 25, 200  # app/course_view.py
WORKLOADS = ("progress", "screens10", "screens2500", "answers")

try:  # CPU time of the Node process (bench/profile_core.mjs): other work on the machine is not counted
    from bench_clock import cpu_ms

    def clock_ms():
        return cpu_ms()

    def elapsed_ms(start):
        return cpu_ms() - start
except ImportError:  # run some other way: wall time

    def clock_ms():
        return time.time() * 1000

    def elapsed_ms(start):
        return time.time() * 1000 - start


def messages(kind, n):
    """The bench's messages, as the harness posts them (JSON text, JavaScript's key order)."""
    out = []
    for i in range(n):
        if kind == "progress":
            message = {"type": "course", "event": "progress", "data": {"progress": (i + 1) * 100 // n, "seq": i + 1}}
        elif kind == "answers":
            q = i % 3
            message = {
                "type": "screen",
                "event": "answer",
                "data": {
                    "id": "knowledge-check",
                    "title": "Knowledge check",
                    "question": "Question %d: which password is strongest?" % (q + 1),
                    "answer": ["correct horse battery staple", "P@ssw0rd", "hunter2"][q],
                    "correct": q == 0,
                    "score": 1 if q == 0 else 0,
                    "attempt": 1 + i // 3,
                },
            }
        else:
            screen = (i // 2) % 10 if kind == "screens10" else i // 2
            message = {
                "type": "screen",
                "event": "start" if i % 2 == 0 else "end",
                "data": {
                    "id": "screen-%d" % screen,
                    "title": "Screen %d" % (screen + 1),
                    "index": screen,
                    "type": "text",
                },
            }
        out.append(json.dumps(message))
    return out


def batches(texts):
    """bridge.js's batches: [[frameId, origin, form, payload], ...] as JSON text, 100 a call."""
    return [json.dumps([[1, ORIGIN, "text", t] for t in texts[i : i + SLICE]]) for i in range(0, len(texts), SLICE)]


class MemoryStorage:
    def __init__(self):
        self.items = {}

    def get(self, key):
        return self.items.get(key), None

    def set(self, key, text):
        self.items[key] = text

    def remove(self, key):
        self.items.pop(key, None)


def floor(batch_texts):
    state = {"progress": 0}
    screens = {}
    answers = []

    def on_progress(data):
        if data["progress"] > state["progress"]:
            state["progress"] = data["progress"]

    def on_screen(data):
        screens[data["id"]] = data

    def on_answer(data):
        answers.append(data)

    handlers = {
        "course:progress": on_progress,
        "screen:start": on_screen,
        "screen:end": on_screen,
        "screen:answer": on_answer,
    }
    for text in batch_texts:
        for _frame_id, _origin, _form, payload in json.loads(text):
            message = json.loads(payload)
            handler = handlers.get(message["type"] + ":" + message["event"])
            if handler is not None:
                handler(message["data"])


def quiz_rows(entries):
    """The quiz table's rows of `entries` as app/course_view.py builds them (less dom_text)."""
    return (
        "["
        + ", ".join(
            [
                json.dumps([e["seq"], e["event"], present.result_of(e), present.shown_cells(e)])
                for e in reversed(entries)
            ]
        )
        + "]"
    )


def pipeline(texts, answered=True):
    """The core's share of what the demo page does per batch, together (so each part pays the
    garbage collections the whole live record causes): receive every message, queue it for the
    server, one POST body per batch (answered at once), save the record once per batch, the
    newest QUIZ_FIRST_ROWS rows of a large batch; the outbox saved once per 1,000 events (once a
    second in the page); at the end the 200 rows the table fills in when idle."""
    session = Session("player", [ORIGIN], state_for("player"))
    state = session.state
    outbox = Outbox("bench-profile-session", "101", "ada")
    outbox.set_token("token")
    store = Store("coursewire:bench", MemoryStorage())
    for i in range(0, len(texts), SLICE):
        quiz_before = len(state.quiz)
        for t in texts[i : i + SLICE]:
            event = session.receive(ORIGIN, True, "text", t, NOW)
            if event is not None and event.known:
                outbox.add(event, NOW)
        changes = session.take_changes()
        body = outbox.next_batch()
        if body is not None and answered:
            outbox.answered(200)
        store.save(record_of(state, shared=True), changes.get(C.SCREENS_EDITED, ()))
        if len(state.quiz) > quiz_before:
            quiz_rows(state.quiz[-min(QUIZ_FIRST_ROWS, len(state.quiz) - quiz_before) :])
        if (i + SLICE) % 1000 == 0:
            outbox.save_plan()[2]()
    quiz_rows(state.quiz[-QUIZ_ROWS:])
    return session, outbox


class PerCall:
    """The page's shape of the same work: JavaScript calls Python once per batch (the bridge),
    once per record save (an animation frame) and once per outbox save (a timer), and MicroPython
    collects garbage between such calls, after which each allocation searches the heap from its
    start, past everything alive. bench/profile_core.mjs drives it, one call at a time; the
    server's answer to the first report waits behind the burst, as in the page."""

    def __init__(self, kind, n):
        self.kind, self.n = kind, n
        self.session = Session("player", [ORIGIN], state_for("player"))
        self.outbox = Outbox("bench-profile-session", "101", "ada")
        self.outbox.set_token("token")
        self.store = Store("coursewire:bench", MemoryStorage())
        self.edited = ()
        self.floor_state = ({"progress": 0}, {}, [])

    def batch_texts(self):
        """The batches as one JSON text: JavaScript keeps them (in the page they live there)."""
        return json.dumps(batches(messages(self.kind, self.n)))

    def floor_batch(self, text):
        state, screens, answers = self.floor_state
        for _, _, _, payload in json.loads(text):
            message = json.loads(payload)
            name = message["type"] + ":" + message["event"]
            if name == "course:progress":
                state["progress"] = max(state["progress"], message["data"]["progress"])
            elif name == "screen:answer":
                answers.append(message["data"])
            else:
                screens[message["data"]["id"]] = message["data"]

    def batch(self, text):
        state = self.session.state
        quiz_before = len(state.quiz)
        for _, origin, form, payload in json.loads(text):
            event = self.session.receive(origin, True, form, payload, NOW)
            if event is not None and event.known:
                self.outbox.add(event, NOW)
        self.edited = self.session.take_changes().get(C.SCREENS_EDITED, ())
        self.store.prepare(record_of(state, shared=True))  # (RecordKeeper.changed, in the page)
        self.outbox.next_batch()  # the first goes; the others wait for its answer
        if len(state.quiz) > quiz_before:
            quiz_rows(state.quiz[-min(QUIZ_FIRST_ROWS, len(state.quiz) - quiz_before) :])

    def save(self):
        self.store.save(record_of(self.session.state, shared=True), self.edited)

    def outbox_save(self):
        self.outbox.save_plan()[2]()

    def end(self):
        quiz_rows(self.session.state.quiz[-QUIZ_ROWS:])
        self.outbox.answered(200)
        while self.outbox.next_batch() is not None:
            self.outbox.answered(200)


def timed(times, name, fn):
    gc.collect()  # each stage starts on a clean heap and pays the collections its own garbage causes
    start = clock_ms()
    result = fn()
    times[name] = elapsed_ms(start)
    return result


def profile(kind, n):
    texts = messages(kind, n)
    batch_texts = batches(texts)
    times = {}
    timed(times, "floor", lambda: floor(batch_texts))
    timed(times, "batch json", lambda: [json.loads(text) for text in batch_texts])
    timed(times, "message json", lambda: [json.loads(t) for t in texts])
    timed(times, "depth scan", lambda: [nests_deeper_than(t, MAX_DEPTH) for t in texts])
    decoded = [json.loads(t) for t in texts]
    timed(times, "infinity scan", lambda: [holds_non_finite(value) for value in decoded])
    decoded = None
    timed(times, "safe json", lambda: [parse_json(t, MAX_MESSAGE_CHARS, MAX_DEPTH) for t in texts])
    events = timed(times, "parse", lambda: [parse_message(t) for t in texts])
    log = EventLog()
    timed(times, "log", lambda: [log.add_event(event, NOW, ORIGIN) for event in events])
    state = state_for("player")
    timed(times, "reduce", lambda: [state.apply(event, NOW) for event in events])

    def receive():
        session = Session("player", [ORIGIN], state_for("player"))
        for i in range(0, n, SLICE):
            for t in texts[i : i + SLICE]:
                session.receive(ORIGIN, True, "text", t, NOW)
            session.take_changes()

    timed(times, "receive", receive)

    outbox = Outbox("bench-profile-session", "101", "ada")
    outbox.set_token("token")
    timed(times, "report add", lambda: [outbox.add(event, NOW) for event in events])
    timed(times, "report save", lambda: [outbox.save_plan()[2]() for _ in range(1)])

    def bodies():
        while outbox.next_batch() is not None:
            outbox.answered(200)

    timed(times, "report body", bodies)

    # One save per batch of the record as it grows; only the saves are timed.
    store = Store("coursewire:bench", MemoryStorage())
    grown = state_for("player")
    total = 0.0
    gc.collect()
    for i in range(0, n, SLICE):
        edited = set()
        for event in events[i : i + SLICE]:
            edited.update(grown.apply(event, NOW).get(C.SCREENS_EDITED, ()))
        start = clock_ms()
        store.save(record_of(grown, shared=True), edited)
        total += elapsed_ms(start)
    times["save"] = total

    # The rows a burst draws: the newest QUIZ_FIRST_ROWS of each batch, then the 200 when idle.
    def rows():
        for i in range(SLICE, len(state.quiz) + 1, SLICE):
            quiz_rows(state.quiz[i - QUIZ_FIRST_ROWS : i])
        quiz_rows(state.quiz[-QUIZ_ROWS:])

    timed(times, "quiz rows", rows)
    events = log = state = outbox = store = grown = None
    timed(times, "pipeline", lambda: pipeline(texts))
    # The server not answering during the burst (as on a busy machine): every report stays pending.
    timed(times, "pipeline, unanswered", lambda: pipeline(texts, answered=False))
    kept = pipeline(texts)  # the whole record alive, as on the page after the burst:
    timed(times, "one gc, record alive", gc.collect)  # what every collection costs from now on
    del kept
    return times


STAGES = (
    "floor",
    "batch json",
    "message json",
    "depth scan",
    "infinity scan",
    "safe json",
    "parse",
    "log",
    "reduce",
    "receive",
    "report add",
    "report body",
    "report save",
    "save",
    "quiz rows",
    "pipeline",
    "pipeline, unanswered",
    "one gc, record alive",
)


def main(n):
    runtime = "micropython" if sys.implementation.name == "micropython" else "pyodide"
    stages = {}
    for kind in WORKLOADS:
        stages[kind] = profile(kind, n)
    # (MicroPython's dicts keep no order: the lists say it)
    print(
        json.dumps(
            {"runtime": runtime, "events": n, "workloads": list(WORKLOADS), "order": list(STAGES), "stages": stages}
        )
    )
