"""coursewire/core/eventlog.py: the inspector's bounded, newest-first record of messages."""

import pytest

from coursewire.core.eventlog import PREVIEW_CHARS, EventLog, preview
from coursewire.core.wire import parse_message

ORIGIN = "https://acme.coassemble.com"


def add_accepted(log, n, start=0):
    for i in range(start, start + n):
        log.add_event(
            parse_message('{"type":"course","event":"progress","data":{"progress":%d}}' % i), "t%d" % i, ORIGIN
        )


def test_entries_record_accepted_and_rejected_messages():
    log = EventLog()
    accepted = log.add_event(parse_message('{"type":"session","event":"ready"}'), "t1", ORIGIN)
    rejected = log.add_rejection("not JSON", "{oops", "t2", "https://evil.example")
    assert accepted == {
        "seq": 1,
        "time": "t1",
        "origin": ORIGIN,
        "outcome": "accepted",
        "name": "session:ready",
        "reason": None,
        "preview": '{"type":"session","event":"ready"}',
    }
    assert rejected == {
        "seq": 2,
        "time": "t2",
        "origin": "https://evil.example",
        "outcome": "rejected",
        "name": None,
        "reason": "not JSON",
        "preview": "{oops",
    }
    assert log.entries == [rejected, accepted]
    assert (log.total, log.accepted_count, log.rejected_count) == (2, 1, 1)


def test_unknown_events_are_accepted_entries():
    log = EventLog()
    entry = log.add_event(parse_message('{"type":"course","event":"bookmark"}'), "t1", ORIGIN)
    assert (entry["outcome"], entry["name"]) == ("accepted", "course:bookmark")


def test_the_log_keeps_only_the_newest_cap_entries():
    log = EventLog(cap=10)
    add_accepted(log, 35)
    assert [e["seq"] for e in log.entries] == list(range(35, 25, -1))
    assert (log.total, log.accepted_count, log.rejected_count) == (35, 35, 0)


def test_memory_stays_under_twice_the_cap():
    log = EventLog(cap=10)
    for n in range(1, 200):
        add_accepted(log, 1, n)
        assert len(log._items) < 20
        assert len(log.entries) == min(n, 10)


def test_newest():
    log = EventLog(cap=5)
    add_accepted(log, 8)
    assert [e["seq"] for e in log.newest(3)] == [8, 7, 6]
    assert [e["seq"] for e in log.newest(50)] == [8, 7, 6, 5, 4]
    assert log.newest(0) == [] and log.newest(-1) == []
    assert EventLog().newest(3) == []


def test_entries_returns_a_fresh_list():
    log = EventLog()
    add_accepted(log, 2)
    log.entries.clear()
    assert len(log.entries) == 2


@pytest.mark.parametrize("cap", [0, -1, True, 2.5, "10"])
def test_cap_must_be_a_positive_integer(cap):
    with pytest.raises(ValueError):
        EventLog(cap)


def test_rejected_objects_are_previewed_as_json():
    log = EventLog()
    entry = log.add_rejection("not an object (got array)", [1, "a"], "t1", ORIGIN)
    assert entry["preview"] == '[1, "a"]'


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("text", "text"),
        ("", ""),
        (None, "null"),
        ({"type": "back"}, '{"type": "back"}'),
        ({"ids": {1}}, "<dict>"),
        (object(), "<object>"),
    ],
)
def test_preview(raw, expected):
    assert preview(raw) == expected


def test_a_cyclic_object_previews_without_raising():
    cycle = []
    cycle.append(cycle)
    assert preview(cycle) == "<list>"


def test_long_previews_are_shortened():
    assert preview("x" * PREVIEW_CHARS) == "x" * PREVIEW_CHARS
    shortened = preview("y" * (PREVIEW_CHARS + 1))
    assert len(shortened) == PREVIEW_CHARS and shortened.endswith("\u2026")
    assert len(preview({"pad": "z" * 10000})) == PREVIEW_CHARS
    assert preview("\u00e9" * 1000) == "\u00e9" * (PREVIEW_CHARS - 1) + "\u2026"  # characters, not bytes


def test_a_handler_error_is_its_own_outcome_and_count():
    log = EventLog()
    event = parse_message('{"type":"course","event":"progress","data":{"progress":5}}')
    log.add_event(event, "t1", ORIGIN)
    entry = log.add_handler_error("handler show for course:progress raised KeyError: 'x'", event, "t1")
    assert (entry["outcome"], entry["name"], entry["reason"]) == (
        "handler-error",
        "course:progress",
        "handler show for course:progress raised KeyError: 'x'",
    )
    assert (log.accepted_count, log.rejected_count, log.handler_error_count) == (1, 0, 1)
