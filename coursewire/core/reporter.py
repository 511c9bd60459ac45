"""Reports to the host's server: the outbox (outbox.py) stored, scheduled and sent.

The outbox decides what goes in a batch and what each answer means (its reply_rule); the reporter
decides when: a batch goes as soon as one can (after each batch of messages, a fresh report
token, an answer that asks for more), a retry once the delay the outbox answers is over (nothing
goes before, new events included: a server's Retry-After is not cut short), the outbox is
saved beside the record at most once every OUTBOX_SAVE_MS (and at once when the page hides),
and what is unsent goes with sendBeacon as the page goes away. Pure: the caller gives the clock
(`later(ms, fn)`, `cancel(handle)`: see record_keeper.py) and the two ways out, post(url, text)
and beacon(url, text).
"""

from coursewire.core.jsonsafe import parse_json
from coursewire.core.outbox import MAX_PENDING
from coursewire.core.store import MAX_STORED_CHARS

OUTBOX_SAVE_MS = 1000  # the outbox is saved at most once a second (and whenever the page hides)
OUTBOX_PART = "outbox"  # stored beside the record, under "<record key>:outbox"


class Reporter:
    """Sends `outbox` (an Outbox) to the host's events endpoint `url`.

    on_notice(sentence): a sentence the page shows once (console and inspector) and redraws.
    """

    def __init__(self, url, outbox, clock, post, beacon, on_notice):
        self.url = url
        self.outbox = outbox
        self.clock = clock
        self.post = post  # post(url, text): the batch's answer comes back through answered()
        self.beacon = beacon  # beacon(url, text): the browser sends it after the page has gone
        self.on_notice = on_notice
        self.store = None  # the record's Store (same refusals, same notice), or None: memory only
        self.closed = False  # destroyed: nothing more is sent or scheduled
        self.save_due = False
        self._save_timer = None
        self._send_timer = None
        # One callable each for the clock (see record_keeper.py).
        self._save = self.save
        self._delay_over = self.delay_over

    def open(self, store, learner=None):
        """Store the outbox in `store` (a Store, or None) from now on, taking back what an earlier
        visit left unsent there; `learner`: the one the server's answer named. Returns None, or
        the sentence saying the stored reports were unreadable."""
        if learner is not None:
            self.outbox.learner = learner
        self.store = store
        text = store.load_part(OUTBOX_PART) if store else None
        if text:
            record, reason = parse_json(text, MAX_STORED_CHARS)
            reason = reason or self.outbox.restore(record, store.load_part)
            if reason:
                return "Unsent reports from an earlier visit could not be read (%s)." % reason
        return None

    def add(self, event, now):
        """An accepted event (the batch's time `now`): queued, sent with the next batch."""
        if self.outbox.add(event, now):
            self.changed()
        else:
            self.on_notice(
                "%d reports wait for the host's server, the most kept; later events are not "
                "reported to it until it takes some." % MAX_PENDING
            )

    def minted(self, token):
        """A freshly minted URL came with `token` (None: the server gave none): send with it."""
        self.outbox.set_token(token)
        if token is None:
            self.tell_no_token()
        self.send()

    def tell_no_token(self):
        # Without a token nothing is sent: said once (console and inspector), never a silent loss.
        self.on_notice(
            "Reports to %s are off: the host's server gave this page no report token, so what "
            "the learner does stays in this browser." % self.url[:200]
        )

    def send(self):
        """POST the next batch, if one may go now (nothing goes while a batch is on its way)."""
        if self.closed:
            return
        text = self.outbox.next_batch()
        if text is not None:
            self.post(self.url, text)

    def answered(self, status, retry_after=None, body=None):
        """The server's answer to the batch on its way: the outbox's rule says what comes next."""
        delay = self.outbox.answered(status, body, retry_after)
        if status == 401:
            self.on_notice("The host's server refused this page's report token; reports wait for the next signed URL.")
        notice, self.outbox.notice = self.outbox.notice, None
        if notice is not None:  # a refused batch, or refused events: once each
            self.on_notice(notice)
        self.changed()
        if delay == 0:
            self.send()
        elif delay is not None:
            self._send_timer = self.clock.later(delay, self._delay_over)

    def delay_over(self):
        """The delay the outbox's answer asked for (a backoff, a server's Retry-After) has passed."""
        self._send_timer = None
        self.outbox.wait_over()
        self.send()

    def changed(self):
        """The outbox changed: saved within OUTBOX_SAVE_MS."""
        if self.store and not self.save_due:
            self.save_due = True
            self._save_timer = self.clock.later(OUTBOX_SAVE_MS, self._save)

    def save(self):
        # Saved with the record's own storage: the same refusal handling and the one notice.
        if not self.store:
            return
        self.save_due = False
        writes, removes, done = self.outbox.save_plan()  # what was added since the last save
        for suffix, text in writes:
            if not self.store.save_part(suffix, text):
                return
        for suffix in removes:
            self.store.remove_part(suffix)
        done()

    def hidden(self):
        """The page is hidden or going away: save, and hand every unsent batch to the browser."""
        self.save()
        for text in self.outbox.final_batches():
            self.beacon(self.url, text)

    def close(self):
        """The embed is destroyed: save what is pending; nothing more is sent or scheduled."""
        self.save()
        self.closed = True
        for handle in (self._save_timer, self._send_timer):
            if handle is not None:
                self.clock.cancel(handle)
        self._save_timer = self._send_timer = None
