"""When the record is saved (and where a page starts from): the saves of a burst of batches
coalesced into one, nothing lost.

The record is saved at most once per animation frame, so a burst of batches costs one save; a
hidden tab runs no animation frames, so a timer (SAVE_LATEST_MS) saves it there too, whichever
comes first. Hiding or leaving the page, Reset and destroy() save at once (`save`): nothing
applied is lost on a reload or a closed tab.

What changed is learnt from the change sets the reducer returns (changes.py): any part of the
record schedules a save, and SCREENS_EDITED names the screens a save writes again (store.py finds
what was added by the lists' lengths). Pure: the timers come from a clock the caller gives,

    clock.later(ms, fn) -> handle    clock.next_frame(fn) -> handle    clock.cancel(handle)

fn is called with no arguments; a part hands the clock the same callable each time (made once,
in its __init__), so the browser's clock wraps it for JavaScript once, not once per call.
"""

from coursewire.core import changes as C
from coursewire.core.records import RECORD_VERSION, record_of, restore, state_for

SAVE_LATEST_MS = 250
# Parts of a change set that are not the learner's record: nothing to save for them.
NOT_RECORD = (C.LOG, C.NOTICES, C.SESSION)


class RecordKeeper:
    """Saves the record of the state `state_of()` gives in `store` (a core/store.py Store, or None:
    memory only); read at save time, since Reset replaces the state.

    on_notice(sentence) hears the storage's one sentence after a save it refused.
    """

    def __init__(self, clock, state_of, store=None, on_notice=None):
        self.clock = clock
        self.state_of = state_of
        self.store = store
        self.on_notice = on_notice
        self.due = False  # something changed since the last save
        self._edited = set()  # positions in screen_order of screens changed in place since then
        self._timers = []  # (the frame, the timer) of the save that is due
        self._save = self.save  # one callable for the clock (see above)

    def open(self, store):
        """Save in `store` from now on (the record of the learner a minted URL names)."""
        self.store = store
        self._edited = set()  # the state that goes with it is restored whole

    def restore(self, product, rules=None):
        """(the state to start from, [sentences for the page]): the stored record's state, or a
        fresh one with the sentence saying why the stored one could not be used."""
        state = state_for(product, rules)
        store = self.store
        if store is None:
            return state, []
        sentences = []
        record, problem = store.load()
        if record is not None:
            restored, problem = restore(product, record, rules)
            if problem is None:
                state = restored
                if record.get("version") != RECORD_VERSION:
                    self.save_later()  # laid out anew (records.py) now, not at the first event
            else:
                store.set_aside()  # e.g. a newer version's record: kept, never overwritten
        if problem:
            sentences.append("The saved record for this course could not be used (%s); starting fresh." % problem)
        if store.notice:
            sentences.append(store.notice)
        return state, sentences

    def changed(self, changes):
        """A batch's change set (Session.take_changes): schedule a save if it touched the record."""
        if C.RESET in changes:
            self._edited = set()  # a fresh state: nothing of the old one's screens is written
        for position in changes.get(C.SCREENS_EDITED, ()):
            self._edited.add(position)
        if self.store is not None and any(part not in NOT_RECORD for part in changes):
            self.save_later()
            # The new entries serialised now, in the batch's own call; the save joins them later.
            self.store.prepare(record_of(self.state_of(), shared=True))

    def save_later(self):
        """Save at the next animation frame, or after SAVE_LATEST_MS, whichever comes first."""
        if not self.due:
            self.due = True
            self._timers = [self.clock.next_frame(self._save), self.clock.later(SAVE_LATEST_MS, self._save)]

    def save(self):
        """Save what changed since the last save (nothing when nothing did)."""
        if not self.due or self.store is None:
            return
        self.due = False
        self.store.save(record_of(self.state_of(), shared=True), self._edited)
        self._edited = set()
        if self.store.notice and self.on_notice is not None:
            self.on_notice(self.store.notice)

    def close(self):
        """Save what is due and schedule nothing more (the embed is destroyed)."""
        self.save()
        self._cancel()

    def _cancel(self):
        for handle in self._timers:
            self.clock.cancel(handle)
        self._timers = []
