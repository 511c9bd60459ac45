"""Persistence of one embed's record in a key-value storage, surviving a storage that refuses.

The storage is a backend with three calls (the browser's is localStorage through bridge.js;
tests use a dict):

    get(key) -> (text or None, error or None)
    set(key, text) -> error or None
    remove(key) -> error or None

Storage can be missing (private mode, a sandboxed frame), full (QuotaExceededError) or hold
something unreadable. None of that may stop the page: the record then lives in memory only and
the page says so once (`notice`).

Layout (record version 2). The course record's lists that grow (LISTS: screens in screen_order,
the feedback history, the quiz log) are kept in chunks of CHUNK entries under
"<key>:<list>:N"; "<key>" holds the rest, small, and how many entries each list has. A save
writes the chunks that changed (the last one of a list that grew; a screen changed in place) and
the small rest: its cost follows what changed, not what the record holds. Builder records are
small and stay whole under "<key>".

Order of writes, so that any one failed write leaves a readable record: chunks before the record
that counts them (a chunk may hold entries past the count: they are not read); a list that shrank
(the quiz log cleared) is counted in the record first and its surplus chunks removed after. A
list written whole over chunks it had (the log cleared and filled again in one save) would
overwrite entries the stored record still counts, so the record as last stored, with that list
counted empty, is written first: a failure after it leaves the list cleared, as the learner asked,
never a record whose count and chunks disagree (issue 19, item 7). A version 1 record
("quiz_count", quiz chunks only) is read and written again as version 2.

Every chunk's text is built by joining one json.dumps per entry: MicroPython's json.dumps grows
its output a little at a time, so one call over a chunk of large answers is quadratic (seconds).
"""

import json

from coursewire.core.jsonsafe import parse_json
from coursewire.core.vocabulary import RECORD_LISTS, is_int

CHUNK = 50
LISTS = RECORD_LISTS  # stored in chunks; screens in screen_order order
CHUNK_NAMES = {"screens": "screens", "feedback_history": "feedback", "quiz": "quiz"}
# localStorage holds ~5 MB per origin; a record's nesting is a message's (32) plus a few levels.
MAX_STORED_CHARS = 5_000_000
MAX_STORED_DEPTH = 40


