"""A property of POST /api/events on SQLite and PostgreSQL: whatever events the page's own parser
accepts — extreme numbers, long and odd text, odd times — the answer is below 500, every event
is accounted for (applied, duplicate or refused by seq), and the record agrees with the rows
behind it (issue 19: "nothing the page sends makes the server answer 5xx")."""

import json
import time
import uuid

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from coursewire.core.outbox import Outbox
from coursewire.core.wire import BUILDER_NAMES, PLAYER_NAMES, Event, parse_message
from coursewire.server.store import open_store
from coursewire.server.wsgi import Context, make_app

from .record_client import Clock, WsgiClient, settings

NOW = 1_795_000_000
EXAMPLES = 120  # per backend: ~15 s each here, and enough to find an unbounded column or time

EDGE_INTS = st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**53, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30])
BIG_INTS = st.one_of(EDGE_INTS, st.integers(-(2**70), 2**70))
FLOATS = st.floats(allow_nan=False, allow_infinity=False)  # what JSON.stringify can write
ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),  # no lone surrogates: not UTF-8
    st.sampled_from(
        [
            "",
            " ",
            "\u202e\u2066",
            "\u200b",
            "\ufeff",
            "'; DROP TABLE records; --",
            "<script>",
            "x" * 5000,
            "\U0001f600" * 700,
        ]
    ),
)
SCALARS = st.one_of(st.none(), st.booleans(), BIG_INTS, FLOATS, ODD_TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
FIELD_VALUES = st.one_of(
    BIG_INTS, FLOATS, ODD_TEXT, st.booleans(), st.none(), JSON_VALUES, st.from_regex(r"\A[0-9]{1,32}(\.[0-9]{1,5})?\Z")
)
FIELDS = ("id", "title", "progress", "attempt", "score", "question", "answer", "correct", "index", "type", "message")
DATA = st.one_of(
    # The fields the server reads, numbers at their edges half the time.
    st.fixed_dictionaries({}, optional={field: st.one_of(EDGE_INTS, FIELD_VALUES) for field in FIELDS}),
    st.dictionaries(st.text(max_size=10), FIELD_VALUES, max_size=6),
)
QUIZ_NAMES = st.sampled_from(("screen:answer", "screen:failed", "screen:retry", "screen:start"))
NAMES = st.one_of(
    QUIZ_NAMES, QUIZ_NAMES, st.sampled_from(PLAYER_NAMES + BUILDER_NAMES), st.text(min_size=1, max_size=20)
)


@st.composite
def iso_times(draw):
    """Times ISO 8601 allows, mostly in the page's own spelling, many at the edges of the calendar."""
    kind = draw(st.integers(0, 19))  # (hypothesis starts from, and shrinks towards, 0)
    if kind == 19:
        return draw(st.text(max_size=45))
    if kind < 16:  # the page's own spelling (toISOString), anywhere in the range a record keeps
        seconds = draw(st.integers(0, 253370764799))  # 1970 .. 9998-12-31
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%03dZ" % draw(st.integers(0, 999))
    year = draw(st.one_of(st.sampled_from([1, 1969, 1970, 2026, 9998, 9999]), st.integers(1, 9999)))
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (
        year,
        draw(st.integers(1, 12)),
        draw(st.integers(1, 28)),
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    if draw(st.booleans()):
        text += "." + "%0*d" % ((digits := draw(st.sampled_from([3, 6]))), draw(st.integers(0, 10**digits - 1)))
    zone = draw(
        st.one_of(
            st.just("Z"),
            st.sampled_from(["-05:00", "+00:01", ""]),
            st.builds(
                lambda sign, h, m: "%s%02d:%02d" % (sign, h, m),
                st.sampled_from("+-"),
                st.integers(0, 23),
                st.integers(0, 59),
            ),
        )
    )
    return text + zone


@st.composite
def page_events(draw):
    """(an Event the page's parser accepted, the time the page gives it)."""
    name = draw(NAMES)
    msg_type, _, sub = name.partition(":")
    message = {"type": msg_type, "data": draw(DATA)}
    if sub:
        message["event"] = sub
    parsed = parse_message(json.dumps(message))
    if not isinstance(parsed, Event):
        # Not one the page would send: make it one (a known name and a usable progress).
        parsed = parse_message(
            json.dumps({"type": "course", "event": "progress", "data": {"progress": draw(BIG_INTS)}})
        )
    return parsed, draw(iso_times())


BATCHES = st.lists(page_events(), min_size=1, max_size=8)


@pytest.fixture
def reporting(database):
    """A client of the real WSGI app over `database`, the store, and its report-token issuer."""
    store = open_store(database)
    context = Context(settings(), clock=Clock(NOW), store=store)
    try:
        yield WsgiClient(make_app(context=context)), store, context
    finally:
        store.close()


@hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(BATCHES, min_size=1, max_size=3), resend=st.booleans())
def test_whatever_the_page_accepts_is_stored_or_refused_never_a_5xx(reporting, batches, resend):
    client, store, context = reporting
    learner = "learner-" + uuid.uuid4().hex  # each example its own record in the shared database
    token = context.issue_report_token("101", learner)
    # The page's own outbox numbers the events and writes the batches (NUL as U+FFFD, as it does).
    outbox = Outbox("session-" + uuid.uuid4().hex[:16], "101", learner)
    outbox.set_token(token)
    texts = []
    for events in batches:
        for parsed, seen_at in events:
            outbox.add(parsed, seen_at)
        texts.append(outbox.next_batch())
        outbox.answered(200)
    stored = set()
    for text in texts + (texts[:1] if resend else []):  # a retried batch: the same seqs again
        answer = client.request("POST", "/api/events", text.encode("utf-8"), {"Content-Type": "application/json"})
        assert answer.status < 500, answer
        if answer.status != 200:
            assert answer.status in (400, 413), answer  # a fault of the batch itself, said in one sentence
            assert answer.json["error"].endswith(".")
            continue
        events = json.loads(text)["events"]
        refused = answer.json.get("refused", [])
        assert all(r["error"].endswith(".") and "\n" not in r["error"] for r in refused)
        assert answer.json["applied"] + answer.json["duplicates"] + len(refused) == len(events)
        new = {e["seq"] for e in events} - stored - {r["seq"] for r in refused}
        assert answer.json["applied"] == len(new)
        stored |= new
    _assert_consistent(store, learner, stored)


def _assert_consistent(store, learner, stored):
    dump = store.dump()
    events = [row for row in dump["reported_events"] if row[1] == learner]
    assert sorted(row[3] for row in events) == sorted(stored)
    answers = [row for row in dump["quiz_answers"] if row[1] == learner]
    assert {row[3] for row in answers} <= stored
    assert all(1 <= row[11] <= 2**31 - 1 for row in answers)  # attempt
    records = {r["learner"]: r for r in store.course_records("101")["records"]}
    if not stored:
        assert learner not in records
        return
    record = records[learner]
    assert record["reported_events"] == len(stored) and 0 <= record["progress"] <= 100
    assert record["last_event_at"] == max(row[6] for row in events)
    assert len(record["answers"]) == len(answers)
