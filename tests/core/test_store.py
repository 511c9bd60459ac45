"""coursewire/core/store.py through a fake key-value backend: the chunk plan (what each save
writes), reading back, refusals, and records that cannot be used."""

import json

import pytest

from coursewire.core.store import CHUNK, Store

KEY = "coursewire:v1:player:https://acme.coassemble.com/course/1"


class FakeStorage:
    """A dict with localStorage's failure modes, counting every write."""

    def __init__(self):
        self.data = {}
        self.writes = []  # keys written, in order
        self.removes = []
        self.refuse = None  # an error name every call answers (storage denied), or None
        self.full_after = None  # refuse sets once this many characters are stored (quota)

    def get(self, key):
        if self.refuse:
            return None, self.refuse
        return self.data.get(key), None

    def set(self, key, text):
        if self.refuse:
            return self.refuse
        if self.full_after is not None and sum(map(len, self.data.values())) + len(text) > self.full_after:
            return "QuotaExceededError"
        self.data[key] = text
        self.writes.append(key)
        return None

    def remove(self, key):
        if self.refuse:
            return self.refuse
        self.data.pop(key, None)
        self.removes.append(key)
        return None


def entry(seq):
    return {"seq": seq, "event": "answer", "answer": "a%d" % seq}


def record(n_answers, progress=0):
    """A course record as records.record_of lays it out (only what the store looks at)."""
    return {
        "version": 2,
        "kind": "course",
        "progress": progress,
        "screens": {},
        "screen_order": [],
        "feedback_history": [],
        "quiz": [entry(i) for i in range(1, n_answers + 1)],
    }


def main_of(backend):
    return json.loads(backend.data[KEY])


def test_the_quiz_log_is_stored_in_chunks_and_reads_back_whole():
    backend = FakeStorage()
    store = Store(KEY, backend)
    store.save(record(120, progress=40))
    assert sorted(backend.data) == [KEY, KEY + ":quiz:0", KEY + ":quiz:1", KEY + ":quiz:2"]
    main = main_of(backend)
    assert main["lists"] == {"screens": 0, "feedback_history": 0, "quiz": 120} and "quiz" not in main
    assert len(json.loads(backend.data[KEY + ":quiz:2"])) == 120 - 2 * CHUNK
    loaded, problem = Store(KEY, backend).load()
    assert problem is None and loaded == record(120, progress=40)


def test_a_save_writes_only_the_chunks_that_changed():
    backend = FakeStorage()
    store = Store(KEY, backend)
    store.save(record(120))
    backend.writes.clear()
    store.save(record(121))  # one more answer: the last chunk and the small rest
    assert backend.writes == [KEY + ":quiz:2", KEY]
    backend.writes.clear()
    store.save(record(150))  # fills chunk 2
    assert backend.writes == [KEY + ":quiz:2", KEY]
    backend.writes.clear()
    store.save(record(151))
    assert backend.writes == [KEY + ":quiz:3", KEY]


def test_chunks_are_written_before_the_record_that_counts_them():
    backend = FakeStorage()
    store = Store(KEY, backend)
    store.save(record(49))
    backend.writes.clear()
    store.save(record(51))
    assert backend.writes == [KEY + ":quiz:0", KEY + ":quiz:1", KEY]


def test_a_cleared_log_removes_its_chunks():
    backend = FakeStorage()
    store = Store(KEY, backend)
    store.save(record(120))
    store.save(record(0))
    assert sorted(backend.data) == [KEY]
    assert Store(KEY, backend).load() == (record(0), None)


def test_a_store_that_loaded_an_older_log_continues_it():
    backend = FakeStorage()
    Store(KEY, backend).save(record(75))
    later = Store(KEY, backend)
    later.load()
    backend.writes.clear()
    later.save(record(76))
    assert backend.writes == [KEY + ":quiz:1", KEY]


def test_entries_a_cut_short_save_wrote_past_the_count_are_not_read():
    backend = FakeStorage()
    store = Store(KEY, backend)
    store.save(record(10))
    backend.data[KEY + ":quiz:0"] = json.dumps([entry(i) for i in range(1, 13)])  # chunk ahead of the record
    loaded, problem = Store(KEY, backend).load()
    assert problem is None and len(loaded["quiz"]) == 10


def test_nothing_stored_is_no_problem():
    assert Store(KEY, FakeStorage()).load() == (None, None)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("{not json", "the stored record was not usable JSON (not JSON)"),
        ("null", "the stored record was null"),
        ("[" * 50 + "]" * 50, "the stored record was not usable JSON (nested too deeply)"),
    ],
)
def test_an_unusable_record_is_set_aside_not_lost(text, problem):
    backend = FakeStorage()
    backend.data[KEY] = text
    assert Store(KEY, backend).load() == (None, problem)
    assert backend.data == {KEY + ":unreadable": text}


def test_a_missing_quiz_chunk_sets_the_record_aside():
    backend = FakeStorage()
    Store(KEY, backend).save(record(60))
    del backend.data[KEY + ":quiz:1"]
    loaded, problem = Store(KEY, backend).load()
    assert loaded is None and problem == "part 2 of the stored quiz log was missing or unreadable"
    assert KEY + ":unreadable" in backend.data and KEY not in backend.data


def test_storage_denied_means_memory_only_with_one_notice():
    backend = FakeStorage()
    backend.refuse = "SecurityError"
    store = Store(KEY, backend)
    assert store.load() == (None, None)
    store.save(record(3))
    store.save(record(4))
    assert not store.available
    assert store.notice == (
        "This browser refused to store the course record (SecurityError), so it is "
        "kept in memory only and will not survive a reload."
    )


def test_a_full_storage_keeps_the_last_complete_record():
    backend = FakeStorage()
    store = Store(KEY, backend)
    store.save(record(50, progress=10))
    backend.full_after = sum(map(len, backend.data.values())) + 10
    store.save(record(100, progress=20))  # the new chunk does not fit
    assert "QuotaExceededError" in store.notice
    loaded, problem = Store(KEY, backend).load()
    assert problem is None and loaded == record(50, progress=10)


def test_clear_removes_the_record_and_every_chunk():
    backend = FakeStorage()
    store = Store(KEY, backend)
    store.save(record(120))
    assert store.clear() is None
    assert backend.data == {}


def refilled(n, first_seq):
    """The quiz log cleared and filled again: n other entries (Clear log, then answers)."""
    rec = record(0)
    rec["quiz"] = [entry(i) for i in range(first_seq, first_seq + n)]
    return rec


def test_entries_prepared_at_the_batch_are_stored_as_a_save_alone_stores_them():
    prepared, plain = FakeStorage(), FakeStorage()
    store, other = Store(KEY, prepared), Store(KEY, plain)
    for n in (120, 130, 175, 176):
        store.prepare(record(n))  # the end of the batch (RecordKeeper.changed) ...
        store.save(record(n))  # ... the frame's save
        other.save(record(n))
    assert prepared.data == plain.data and prepared.writes == plain.writes
    assert Store(KEY, prepared).load() == (record(176), None)


@pytest.mark.parametrize("again", [5, 40, 130])
def test_entries_prepared_before_the_log_was_cleared_are_never_stored_as_the_new_ones(again):
    backend = FakeStorage()
    store = Store(KEY, backend)
    store.save(record(20))
    store.prepare(record(30))  # ten answers serialised; then Clear log and new answers
    store.prepare(refilled(again, 1000))
    store.save(refilled(again, 1000))
    assert Store(KEY, backend).load() == (refilled(again, 1000), None)
