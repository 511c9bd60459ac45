"""Stand-ins for the browser around the core's timed parts (record_keeper.py, reporter.py,
reconnect_driver.py): a clock whose time moves only when a test says so, and a storage."""


class FakeClock:
    def __init__(self, now=0):
        self.ms = now
        self.timers = {}  # handle -> (due ms, fn)
        self.frames = {}  # handle -> fn, run by frame()
        self._next = 0

    def _handle(self):
        self._next += 1
        return self._next

    # -- the interface the parts use --

    def later(self, ms, fn):
        handle = self._handle()
        self.timers[handle] = (self.ms + ms, fn)
        return handle

    def next_frame(self, fn):
        handle = self._handle()
        self.frames[handle] = fn
        return handle

    def cancel(self, handle):
        self.timers.pop(handle, None)
        self.frames.pop(handle, None)

    def now(self):
        return self.ms

    # -- what a test does --

    def pending(self):
        """The delays (from now) of the timers still to run, soonest first."""
        return sorted(due - self.ms for due, _ in self.timers.values())

    def advance(self, ms):
        """Let `ms` pass, running each timer that falls due on the way, in order."""
        end = self.ms + ms
        while True:
            due = [(when, handle) for handle, (when, _) in self.timers.items() if when <= end]
            if not due:
                break
            when, handle = min(due)
            self.ms = when
            self.timers.pop(handle)[1]()
        self.ms = end

    def frame(self):
        """The browser paints a frame: every callback waiting for it runs."""
        frames, self.frames = self.frames, {}
        for fn in frames.values():
            fn()


class MemoryStorage:
    """localStorage's calls on a dict (core/store.py's backend); `refuse`: every set answers it."""

    def __init__(self):
        self.data = {}
        self.refuse = None
        self.sets = 0

    def get(self, key):
        return self.data.get(key), None

    def set(self, key, text):
        if self.refuse:
            return self.refuse
        self.sets += 1
        self.data[key] = text
        return None

    def remove(self, key):
        self.data.pop(key, None)
        return None
