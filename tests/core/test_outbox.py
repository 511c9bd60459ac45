"""coursewire/core/outbox.py: reports to the host's server, once each, however often they are sent."""

import json

import pytest

from coursewire.core import outbox as O
from coursewire.core.outbox import Outbox
from coursewire.core.wire import parse_message

SESSION = "a" * 32
NOW = "2026-11-28T09:00:00.000Z"


def event(n):
    return parse_message(json.dumps({"type": "course", "event": "progress", "data": {"progress": n}}))


def filled(n, session=SESSION):
    box = Outbox(session, "101", "ada")
    box.set_token("tok")
    for i in range(n):
        box.add(event(i), NOW)
    return box


def test_nothing_is_sent_without_a_token():
    box = Outbox(SESSION, "101", "ada")
    box.add(event(1), NOW)
    assert box.next_batch() is None
    box.set_token("tok")
    batch = json.loads(box.next_batch())
    assert batch == {
        "token": "tok",
        "session": SESSION,
        "course": "101",
        "learner": "ada",
        "events": [{"seq": 1, "type": "course", "event": "progress", "data": {"progress": 1}, "time": NOW}],
    }


def test_a_batch_at_a_time_and_acknowledged_entries_are_forgotten():
    box = filled(250)
    first = json.loads(box.next_batch())
    assert [e["seq"] for e in first["events"]] == list(range(1, 101))
    assert box.next_batch() is None  # one in flight
    assert box.answered(200) == 0  # more to send: at once
    second = json.loads(box.next_batch())
    assert second["events"][0]["seq"] == 101
    box.answered(200)
    box.next_batch()
    assert box.answered(200) is None and box.pending == []


def test_a_failed_batch_is_sent_again_with_the_same_sequence_numbers_after_a_growing_delay():
    box = filled(3)
    first = box.next_batch()
    assert [box.answered(status) for status in (0,)] == [1000]
    assert box.next_batch() is None  # not before the delay is over
    box.wait_over()
    assert box.next_batch() == first  # identical: the server applies it once
    assert box.answered(503) == 2000
    box.wait_over()
    box.next_batch()
    assert box.answered(500) == 4000
    box.wait_over()
    box.next_batch()
    assert box.answered(200) is None and box.failures == 0


def test_delays_are_capped():
    box = filled(1)
    delays = []
    for _ in range(12):
        box.next_batch()
        delays.append(box.answered(0))
        box.wait_over()
    assert max(delays) == O.MAX_RETRY_MS


def test_a_refused_token_pauses_until_a_fresh_one():
    box = filled(2)
    box.next_batch()
    assert box.answered(401) is None and box.paused
    assert box.next_batch() is None and len(box.pending) == 2  # kept, not lost
    box.set_token("fresh")
    assert json.loads(box.next_batch())["token"] == "fresh"


def test_a_batch_the_server_will_never_take_is_dropped_and_counted():
    box = filled(2)
    box.next_batch()
    assert box.answered(400) is None
    assert box.pending == [] and box.dropped == 2


@pytest.mark.parametrize(
    "status, rule",
    [
        (200, O.SENT),
        (202, O.SENT),
        (204, O.SENT),
        (0, O.RETRY),
        (500, O.RETRY),
        (502, O.RETRY),
        (503, O.RETRY),
        (504, O.RETRY),
        (408, O.RETRY),
        (302, O.RETRY),
        (401, O.WAIT_FOR_TOKEN),
        (429, O.WAIT),
        (400, O.SET_ASIDE),
        (403, O.SET_ASIDE),
        (404, O.SET_ASIDE),
        (405, O.SET_ASIDE),
        (413, O.SET_ASIDE),
        (415, O.SET_ASIDE),
        (422, O.SET_ASIDE),
    ],
)
def test_one_rule_says_what_every_answer_means(status, rule):
    assert O.reply_rule(status) == rule


