"""Signed embed URLs from the browser's side: what to ask the host's server for, and when to ask
again.

A Coassemble course opens only from a signed URL that the host's server mints with its secret key
(valid about three hours). The page asks its own server (`MintRequest`: an endpoint such as
/api/embed-url, a course and a learner) and embeds the answer. When the session expires, the same
request mints a fresh URL and the iframe is remounted; the record is kept. `Reconnect` decides
when: at once after `session:expired`, then with a growing delay after each failed mint, up to a
limit, after which it waits for the learner's Reconnect.
"""

MAX_ID_CHARS = 256
ACTIONS = ("view", "edit")


class MintRequest:
    """What the page asks its server for: {"course", "learner", "action"} POSTed to `endpoint`."""

    def __init__(self, endpoint, course, learner, action="view"):
        if not isinstance(endpoint, str) or not endpoint.strip():
            raise ValueError("the mint endpoint must be a URL such as /api/embed-url")
        for name, value in (("course", course), ("learner", learner)):
            if isinstance(value, int) and not isinstance(value, bool):
                continue
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
                raise ValueError("the %s must be a non-empty id of at most %d characters" % (name, MAX_ID_CHARS))
            if any(ord(c) < 32 for c in value):
                raise ValueError("the %s must not contain control characters" % name)
        if action not in ACTIONS:
            raise ValueError("the action must be 'view' or 'edit', not %r" % (action,))
        self.endpoint = endpoint.strip()
        self.course = str(course)
        self.learner = str(learner)
        self.action = action

    def body(self):
        """The JSON-ready request body the host's /api/embed-url takes."""
        return {"course": self.course, "learner": self.learner, "action": self.action}

    def record_key(self, product):
        """Where this learner's record of this course is kept: by course and learner, never by the
        signed URL (which changes on every mint), so the next URL resumes the same record and two
        learners on one browser never share one."""
        return "coursewire:v1:%s:course:%s:learner:%s" % (product, _escape(self.course), _escape(self.learner))


def _escape(text):
    # Keeps the key unambiguous whatever the ids hold ("a:b" and "a" + ":b" never meet).
    return text.replace("%", "%25").replace(":", "%3A")


def answer_fields(answer):
    """(url, expires_at, report_token) from the server's 200 answer, or ValueError."""
    if not isinstance(answer, dict) or not isinstance(answer.get("url"), str) or not answer["url"]:
        raise ValueError("the server's answer has no embed URL")
    expires = answer.get("expires_at")
    token = answer.get("report_token")
    return answer["url"], expires if isinstance(expires, str) else None, token if isinstance(token, str) else None


# Reconnect states, as the session pill shows them.
IDLE = "idle"  # nothing to do: the session is fine, or reconnecting is off
MINTING = "minting"  # a fresh URL has been asked for
CONNECTING = "connecting"  # the fresh URL is mounted; its session:ready is awaited
WAITING = "waiting"  # the last mint failed; the next try is scheduled
GAVE_UP = "gave-up"  # the limit was reached; the learner's Reconnect starts again


class Reconnect:
    """When to mint a fresh URL again. Pure: the shell calls it and schedules what it answers.

    expired(now_ms)  -> delay in ms before minting (0: at once), or None when off, already busy,
                        or when sessions keep expiring right after they start (at most `attempts`
                        automatic reconnects in `window_ms`: a signed URL lasts hours, so more
                        means something is wrong, and looping would only hide it)
    failed(reason)   -> delay before the next try, or None when it gives up
    minted()         -> the fresh URL is mounted; session:ready is awaited (CONNECTING)
    ready()          -> the session works: attempts start again from zero
    manual()         -> the learner asked (Reconnect button): always mints at once
    """

    def __init__(self, automatic=True, attempts=5, first_delay_ms=1000, factor=2, max_delay_ms=30000,
                 window_ms=600000):
        if not isinstance(attempts, int) or attempts < 1:
            raise ValueError("attempts must be a positive integer")
        self.automatic = automatic
        self.attempts = attempts
        self.first_delay_ms = first_delay_ms
        self.factor = factor
        self.max_delay_ms = max_delay_ms
        self.window_ms = window_ms
        self.renewals = []  # when each automatic reconnect started (ms), within the window
        self.state = IDLE
        self.attempt = 0  # tries made since the session last worked
        self.reason = None  # the last failure's sentence

    def expired(self, now_ms):
        if not self.automatic or self.state in (MINTING, WAITING):
            return None
        if self.state == GAVE_UP:
            return None  # it already tried its limit: the learner decides
        self.renewals = [t for t in self.renewals if now_ms - t < self.window_ms]
        if len(self.renewals) >= self.attempts:
            self.state = GAVE_UP
            self.reason = "the session keeps expiring as soon as it starts"
            return None
        self.renewals.append(now_ms)
        return self._try()

    def manual(self):
        self.attempt = 0
        self.renewals = []
        self.state = IDLE
        return self._try()

    def _try(self):
        self.attempt += 1
        self.state = MINTING
        return 0

    def failed(self, reason):
        if self.state == IDLE:
            return None  # the first URL of the page: the page shows why; Reconnect is by hand
        self.reason = reason
        if self.attempt >= self.attempts or not self.automatic:
            self.state = GAVE_UP
            return None
        self.state = WAITING
        delay = self.first_delay_ms * (self.factor ** (self.attempt - 1))
        return min(delay, self.max_delay_ms)

    def retry_due(self):
        """The scheduled delay ran out: mint again (the shell calls this from its timer)."""
        if self.state != WAITING:
            return False
        self._try()
        return True

    def minted(self):
        if self.state == MINTING:
            self.state = CONNECTING

    def ready(self):
        self.state = IDLE
        self.attempt = 0
        self.reason = None

    def describe(self):
        """One sentence for the session pill, or None when there is nothing to say."""
        if self.state in (MINTING, CONNECTING):
            if self.attempt <= 1:
                return "Reconnecting…"
            return "Reconnecting (attempt %d of %d)…" % (self.attempt, self.attempts)
        if self.state == WAITING:
            return "Could not reconnect (%s); trying again shortly." % self.reason
        if self.state == GAVE_UP:
            return "Could not reconnect: %s" % self.reason
        return None
