"""Signed embed URLs from the browser's side: what to ask the host's server for, and when to ask
again.

A Coassemble course opens only from a signed URL that the host's server mints with its secret key
(valid about three hours). The page asks its own server (`MintRequest`: an endpoint such as
/api/embed-url, a course, and where the learner's login comes from) and embeds the answer. When
the session expires, the same request mints a fresh URL and the iframe is remounted; the record
is kept. `Reconnect` decides when: at once after `session:expired`, then with a growing delay
after each failed mint, up to a limit, after which it waits for the learner's Reconnect.
"""

from coursewire.core.vocabulary import MAX_COURSE_CHARS, course_id, is_int

MAX_ID_CHARS = 256  # a learner id (the server's bound, coursewire/server/ids.py)
MAX_URL_CHARS = 2048
MAX_LOGIN_TOKEN_CHARS = 4096  # the server's own bound (coursewire/server/login.py)
ACTIONS = ("view", "edit")
FIELDS = ("url", "course", "learner", "action", "login_url", "login_token")


class MintRequest:
    """What the page asks its server for, as data: the mint endpoint (`url`), the course, the
    action, where the login comes from (`login_url`: a same-origin GET answering {"token"}, asked
    before every mint; or `login_token`: a fixed token; or neither: the host's cookies alone), and
    optionally the learner the page expects. bridge.js builds the HTTP request from it (the one
    place); the learner the record belongs to is the one the server's answer names."""

    def __init__(self, endpoint, course, learner=None, action="view", login_url=None, login_token=None):
        if not isinstance(endpoint, str) or not endpoint.strip() or len(endpoint) > MAX_URL_CHARS:
            raise ValueError("the mint endpoint must be a URL such as /api/embed-url")
        if course_id(course) is None:  # the server's rule: a course it would refuse is never asked for
            raise ValueError(
                "the course must be a course id: a number, or at most %d letters, digits, "
                "'.', '_', ':' or '-'" % MAX_COURSE_CHARS
            )
        if learner is not None:
            _check_id("learner", learner)
        if action not in ACTIONS:
            raise ValueError("the action must be 'view' or 'edit', not %r" % (action,))
        if login_url is not None and login_token is not None:
            raise ValueError("give the mint request a login_url or a login_token, not both")
        if login_url is not None and (
            not isinstance(login_url, str) or not login_url.strip() or len(login_url) > MAX_URL_CHARS
        ):
            raise ValueError("login_url must be the URL of the host's login-token endpoint, such as /login-token")
        if login_token is not None and (
            not isinstance(login_token, str)
            or not login_token.strip()
            or len(login_token) > MAX_LOGIN_TOKEN_CHARS
            or any(ord(c) <= 32 or ord(c) > 126 for c in login_token)
        ):
            raise ValueError("login_token must be the login token (a JWT) the host's backend issued")
        self.endpoint = endpoint.strip()
        self.course = course_id(course)
        self.learner = None if learner is None else str(learner)
        self.action = action
        self.login_url = login_url.strip() if login_url else None
        self.login_token = login_token

    @classmethod
    def from_data(cls, data):
        """A MintRequest from its data ({"url", "course", "learner"?, "action"?, "login_url"? |
        "login_token"?}), or ValueError."""
        if not isinstance(data, dict):
            raise ValueError("mint must be a dict such as {'url': '/api/embed-url', 'course': ..., 'login_url': ...}")
        unknown = sorted([name for name in data if name not in FIELDS])
        if unknown:
            raise ValueError("mint takes %s, not %s" % (", ".join(FIELDS), unknown[0]))
        return cls(
            data.get("url"),
            data.get("course"),
            data.get("learner"),
            data.get("action", "view"),
            data.get("login_url"),
            data.get("login_token"),
        )

    def data(self):
        """The request as data, for bridge.js (which builds the HTTP request from it)."""
        value = {"url": self.endpoint, "course": self.course, "action": self.action}
        for name in ("learner", "login_url", "login_token"):
            if getattr(self, name) is not None:
                value[name] = getattr(self, name)
        return value

    def record_key(self, product, learner=None):
        """Where `learner`'s (default: the request's) record of this course is kept: by course and
        learner, never by the signed URL (which changes on every mint), so the next URL resumes
        the same record and two learners on one browser never share one."""
        learner = self.learner if learner is None else learner
        return "coursewire:v1:%s:course:%s:learner:%s" % (product, _escape(self.course), _escape(learner))


def _check_id(name, value):
    if is_int(value):
        return
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
        raise ValueError("the %s must be a non-empty id of at most %d characters" % (name, MAX_ID_CHARS))
    if any(ord(c) < 32 for c in value):
        raise ValueError("the %s must not contain control characters" % name)


def _escape(text):
    # Keeps the key unambiguous whatever the ids hold ("a:b" and "a" + ":b" never meet).
    return text.replace("%", "%25").replace(":", "%3A")


def answer_fields(answer):
    """(url, expires_at, report_token, learner) from the server's 200 answer, or ValueError."""
    if not isinstance(answer, dict) or not isinstance(answer.get("url"), str) or not answer["url"]:
        raise ValueError("the server's answer has no embed URL")
    expires = answer.get("expires_at")
    token = answer.get("report_token")
    learner = answer.get("learner")
    if learner is not None:
        _check_id("learner", learner)
        learner = str(learner)
    return (
        answer["url"],
        expires if isinstance(expires, str) else None,
        token if isinstance(token, str) else None,
        learner,
    )


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
    failed(reason, retry=True) -> delay before the next try, or None when it gives up (at once
                        when retrying cannot help: the learner must sign in again)
    minted()         -> the fresh URL is mounted; session:ready is awaited (CONNECTING)
    ready()          -> the session works: attempts start again from zero
    manual()         -> the learner asked (Reconnect button): always mints at once
    """

    def __init__(self, automatic=True, attempts=5, first_delay_ms=1000, factor=2, max_delay_ms=30000, window_ms=600000):
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

    def failed(self, reason, retry=True):
        """`retry` False: trying again cannot help (the learner must sign in again)."""
        if self.state == IDLE:
            return None  # the first URL of the page: the page shows why; Reconnect is by hand
        self.reason = reason
        if self.attempt >= self.attempts or not self.automatic or not retry:
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