@pytest.mark.parametrize("status", [400, 403, 404, 413, 415, 422])
def test_a_refused_batch_is_set_aside_once_told_and_later_batches_still_go(status):
    box = filled(250)
    box.next_batch()
    refusal = json.dumps({"error": "The batch has an unknown field 'x'."})
    assert box.answered(status, refusal) == 0  # the next batch goes at once
    assert box.notice == (
        "The host's server refused a batch of reports (HTTP %d: The batch has an unknown field "
        "'x'.); it was set aside and later reports are still sent." % status
    )
    box.notice = None  # the page showed it
    assert box.dropped == 100 and [e["seq"] for e in json.loads(box.next_batch())["events"]][0] == 101
    assert box.answered(status, "<html>not json</html>") == 0
    assert box.notice is None  # told once, not once per batch
    box.next_batch()
    assert box.answered(200) is None and box.pending == [] and box.dropped == 200


def test_too_many_requests_waits_for_retry_after_and_then_sends_the_same_batch():
    box = filled(3)
    first = box.next_batch()
    assert box.answered(429, "", "30") == 30000
    box.wait_over()
    assert box.next_batch() == first and box.notice is None
    assert box.answered(429, "", " 0 ") == O.FIRST_RETRY_MS  # never a tight loop
    box.wait_over()
    box.next_batch()
    assert box.answered(429, "", "999999999") == O.MAX_RETRY_AFTER_MS
    box.wait_over()
    box.next_batch()
    failures = box.failures
    # Without a usable Retry-After (absent, an HTTP date): the growing delay.
    assert box.answered(429, "", "Wed, 21 Oct 2026 07:28:00 GMT") == O.FIRST_RETRY_MS * 2**failures
    box.wait_over()
    box.next_batch()
    assert box.answered(200) is None and box.pending == [] and box.dropped == 0


def test_events_seen_while_a_429_waits_go_after_retry_after_with_the_refused_batch_once():
    # Issue 20: the page sent again on every new event while the server's Retry-After ran
    # (each message the course posts sends what is pending), so a page meeting 429 kept knocking.
    box = filled(3)
    first = json.loads(box.next_batch())
    assert box.answered(429, '{"error": "Too many."}', "2") == 2000
    for i in range(3, 6):  # the course goes on while the page waits
        box.add(event(i), NOW)
        assert box.next_batch() is None
    assert box.notice is None and box.pending[-1]["seq"] == 6  # nothing lost, nothing told
    box.wait_over()
    retried = json.loads(box.next_batch())
    assert [e["seq"] for e in retried["events"]] == [1, 2, 3, 4, 5, 6]
    assert retried["events"][:3] == first["events"]  # the refused batch again, as it was
    assert box.answered(200, '{"applied": 6, "duplicates": 0}') is None
    assert box.pending == [] and box.dropped == 0 and box.next_batch() is None


def test_a_page_going_away_while_a_429_waits_still_hands_everything_to_sendbeacon():
    box = filled(3)
    box.next_batch()
    box.answered(429, "", "60")
    texts = box.final_batches()
    assert [e["seq"] for text in texts for e in json.loads(text)["events"]] == [1, 2, 3]
    assert box.next_batch() is None and len(box.pending) == 3  # still waiting, nothing forgotten


def test_events_a_2xx_names_as_refused_are_dropped_with_one_notice():
    box = filled(150)
    box.next_batch()
    answer = {
        "applied": 98,
        "duplicates": 0,
        "refused": [
            {"seq": 7, "error": "events[6].time must be a time from 1970 to 9998."},
            {"seq": 9, "error": "events[8].data.attempt must be at most 2147483647 (counting retries)."},
        ],
    }
    assert box.answered(200, json.dumps(answer)) == 0
    assert box.dropped == 2 and box.notice == (
        "The host's server refused 2 reports (events[6].time must be a time from 1970 to 9998.); they were dropped."
    )
    box.notice = None
    assert json.loads(box.next_batch())["events"][0]["seq"] == 101  # later events still go
    answer["refused"] = [{"seq": 120, "error": "x" * 5000}]
    assert box.answered(200, json.dumps(answer)) is None and box.notice is None and box.dropped == 3
    assert box.pending == []


@pytest.mark.parametrize("body", [None, "", "not json", "[]", '{"applied": 3}', '{"refused": []}', '{"refused": "x"}'])
def test_a_2xx_without_refused_events_drops_nothing_more(body):
    box = filled(3)
    box.next_batch()
    assert box.answered(200, body) is None and box.dropped == 0 and box.notice is None


