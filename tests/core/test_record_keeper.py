"""coursewire/core/record_keeper.py: a burst's saves coalesced into one, at the next frame or
after SAVE_LATEST_MS in a hidden tab; nothing applied is lost; what changed in place is written."""

import json

from coursewire.core import changes as C
from coursewire.core.course import CourseState
from coursewire.core.record_keeper import SAVE_LATEST_MS, RecordKeeper
from coursewire.core.records import restore
from coursewire.core.store import Store
from fakes import FakeClock, MemoryStorage
from messages import progress, screen

KEY = "coursewire:v1:player:https://acme.coassemble.com/course/1"


class Page:
    """A state, its store and its keeper, as Embed holds them; a batch is applied then flushed."""

    def __init__(self, storage=None):
        self.storage = storage or MemoryStorage()
        self.clock = FakeClock()
        self.state = CourseState()
        self.notices = []
        self.keeper = RecordKeeper(self.clock, lambda: self.state, Store(KEY, self.storage), self.notices.append)

    def batch(self, *events):
        changes = {}
        for ev in events:
            C.merge(changes, self.state.apply(ev, "2026-12-04T20:00:00.000Z"))
        self.keeper.changed(changes)

    def reloaded(self):
        """The record a reload would find."""
        record, problem = Store(KEY, self.storage).load()
        assert problem is None
        return restore("player", record)[0] if record is not None else None


def test_a_burst_of_batches_is_saved_once_at_the_next_frame():
    page = Page()
    for value in (10, 20, 30):
        page.batch(progress(value))
    assert page.reloaded() is None  # nothing written during the burst
    page.clock.frame()
    assert page.reloaded().progress == 30
    writes = page.storage.sets
    page.clock.advance(SAVE_LATEST_MS)  # the hidden-tab timer finds nothing left to save
    assert page.storage.sets == writes and page.clock.pending() == []


def test_a_hidden_tab_paints_no_frames_and_saves_after_the_timer():
    page = Page()
    page.batch(progress(40))
    page.clock.advance(SAVE_LATEST_MS - 1)
    assert page.reloaded() is None
    page.clock.advance(1)
    assert page.reloaded().progress == 40


def test_what_is_not_the_record_saves_nothing():
    page = Page()
    page.keeper.changed({C.LOG: True, C.NOTICES: True, C.SESSION: True})
    page.clock.frame()
    page.clock.advance(SAVE_LATEST_MS)
    assert page.storage.sets == 0


def test_hiding_the_page_saves_at_once_and_an_unchanged_record_is_not_written_again():
    page = Page()
    page.batch(progress(55))
    page.keeper.save()  # the page hides: no frame, no timer waited for
    assert page.reloaded().progress == 55
    writes = page.storage.sets
    page.keeper.save()
    page.clock.frame()
    assert page.storage.sets == writes


def test_a_screen_changed_in_place_is_written_again_from_the_change_the_reducer_returns():
    page = Page()
    page.batch(screen("start", id="s1", title="Welcome"))
    page.clock.frame()
    page.batch(screen("complete", id="s1"))  # the same screen, changed in place
    page.clock.frame()
    assert page.reloaded().screens["s1"]["completed"] is True


def test_a_reset_forgets_the_old_states_screens():
    page = Page()
    page.batch(screen("start", id="s1"), screen("start", id="s2"))
    page.clock.frame()
    page.batch(screen("complete", id="s2"))  # position 1, edited: not saved yet
    page.state = CourseState()
    page.keeper.changed({C.RESET: True})
    page.batch(screen("start", id="n1"))  # the fresh state's one screen
    page.clock.frame()
    assert page.reloaded().screen_order == ["n1"]


def test_closing_saves_what_is_due_and_leaves_no_timer():
    page = Page()
    page.batch(progress(70))
    page.keeper.close()
    assert page.reloaded().progress == 70
    assert page.clock.pending() == [] and page.clock.frames == {}


def test_a_refused_save_tells_the_page_once_per_save_and_the_record_lives_on_in_memory():
    storage = MemoryStorage()
    storage.refuse = "QuotaExceededError"
    page = Page(storage)
    page.batch(progress(80))
    page.clock.frame()
    assert len(page.notices) == 1 and "QuotaExceededError" in page.notices[0]
    assert page.state.progress == 80 and storage.data == {}


def test_without_a_store_nothing_is_scheduled():
    clock = FakeClock()
    keeper = RecordKeeper(clock, CourseState, None)
    keeper.changed({C.PROGRESS: True})
    assert clock.pending() == [] and clock.frames == {}
    keeper.save()  # (the page hides) nothing to save into


def test_a_reload_starts_from_the_stored_record():
    page = Page()
    page.batch(progress(45))
    page.clock.frame()
    again = RecordKeeper(FakeClock(), None, Store(KEY, page.storage))
    state, sentences = again.restore("player")
    assert state.progress == 45 and sentences == []


def test_an_unusable_stored_record_is_set_aside_said_and_the_page_starts_fresh():
    storage = MemoryStorage()
    storage.data[KEY] = "{not json"
    keeper = RecordKeeper(FakeClock(), None, Store(KEY, storage))
    state, sentences = keeper.restore("player")
    assert state.progress == 0
    assert len(sentences) == 1 and sentences[0].startswith("The saved record for this course could not be used")
    assert storage.data[KEY + ":unreadable"] == "{not json"  # kept, never overwritten


def test_a_record_of_an_older_version_is_laid_out_anew_at_the_next_frame():
    page = Page()
    page.batch(progress(65))
    page.clock.frame()
    head = json.loads(page.storage.data[KEY])
    head["version"] = 1
    page.storage.data[KEY] = json.dumps(head)
    clock = FakeClock()
    keeper = RecordKeeper(clock, None, Store(KEY, page.storage))
    state, _ = keeper.restore("player")
    keeper.state_of = lambda: state
    assert state.progress == 65 and json.loads(page.storage.data[KEY])["version"] == 1
    clock.frame()
    assert json.loads(page.storage.data[KEY])["version"] == 2
