"""A bounded record of the messages an embed received, for the inspector panel.

Each entry says what became of one message: `outcome` is ACCEPTED (with the event's name),
REJECTED (with the reason) or HANDLER_ERROR (accepted, but a host's handler raised: the reason
says which). Entries are appended oldest-first to a list that is cut back to the newest `cap`
once it reaches twice that: adding is O(1) amortised (no insert at the front per message) and
memory stays under 2 x cap entries of at most a few hundred characters each. Readers get
entries newest-first.
"""

import json

from coursewire.core.vocabulary import is_int

PREVIEW_CHARS = 300
ACCEPTED = "accepted"
REJECTED = "rejected"
HANDLER_ERROR = "handler-error"


class EventLog:
    def __init__(self, cap=500):
        if not is_int(cap) or cap < 1:
            raise ValueError("cap must be a positive integer")
        self.cap = cap
        self.total = 0
        self.accepted_count = 0
        self.rejected_count = 0
        self.handler_error_count = 0
        self._items = []

    def add_event(self, event, now, origin):
        """Record an accepted Event (known or not). Returns the new entry."""
        self.accepted_count += 1
        return self._add(now, origin, ACCEPTED, event.name, None, event.raw)

    def add_rejection(self, reason, raw, now, origin):
        """Record a refused message and why. Returns the new entry."""
        self.rejected_count += 1
        return self._add(now, origin, REJECTED, None, reason, raw)

    def add_handler_error(self, reason, event, now):
        """Record that a host's handler raised on an accepted Event. Returns the new entry."""
        self.handler_error_count += 1
        return self._add(now, "", HANDLER_ERROR, event.name, reason, event.raw)

    def _add(self, now, origin, outcome, name, reason, raw):
        self.total += 1
        entry = {
            "seq": self.total,
            "time": now,
            "origin": origin,
            "outcome": outcome,
            "name": name,
            "reason": reason,
            "preview": preview(raw),
        }
        self._items.append(entry)
        if len(self._items) >= 2 * self.cap:
            del self._items[: len(self._items) - self.cap]
        return entry

    @property
    def entries(self):
        """The retained entries (at most `cap`), newest first."""
        return self.newest(self.cap)

    def newest(self, n):
        """The `n` newest entries (never more than `cap`), newest first."""
        n = max(0, min(n, self.cap, len(self._items)))
        return self._items[len(self._items) - n :][::-1]


def preview(raw):
    """The raw message as text of at most PREVIEW_CHARS characters; never raises."""
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = json.dumps(raw)
        except Exception:  # not JSON-able, or cyclic
            text = "<%s>" % type(raw).__name__
    if len(text) > PREVIEW_CHARS:
        text = text[: PREVIEW_CHARS - 1] + "\u2026"
    return text