def test_each_batch_is_one_session_of_one_page():
    box = filled(2, session="b" * 32)
    box.session_id = SESSION  # the next page: its own session id
    box.add(event(9), NOW)
    assert [e["session"] for e in box.pending] == ["b" * 32, "b" * 32, SESSION]
    assert json.loads(box.next_batch())["session"] == "b" * 32
    box.answered(200)
    later = json.loads(box.next_batch())
    assert later["session"] == SESSION and [e["seq"] for e in later["events"]] == [3]


def test_batches_stay_under_the_size_limit():
    box = Outbox(SESSION)
    box.set_token("t")
    big = parse_message(json.dumps({"type": "screen", "event": "answer", "data": {"id": "q", "answer": "x" * 60000}}))
    for _ in range(10):
        box.add(big, NOW)
    sizes = []
    while box.pending:
        sizes.append(len(box.next_batch()))
        box.answered(200)
    assert len(sizes) > 1 and max(sizes) < O.MAX_BATCH_CHARS + 70000


def test_the_outbox_is_bounded_and_says_so():
    box = filled(0)
    box.pending = [
        {"session": SESSION, "seq": i + 1, "type": "course", "event": "start", "data": {}, "time": NOW}
        for i in range(O.MAX_PENDING)
    ]
    assert box.add(event(1), NOW) is False and box.dropped == 1


def test_final_batches_cover_everything_unsent_and_change_nothing():
    box = filled(150)
    texts = box.final_batches()
    assert [len(json.loads(t)["events"]) for t in texts] == [100, 50]
    assert len(box.pending) == 150 and box.in_flight is None


def save(box, storage):
    """Carry out the outbox's save plan on a dict, as Embed does on localStorage."""
    writes, removes, done = box.save_plan()
    for suffix, text in writes:
        storage[suffix] = text
    for suffix in removes:
        storage.pop(suffix, None)
    done()
    return writes


def reload(storage, session="c" * 32):
    later = Outbox(session, "101", "ada")
    assert later.restore(json.loads(storage["outbox"]), storage.get) is None
    return later


def test_the_outbox_survives_a_reload():
    box = filled(3)
    box.next_batch()  # in flight when the page closed: not acknowledged, so still pending
    storage = {}
    save(box, storage)
    later = reload(storage)
    assert [e["seq"] for e in later.pending] == [1, 2, 3] and later.token == "tok"
    assert json.loads(later.next_batch())["session"] == SESSION  # sent under its own session


def test_a_save_writes_what_was_added_not_the_whole_pending_list():
    box = filled(0)
    storage = {}
    sizes = []
    for _ in range(60):  # 60 saves of 150 new entries each, nothing acknowledged: 9,000 pending
        for i in range(150):
            box.add(event(i % 100), NOW)
        sizes.append(sum(len(text) for _, text in save(box, storage)))
    assert len(box.pending) == 9000
    assert max(sizes[-10:]) <= 1.1 * max(sizes[:10])  # flat
    assert [e["seq"] for e in reload(storage).pending] == list(range(1, 9001))


def test_acknowledged_chunks_are_removed_and_a_reload_sends_only_what_is_left():
    box = filled(350)
    storage = {}
    save(box, storage)
    assert sorted(storage) == ["outbox", "outbox:0", "outbox:1", "outbox:2", "outbox:3"]
    for _ in range(2):
        box.next_batch()
        box.answered(200)
    box.next_batch()  # the third batch is in flight
    save(box, storage)
    assert sorted(storage) == ["outbox", "outbox:2", "outbox:3"]
    later = reload(storage)
    assert [e["seq"] for e in later.pending] == list(range(201, 351))
    for _ in range(2):
        box.answered(200)
        box.next_batch()
    save(box, storage)
    assert storage == {}  # nothing pending: nothing stored


def test_a_version_1_outbox_record_is_read_and_saved_again_in_chunks():
    # (version 1 stored every entry whole: session, seq, type, event, data, time)
    pending = [
        {"session": SESSION, "seq": i, "type": "course", "event": "start", "data": {}, "time": NOW} for i in (1, 2, 3)
    ]
    record = {"version": 1, "pending": pending, "token": "tok"}
    later = Outbox("c" * 32, "101", "ada")
    assert later.restore(json.loads(json.dumps(record))) is None
    storage = {"outbox": "old"}
    save(later, storage)
    assert [e["seq"] for e in reload(storage).pending] == [1, 2, 3]


