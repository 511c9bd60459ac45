"""Persistence of one embed's record in localStorage, surviving a browser that refuses storage.

Storage can be missing (private mode, a sandboxed frame), full (QuotaExceededError) or hold
something unreadable. None of that may stop the page: the record then lives in memory only and
the page says so once. Every localStorage call goes through the bridge's `storage` helper, which
catches the JS exception in JS (some JS errors escape MicroPython's try/except, so none may reach
Python).
"""

import json

from pyscript import window


class Store:
    def __init__(self, key):
        self.key = key
        self.available = True  # False after the first refusal: memory only from then on
        self.notice = None  # the one sentence to show the user about storage, or None
        self._text = None  # what `load` read

    def _call(self, op, value=""):
        answer = json.loads(window.coursewireBridge.storage(op, self.key, value))
        if "error" in answer:
            if self.available:
                self.available = False
                self.notice = (
                    "This browser refused to store the course record (%s), so it is kept in "
                    "memory only and will not survive a reload." % answer["error"]
                )
            return None
        return answer.get("value")

    def load(self):
        """(record, problem): the stored record (None if there is none) and why it was unusable.

        Unreadable text is moved aside under "<key>:unreadable", so nothing is silently lost.
        """
        text = self._text = self._call("get")
        if text is None:
            return None, None
        try:
            record = json.loads(text)
        except Exception:
            self._call("set-aside", text)
            return None, "the stored record was not valid JSON"
        if record is None:
            self._call("set-aside", text)
            return None, "the stored record was null"
        return record, None

    def set_aside(self):
        """Move the text `load` read under "<key>:unreadable" (a record the page could not use)."""
        if self._text is not None:
            self._call("set-aside", self._text)

    def save(self, record):
        if self.available:
            self._call("set", json.dumps(record))

    def clear(self):
        if self.available:
            self._call("remove")