class Store:
    def __init__(self, key, backend):
        self.key = key
        self.backend = backend
        self.available = True  # False after the first refusal: memory only from then on
        self.notice = None  # the one sentence to show the user about storage, or None
        self._text = None  # what `load` read
        # Entries of each list in storage as last loaded or saved; None: not known (a version 1
        # record, or nothing loaded yet), so the next save writes every chunk.
        self._saved = None
        self._chunks = {}  # list name -> chunks in storage (what a clear must remove)
        # The JSON texts of the entries of each append-only list's last chunk (first position,
        # [texts]): a chunk that grows is rewritten, but each entry is serialised once.
        self._tail = {}
        # Each list's first entry as last loaded or saved (_first_of): a list emptied and filled
        # again between two saves (Clear log, then answers) is not an older list grown.
        self._first = {}
        # Whether this page has seen anything stored under the key (load read it, or a save
        # wrote it): a storage that never let the page in holds nothing of it to remove.
        self._held = False
        self._head = None  # the version 2 record's own text as last loaded or saved

    def _refused(self, error):
        if error is not None and self.available:
            self.available = False
            self.notice = (
                "This browser refused to store the course record (%s), so it is kept in "
                "memory only and will not survive a reload." % error
            )
        return error

    def _get(self, key):
        text, error = self.backend.get(key)
        self._refused(error)
        return text

    def _set(self, key, text):
        error = self._refused(self.backend.set(key, text))
        if error is None:
            self._held = True
        return error

    def _remove(self, key):
        return self._refused(self.backend.remove(key))

    def _chunk_key(self, name, i):
        return "%s:%s:%d" % (self.key, CHUNK_NAMES[name], i)

    # -- reading --

    def load(self):
        """(record, problem): the stored record (None if there is none) and why it was unusable.

        Unreadable text is moved aside under "<key>:unreadable", so nothing is silently lost.
        """
        text = self._text = self._get(self.key)
        if text is None:
            return None, None
        self._held = True
        record, reason = _parse(text)
        if reason is not None:
            self.set_aside()
            return None, "the stored record was not usable JSON (%s)" % reason
        if record is None:
            self.set_aside()
            return None, "the stored record was null"
        problem = None
        if isinstance(record, dict) and "lists" in record:
            problem = self._load_lists(record)
        elif isinstance(record, dict) and "quiz_count" in record:
            problem = self._load_version_1(record)
        if problem:
            self.set_aside()
            return None, problem
        return record, None

    def _load_lists(self, record):
        counts = record.pop("lists")
        if not isinstance(counts, dict) or any(not _is_count(counts.get(name)) for name in LISTS):
            return "the stored record's list counts were unreadable"
        lists = {}
        for name in LISTS:
            items, problem = self._read_chunks(name, counts[name])
            if problem:
                return problem
            lists[name] = items
        screens = {}
        order = []
        for screen in lists["screens"]:
            screen_id = screen.get("id") if isinstance(screen, dict) else None
            if not isinstance(screen_id, str) or screen_id in screens:
                return "the stored screens were unreadable"
            screens[screen_id] = screen
            order.append(screen_id)
        record["screens"] = screens
        record["screen_order"] = order
        record["feedback_history"] = lists["feedback_history"]
        record["quiz"] = lists["quiz"]
        self._saved = dict(counts)
        self._head = self._text
        self._chunks = {name: _chunks_for(counts[name]) for name in LISTS}
        self._first = {
            "screens": order[0] if order else None,
            "feedback_history": _first_entry(record["feedback_history"]),
            "quiz": _first_entry(record["quiz"]),
        }
        return None

    def _load_version_1(self, record):
        entries = record.pop("quiz_count")
        if not _is_count(entries):
            return "the stored quiz log was unreadable"
        quiz, problem = self._read_chunks("quiz", entries)
        if problem:
            return problem
        record["quiz"] = quiz
        self._saved = None  # written again whole, as version 2, by the next save
        self._chunks = {"quiz": _chunks_for(entries)}
        return None

    def _read_chunks(self, name, entries):
        items = []
        for i in range(_chunks_for(entries)):
            text = self._get(self._chunk_key(name, i))
            part, reason = _parse(text) if text is not None else (None, "")
            if reason is not None or not isinstance(part, list):
                what = "quiz log" if name == "quiz" else CHUNK_NAMES[name]
                return None, "part %d of the stored %s was missing or unreadable" % (i + 1, what)
            items.extend(part)
        # A chunk may hold entries written after this record (a save cut short): not its own.
        return items[:entries], None

    def set_aside(self):
        """Move the text `load` read under "<key>:unreadable" (a record the page could not use)."""
        if self._text is not None:
            if self._set(self.key + ":unreadable", self._text) is None:
                self._remove(self.key)

    # -- writing --

    def save(self, record, touched_screens=()):
        """Store `record` (records.record_of), writing only what changed since the last save.

        touched_screens: positions in screen_order of screens changed in place since then
        (CourseState.touched_screens); new entries at a list's end are found by its length.
        """
        if not self.available:
            return
        if record.get("kind") != "course":
            self._set(self.key, json.dumps(record))
            return
        head = {}
        for name, value in record.items():
            if name not in LISTS and name != "screen_order":
                head[name] = value
        screens, order = record["screens"], record["screen_order"]
        history, quiz = record["feedback_history"], record["quiz"]
        # name -> (entries, entries i..j-1): slices of the record's lists, never copies of them
        lists = {
            "screens": (len(order), lambda i, j: [screens[k] for k in order[i:j]]),
            "feedback_history": (len(history), lambda i, j: history[i:j]),
            "quiz": (len(quiz), lambda i, j: quiz[i:j]),
        }
        head["lists"] = {name: lists[name][0] for name in LISTS}
        firsts = {name: _first_of(name, lists[name]) for name in LISTS}
        plan = {}
        for name in LISTS:
            touched = touched_screens if name == "screens" else ()
            plan[name] = self._chunks_to_write(name, lists[name][0], touched, firsts[name])
        if self._count_rewritten_lists_empty([name for name in LISTS if plan[name][1]]) is not None:
            return
        for name in LISTS:
            count, items = lists[name]
            for i in plan[name][0]:
                if self._set(self._chunk_key(name, i), self._chunk_text(name, i, count, items)) is not None:
                    return  # refused: the last complete record stays as it was
        text = json.dumps(head)
        if self._set(self.key, text) is not None:
            return
        self._head = text
        for name in LISTS:
            count = head["lists"][name]
            for i in range(_chunks_for(count), self._chunks.get(name, 0)):  # a list that shrank
                if self._remove(self._chunk_key(name, i)) is not None:
                    return
            self._chunks[name] = _chunks_for(count)
        self._saved = dict(head["lists"])
        self._first = firsts
        for name, (start, texts) in list(self._tail.items()):  # the next save rewrites the last chunk only
            keep = (self._saved[name] // CHUNK) * CHUNK
            self._tail[name] = (keep, texts[keep - start :]) if keep >= start else None
            if self._tail[name] is None:
                del self._tail[name]

    def prepare(self, record):
        """Serialise the entries appended to the record's growing lists since the last save, for
        the next save to join (`record`: the course record, or at least its LISTS but screens).

        Called where the entries were made (the end of the page's batch): on MicroPython a save
        runs in a call of its own (an animation frame), after a collection, where every
        allocation searches the heap from its start; serialising 100 answers there cost ten
        times what it costs at the end of the batch (bench/profile_core.mjs, "per call"). Only
        a list that grew since the last save is prepared (one emptied and filled again is
        written whole by the save, as before)."""
        if not self.available or self._saved is None or record.get("kind") != "course":
            return  # (refused storage saves nothing: texts kept for it would only grow)
        for name in ("feedback_history", "quiz"):
            items = record[name]
            saved = self._saved.get(name)
            if saved is None or len(items) < saved or (saved and _first_entry(items) != self._first.get(name)):
                continue
            # The texts from the start of the last saved chunk on, each entry serialised once.
            start = (saved or 0) // CHUNK * CHUNK
            tail = self._tail.get(name)
            texts = tail[1] if tail is not None and tail[0] == start else []
            texts.extend([json.dumps(item) for item in items[start + len(texts) :]])
            self._tail[name] = (start, texts)

    def _chunk_text(self, name, i, count, items):
        first, end = i * CHUNK, min(count, (i + 1) * CHUNK)
        if name == "screens":  # changed in place: serialised anew
            return _list_text(items(first, end))
        start, texts = self._tail_for(name, first, count, items)
        return "[" + ", ".join(texts[first - start : end - start]) + "]"

    def _tail_for(self, name, first, count, items):
        tail = self._tail.get(name)
        if tail is not None and tail[0] <= first and first - tail[0] <= len(tail[1]):
            start, texts = tail
            if len(texts) < count - start:
                texts.extend([json.dumps(item) for item in items(start + len(texts), count)])
            return start, texts
        texts = [json.dumps(item) for item in items(first, count)]  # (written whole: no texts kept)
        self._tail[name] = (first, texts)
        return first, texts

    def _chunks_to_write(self, name, count, touched, first):
        """(chunk numbers to write, whether they replace entries the stored record counts)."""
        saved = self._saved.get(name) if self._saved is not None else None
        if saved is None or count < saved or (saved and first != self._first.get(name)):
            # Written whole: unknown, or shrunk (only ever emptied: Clear log, Reset; counted by
            # the record first). Texts kept from before would be other entries'.
            self._tail.pop(name, None)
            return range(_chunks_for(count)), bool(saved) and count > 0
        # Entries are only appended: full chunks stand, the last one grows.
        chunks = set(range(saved // CHUNK, _chunks_for(count))) if count > saved else set()
        for position in touched:
            if position < count:
                chunks.add(position // CHUNK)
        return sorted(chunks), False

    def _count_rewritten_lists_empty(self, names):
        """Before chunks holding other entries overwrite those the stored record counts, store
        that record with those lists counted empty (see the module's order of writes). Returns
        the refusal, or None."""
        if not names or self._head is None:
            return None
        head, reason = _parse(self._head)
        if reason is not None or not isinstance(head, dict) or not isinstance(head.get("lists"), dict):
            return None  # not a version 2 record of ours: nothing it counts is overwritten
        for name in names:
            head["lists"][name] = 0
        text = json.dumps(head)
        error = self._set(self.key, text)
        if error is None:
            self._head = text
        return error

    # -- other parts of this embed's record (the report outbox): same key prefix, same refusals --

    def load_part(self, suffix):
        """The text stored under "<key>:<suffix>", or None."""
        return self._get("%s:%s" % (self.key, suffix)) if self.available else None

    def save_part(self, suffix, text):
        """Store `text` under "<key>:<suffix>"; after a refusal, nothing (the notice says so once).
        Returns True if it was stored."""
        return self.available and self._set("%s:%s" % (self.key, suffix), text) is None

    def remove_part(self, suffix):
        if self.available:
            self._remove("%s:%s" % (self.key, suffix))

    def clear(self):
        """Remove the stored record; returns None, or the error that kept it from being removed.

        Tried even after storage refused a save (a full storage still removes): the record goes
        first, so once it is gone nothing comes back on a reload, whatever else fails. Removing
        frees the space a refused save lacked: saving resumes (a new refusal says so again).
        """
        error = self.backend.remove(self.key)
        if error is not None:
            # A storage that never let this page read or write (a SecurityError on every call)
            # holds nothing of it: nothing comes back on a reload; the refusal still stands.
            return error if self._held else None
        for name, count in list(self._chunks.items()):
            for i in range(count):
                self.backend.remove(self._chunk_key(name, i))  # leftovers are never read
        self._chunks = {}
        self._tail = {}
        self._head = None
        self._saved = {}  # nothing stored: the next save writes what there is
        self.available = True
        self.notice = None
        return None


def _parse(text):
    # Stored text is validated field by field by records.py, so no sanitising copy here: on a
    # large record that copy was seconds of MicroPython's start-up.
    return parse_json(text, MAX_STORED_CHARS, MAX_STORED_DEPTH, sanitise=False)


def _first_of(name, listed):
    """What identifies a list's first entry: a screen's id, an entry itself (never changed once
    logged; a quiz entry's seq alone would do)."""
    count, items = listed
    if not count:
        return None
    return items(0, 1)[0]["id"] if name == "screens" else items(0, 1)[0]


def _first_entry(entries):
    return entries[0] if entries else None


def _is_count(value):
    return is_int(value) and value >= 0


def _chunks_for(entries):
    return (entries + CHUNK - 1) // CHUNK


def _list_text(items):
    return "[" + ", ".join([json.dumps(item) for item in items]) + "]"