def test_a_missing_chunk_makes_the_stored_outbox_unusable():
    box = filled(150)
    storage = {}
    save(box, storage)
    del storage["outbox:1"]
    assert (
        Outbox("c" * 32).restore(json.loads(storage["outbox"]), storage.get)
        == "part 2 of the outbox record is missing or unusable"
    )


@pytest.mark.parametrize(
    "record",
    [
        None,
        [],
        {"version": 2},
        {"version": 3},
        {"version": 1, "pending": "x"},
        {"version": 2, "first": 5, "end": 2},
        {"version": 1, "pending": [{"session": "short", "seq": 1}]},
        {"version": 1, "pending": [{"session": SESSION, "seq": 0, "type": "c", "data": {}, "time": NOW}]},
    ],
)
def test_an_unusable_outbox_record_is_refused(record):
    assert Outbox(SESSION).restore(record) is not None


def test_a_session_id_is_checked():
    for bad in ("short", "x" * 65, "has space 12345", None):
        with pytest.raises(ValueError):
            Outbox(bad)


def test_nul_characters_are_sent_as_the_replacement_character_the_page_shows():
    box = Outbox(SESSION)
    box.set_token("t")
    box.add(
        parse_message(
            json.dumps(
                {"type": "screen", "event": "answer", "data": {"id": "q", "answer": "a\x00b", "question": ["\x00"]}}
            )
        ),
        NOW,
    )
    box.add(
        parse_message(json.dumps({"type": "screen", "event": "answer", "data": {"id": "q", "answer": "\\u0000"}})), NOW
    )
    events = json.loads(box.next_batch())["events"]
    assert events[0]["data"]["answer"] == "a\ufffdb" and events[0]["data"]["question"] == ["\ufffd"]
    assert events[1]["data"]["answer"] == "\\u0000"  # a backslash and "u0000" as typed: kept exactly


def batch_after_reload(box):
    storage = {}
    save(box, storage)
    return json.loads(reload(storage).next_batch())["events"], storage


def test_a_reloaded_outbox_sends_exactly_what_the_page_would_have_sent():
    box = filled(0)
    box.add(event(5), NOW)
    box.add(parse_message(json.dumps({"type": "back"})), NOW)  # no event name: none is sent
    box.add(
        parse_message(
            json.dumps(
                {
                    "type": "screen",
                    "event": "answer",
                    "data": {"id": "q", "answer": ["\u00e9\U0001f600", "a\x00b"], "score": 1.5},
                }
            )
        ),
        NOW,
    )
    sent = json.loads(box.final_batches()[0])["events"]
    assert [e.get("event") for e in sent] == ["progress", None, "answer"] and "event" not in sent[1]
    again, storage = batch_after_reload(box)
    assert again == sent
    chunk = json.loads(storage["outbox:0"])
    assert chunk[0] == 0 and [e["session"] for e in chunk[1]] == [SESSION] * 3  # each entry keeps its session


def test_an_outbox_stored_with_every_field_of_each_entry_is_still_read():
    # As pages before the entries' text was kept stored them: every key, "event": null, NUL as is.
    entries = [
        {"session": SESSION, "seq": 1, "type": "back", "event": None, "data": {}, "time": NOW},
        {"session": SESSION, "seq": 2, "type": "screen", "event": "answer", "data": {"answer": "a\x00b"}, "time": NOW},
    ]
    storage = {
        "outbox": json.dumps({"version": 2, "token": "tok", "first": 0, "end": 2}),
        "outbox:0": json.dumps([0, entries]),
    }
    sent = json.loads(reload(storage).next_batch())["events"]
    assert sent == [
        {"seq": 1, "type": "back", "data": {}, "time": NOW},
        {"seq": 2, "type": "screen", "event": "answer", "data": {"answer": "a\ufffdb"}, "time": NOW},
    ]


def test_a_stored_entry_text_is_not_trusted():
    entry = {"session": SESSION, "seq": 1, "type": "back", "data": {}, "time": NOW, "text": '{"seq": 99}], "x": ['}
    storage = {
        "outbox": json.dumps({"version": 2, "token": "tok", "first": 0, "end": 1}),
        "outbox:0": json.dumps([0, [entry]]),
    }
    assert json.loads(reload(storage).next_batch())["events"] == [{"seq": 1, "type": "back", "data": {}, "time": NOW}]
