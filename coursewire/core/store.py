"""Persistence of one embed's record in a key-value storage, surviving a storage that refuses.

The storage is a backend with three calls (the browser's is localStorage through bridge.js;
tests use a dict):

    get(key) -> (text or None, error or None)
    set(key, text) -> error or None
    remove(key) -> error or None

Storage can be missing (private mode, a sandboxed frame), full (QuotaExceededError) or hold
something unreadable. None of that may stop the page: the record then lives in memory only and
the page says so once (`notice`).

The quiz log, the one part that grows, is kept in chunks of QUIZ_CHUNK entries under
"<key>:quiz:N", so a save writes the record's small rest and only the chunks that changed: the
cost of a save follows what changed, not how long the learner has been answering.
"""

import json

from coursewire.core.jsonsafe import parse_json

QUIZ_CHUNK = 50
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
        self._quiz_saved = None  # (first seq, entries) of the quiz log as last loaded or saved
        self._chunks = 0  # quiz chunks in storage

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
        return self._refused(self.backend.set(key, text))

    def _remove(self, key):
        return self._refused(self.backend.remove(key))

    def _chunk_key(self, i):
        return "%s:quiz:%d" % (self.key, i)

    def load(self):
        """(record, problem): the stored record (None if there is none) and why it was unusable.

        Unreadable text is moved aside under "<key>:unreadable", so nothing is silently lost.
        """
        text = self._text = self._get(self.key)
        if text is None:
            return None, None
        record, reason = parse_json(text, MAX_STORED_CHARS, MAX_STORED_DEPTH)
        if reason is not None:
            self.set_aside()
            return None, "the stored record was not usable JSON (%s)" % reason
        if record is None:
            self.set_aside()
            return None, "the stored record was null"
        if isinstance(record, dict) and "quiz_count" in record:
            problem = self._load_quiz(record)
            if problem:
                self.set_aside()
                return None, problem
        return record, None

    def _load_quiz(self, record):
        entries = record.pop("quiz_count")
        if not isinstance(entries, int) or isinstance(entries, bool) or entries < 0:
            return "the stored quiz log was unreadable"
        count = (entries + QUIZ_CHUNK - 1) // QUIZ_CHUNK
        quiz = []
        for i in range(count):
            text = self._get(self._chunk_key(i))
            part, reason = parse_json(text, MAX_STORED_CHARS, MAX_STORED_DEPTH) if text is not None else (None, "")
            if reason is not None or not isinstance(part, list):
                return "part %d of the stored quiz log was missing or unreadable" % (i + 1)
            quiz.extend(part)
        # A chunk may hold entries written after this record (a save cut short): not its own.
        record["quiz"] = quiz[:entries]
        self._chunks = count
        self._remember(record["quiz"])
        return None

    def _remember(self, quiz):
        first = quiz[0].get("seq") if quiz and isinstance(quiz[0], dict) else None
        self._quiz_saved = (first, len(quiz))

    def set_aside(self):
        """Move the text `load` read under "<key>:unreadable" (a record the page could not use)."""
        if self._text is not None:
            if self._set(self.key + ":unreadable", self._text) is None:
                self._remove(self.key)

    def save(self, record):
        if not self.available:
            return
        quiz = record.get("quiz")
        if isinstance(quiz, list):
            record = dict(record)
            del record["quiz"]
            record["quiz_count"] = len(quiz)
            self._save_quiz(quiz)
            if not self.available:
                return  # a chunk was refused: the last complete record stays as it was
        # The chunks first: the record never counts entries that are not written yet.
        self._set(self.key, json.dumps(record))

    def _save_quiz(self, quiz):
        count = (len(quiz) + QUIZ_CHUNK - 1) // QUIZ_CHUNK
        start = 0
        saved = self._quiz_saved
        if saved and quiz and quiz[0].get("seq") == saved[0] and len(quiz) >= saved[1]:
            start = saved[1] // QUIZ_CHUNK  # entries are only ever appended: full chunks stand
        for i in range(start, count):
            if self._set(self._chunk_key(i), json.dumps(quiz[i * QUIZ_CHUNK:(i + 1) * QUIZ_CHUNK])) is not None:
                return
        for i in range(count, self._chunks):  # the log was cleared or trimmed
            self._remove(self._chunk_key(i))
        self._chunks = count
        self._remember(quiz)

    # -- other parts of this embed's record (the report outbox): same key prefix, same refusals --

    def load_part(self, suffix):
        """The text stored under "<key>:<suffix>", or None."""
        return self._get("%s:%s" % (self.key, suffix)) if self.available else None

    def save_part(self, suffix, text):
        """Store `text` under "<key>:<suffix>"; after a refusal, nothing (the notice says so once)."""
        if self.available:
            self._set("%s:%s" % (self.key, suffix), text)

    def remove_part(self, suffix):
        if self.available:
            self._remove("%s:%s" % (self.key, suffix))

    def clear(self):
        if self.available:
            for i in range(self._chunks):
                self._remove(self._chunk_key(i))
            self._chunks = 0
            self._quiz_saved = None
            self._remove(self.key)
