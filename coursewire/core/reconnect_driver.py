"""Runs the reconnect policy (reconnect.py's Reconnect): mints again when it says, retries on its
schedule. Pure: the caller gives the clock (`later(ms, fn)`, `cancel(handle)`, `now()` in small
milliseconds: see record_keeper.py) and remint(), which asks for a freshly minted URL."""


class ReconnectDriver:
    """on_retry(): a scheduled retry went out (the page redraws the session pill)."""

    def __init__(self, policy, clock, remint, on_retry):
        self.policy = policy
        self.clock = clock
        self.remint = remint
        self.on_retry = on_retry
        self.closed = False  # destroyed: no retry goes out
        self._retry = None  # the scheduled retry's handle, or None
        self._retry_due = self.retry_due  # one callable for the clock (see record_keeper.py)

    def expired(self):
        """The course said session:expired: mint at once, if the policy says so."""
        # The clock's small milliseconds: MicroPython's ints are 32-bit across the bridge.
        if self.policy.expired(self.clock.now()) == 0:
            self.remint()

    def ready(self):
        self.policy.ready()

    def minted(self):
        self.policy.minted()

    def failed(self, reason, retry=True):
        """A mint failed (`retry` False: refused, trying again cannot help): retry when the policy says."""
        delay = self.policy.failed(reason, retry)
        if delay is not None:
            self._cancel()
            self._retry = self.clock.later(delay, self._retry_due)

    def manual(self):
        """The learner's Reconnect: mint at once; a retry scheduled before is not needed any more."""
        self._cancel()
        self.policy.manual()
        self.remint()

    def retry_due(self):
        self._retry = None
        if not self.closed and self.policy.retry_due():
            self.remint()
            self.on_retry()

    def close(self):
        self.closed = True
        self._cancel()

    def _cancel(self):
        if self._retry is not None:
            self.clock.cancel(self._retry)
            self._retry = None
