"""Embed: one Coassemble iframe on a host page — the facade host developers use.

    from coursewire.browser.embed import Embed
    course = Embed(document.getElementById("course"), mint={"url": "/api/embed-url",
                   "course": "101", "login_url": "/login-token"}, report="/api/events")
    @course.on("course:progress")
    def show(event):
        bar.value = event.data["progress"]

This is the thin browser shell around the core, a facade over parts with one job each, all
pure and tested on CPython with a fake clock: a Session (coursewire/core/session.py) makes every
decision about messages; the RecordKeeper (core/record_keeper.py) saves the record, a burst's
saves coalesced; the Reporter (core/reporter.py) stores, schedules and sends the outbox to the
host's server; the ReconnectDriver (core/reconnect_driver.py) mints a fresh URL when the policy
(core/reconnect.py) says. The shell gives them the browser's clock (BrowserClock) and moves data
between bridge.js, them and the DOM. Flow, one way: bridge.js batches what happened -> `_consume`
routes each item to its Embed by frame -> Session.receive (origin, source, parse, reduce,
handlers) -> DOM events -> once per batch, the record keeper hears what changed, watchers are
notified (the page renders from state) and reports go. Several embeds on one page share the one
bridge listener but nothing else: each has its own frame, origins, state, log, handlers and outbox.
"""

import json

from pyscript import window
from pyscript.ffi import create_proxy

from coursewire.browser.local_storage import LocalStorage
from coursewire.core import changes as C
from coursewire.core.course import BOUND_NOTICES
from coursewire.core.jsonsafe import json_loads, parse_json
from coursewire.core.record_keeper import RecordKeeper
from coursewire.core.session import Session
from coursewire.core.store import MAX_STORED_CHARS, Store
from coursewire.core.urls import web_url

_embeds = {}  # bridge frame id -> Embed
_consumer = []  # the proxies handed to the bridge, kept alive for the page's lifetime

# bridge.js queue forms that are not messages: what happened to a mint or a report POST.
MINTED, MINT_FAILED, MINT_REFUSED, POSTED = "minted", "mint-failed", "mint-refused", "posted"
CONTROL_FORMS = (MINTED, MINT_FAILED, MINT_REFUSED, POSTED)


class BrowserClock:
    """The clock the core's parts are given (core/record_keeper.py): the browser's timers."""

    def __init__(self):
        self._proxies = {}  # callable -> its JavaScript proxy, made once: kept as long as the page

    def _proxy(self, fn):
        proxy = self._proxies.get(fn)
        if proxy is None:
            proxy = self._proxies[fn] = create_proxy(lambda *_: fn())
        return proxy

    def later(self, ms, fn):
        return ("timer", window.setTimeout(self._proxy(fn), ms))

    def next_frame(self, fn):
        return ("frame", window.requestAnimationFrame(self._proxy(fn)))

    def cancel(self, handle):
        kind, number = handle
        if kind == "timer":
            window.clearTimeout(number)
        else:
            window.cancelAnimationFrame(number)

    def now(self):
        # performance.now(): small milliseconds (MicroPython's ints are 32-bit across the bridge)
        return window.performance.now()


def _url_key(product, url):
    # A URL the page already holds (data-src): key by origin and path, since a signed URL carries
    # a fresh token in its query on every load.
    parsed = window.URL.new(url)
    return "coursewire:v1:%s:%s%s" % (product, parsed.origin, parsed.pathname)


def _source(bridge, container, url, mint, product):
    """(the adopted frame's id or None, the URL, the MintRequest): where the course comes from."""
    frame_id = bridge.mountedIn(container)
    if frame_id in _embeds:
        raise ValueError("this container already has a Coursewire embed: call destroy() on it first")
    mint = _mint_request(mint, product)
    if url and mint:
        raise ValueError("give Embed a url or a mint request, not both")
    if frame_id and not url and mint is None:
        adopted = bridge.mintOf(frame_id)
        if adopted:  # minted before Python started (the snippet or the demo page)
            from coursewire.core.reconnect import MintRequest

            mint = MintRequest.from_data(json.loads(adopted))
        else:
            url = bridge.src(frame_id) or None
    if not url and mint is None:
        raise ValueError("Embed needs the course URL, a mint request, or a container the page already mounted")
    return frame_id, url, mint


# Minting and reporting are imported where an embed first needs them (here, Embed.__init__,
# _control, _start_reports): a page that embeds a URL it holds, or reports nothing, never compiles
# them (MicroPython compiles every module it imports at start-up; bench/README.md, start-up).
def _mint_request(mint, product):
    if mint is None:
        return None
    from coursewire.core.reconnect import MintRequest

    if isinstance(mint, MintRequest):
        return mint
    if isinstance(mint, dict) and "action" not in mint:
        mint = dict(mint)
        mint["action"] = "edit" if product == "builder" else "view"
    return MintRequest.from_data(mint)


class Embed:
    """One course (product="player") or builder (product="builder") iframe in `container`.

    Where the course comes from, one of:
      url: an embed URL the page already holds (http(s); signed by the host's server), or
      mint: {"url": "/api/embed-url", "course": ID, "login_url": URL | "login_token": JWT,
        "learner"?: ID} — the page asks the host's server for a signed URL with the learner's
        login (bridge.js builds the request), and for a fresh one whenever the session expires;
        the record is the learner's the server's answer names;
      neither: the iframe the page already mounted in `container` (bridge.js or the snippet).
    origins: the allowed message origins (default: the course URL's own); rules: unlock rules
    (coursewire/core/rules.py); persist/storage_key: keep the record in localStorage (keyed by
    course and learner when minted); dom_events: also re-dispatch each accepted event as a bubbling
    CustomEvent on `container`; report: "/api/events" (or {"url", "token"}) to send every accepted
    event to the host's server; reconnect: mint a fresh URL on its own after session:expired
    (bounded, with backoff). A container holds one Embed: a second raises ValueError.
    """

    def __init__(
        self,
        container,
        url=None,
        product="player",
        origins=None,
        rules=None,
        persist=True,
        storage_key=None,
        title=None,
        dom_events=False,
        mint=None,
        report=None,
        reconnect=True,
    ):
        bridge = window.coursewireBridge
        frame_id, url, self.mint = _source(bridge, container, url, mint, product)
        origin = None
        self.url = None
        if url:
            # Checked in Python, scheme and origin, before anything crosses to JavaScript.
            self.url, origin = web_url(url, window.location.href)
        self.container = container
        self.product = product
        self.dom_events = dom_events
        self.title = title or ("Course builder" if product == "builder" else "Course")
        self.notices = []  # sentences the page should show once (storage trouble, bad rules ...)
        self.mint_error = None  # the last minting failure's sentence, or None
        self.expires_at = None  # when the signed URL runs out (ISO), when the server said
        self._watchers = []
        self._explicit_origins = bool(origins)
        self._bounds_told = set()  # bounded lists whose notice the page has shown
        self.learner = self.mint.learner if self.mint else None
        self._persist = persist
        self.frame_id = frame_id  # the adopted frame's, else the one mounted below
        clock = BrowserClock()
        # Minted without a learner given: the record is the one of the learner the server's first
        # answer names, opened then (nothing is applied before: the frame exists only after it).
        store = None
        if persist and (storage_key or not self.mint or self.learner is not None):
            key = storage_key or (self.mint.record_key(product) if self.mint else _url_key(product, self.url))
            store = Store(key, LocalStorage())
        self._keeper = RecordKeeper(clock, lambda: self.session.state, store, self._tell_stored)
        # Restore before any message is applied, so nothing is applied twice or lost.
        self.session = Session(
            product, list(origins) if origins else ([origin] if origin else []), self._restore(product, rules)
        )
        self.session.on_handler_error = lambda sentence: window.console.error("Coursewire: " + sentence)
        self._tell_rule_errors()
        self._tell_bounds()
        self.reconnect_policy = self._reconnector = None
        if self.mint:
            from coursewire.core.reconnect import Reconnect
            from coursewire.core.reconnect_driver import ReconnectDriver

            self.reconnect_policy = Reconnect(automatic=reconnect)
            self._reconnector = ReconnectDriver(self.reconnect_policy, clock, self._remint, self._retried)
        self._reporter = self._start_reports(report, clock) if report else None
        self.outbox = self._reporter.outbox if self._reporter else None
        self.report_url = self._reporter.url if self._reporter else None
        if not frame_id and self.mint:
            self.frame_id = bridge.mint(container, json.dumps(self.mint.data()), self.title, "")
        elif not frame_id:
            self.frame_id = bridge.mount(container, self.url, self.title)
        _embeds[self.frame_id] = self
        _connect()

    @property
    def store(self):
        """Where the record is kept (core/store.py), or None: memory only."""
        return self._keeper.store

    @property
    def state(self):
        """The live record: CourseState or BuilderState (progress, status, quiz, unlocked ...)."""
        return self.session.state

    @property
    def log(self):
        """The inspector's bounded log of every message received (coursewire/core/eventlog.py)."""
        return self.session.log

    @property
    def origins(self):
        return self.session.origins

    # --- listeners (player.js-style) -----------------------------------------------------------

    def on(self, name, handler=None, once=False):
        """Call handler(event) for each accepted event called `name` ("*" for all).

        Without a handler it is a decorator: `@embed.on("course:completed")`.
        """
        if handler is None:
            return lambda fn: self.on(name, fn, once) or fn
        self.session.on(name, handler, once)
        return handler

    def once(self, name, handler=None):
        """Like on(), for the next such event only."""
        return self.on(name, handler, once=True)

    def off(self, name, handler=None):
        """Remove every registration of `handler` for `name`, or all of them when none is given."""
        self.session.off(name, handler)

    def watch(self, fn):
        """Call fn(changes) once per batch of messages that changed the state or the log.

        `changes` is a change set (coursewire/core/changes.py): {"progress": True, "quiz": [new
        entries], ...}; a page redraws only those parts.
        """
        self._watchers.append(fn)

    # --- lifecycle ------------------------------------------------------------------------------

    def reconnect(self):
        """A fresh session now (the learner's Reconnect): a freshly minted URL when minting, else
        the same URL again. The record is kept."""
        if self.mint:
            self._reconnector.manual()
            self.session.change({C.SESSION: True})
            self._flush()
        else:
            self.remount()

    def remount(self, url=None):
        """Replace the iframe with `url` (or the same URL again); keeps the record."""
        if url:
            self.url, origin = web_url(url, window.location.href)
            self._allow(origin)
        window.coursewireBridge.remount(self.frame_id, self.url, self.title)

    def destroy(self):
        """Remove the iframe and stop all handling for this embed; what was applied is saved."""
        self._flush()  # also when called from a handler in the middle of a batch
        self._keeper.close()
        if self._reporter is not None:
            self._reporter.close()
        if self._reconnector is not None:
            self._reconnector.close()
        window.coursewireBridge.unmount(self.frame_id)
        _embeds.pop(self.frame_id, None)
        self.session.handlers.clear()
        self._watchers = []

    def reset(self):
        """Forget this course's record: fresh state, stored copy removed (or a notice that the
        browser would not remove it)."""
        self.session.reset()
        self._bounds_told = set()
        if self.store:
            refused = self.store.notice
            error = self.store.clear()
            if error is not None:
                self._notice(
                    "This browser would not remove the stored record (%s): a reload may bring it back." % error
                )
            elif refused in self.notices and self.store.notice is None:
                self.notices.remove(refused)  # storage took the removal: saving is tried again
        self._flush()
        self._keeper.save()

    def clear_quiz(self):
        """Empty the quiz answer log (the rest of the record stays), stored at once like Reset: a
        learner who clears and closes the tab expects the answers gone."""
        self.session.clear_quiz()
        self._flush()
        self._keeper.save()

    # --- the message path -----------------------------------------------------------------------

    def _restore(self, product, rules):
        state, sentences = self._keeper.restore(product, rules)
        for sentence in sentences:
            self._notice(sentence)
        return state

    def _notice(self, text):
        """Keep `text` for the page to show, and say it on the console, once; True when new."""
        if text not in self.notices:
            self.notices.append(text)
            window.console.warn("Coursewire: " + text)
            return True
        return False

    def _allow(self, origin):
        if not self._explicit_origins and origin not in self.session.origins:
            self.session.allow([origin])

    def _tell(self, text):
        """A notice the page redraws its notices for (with the batch's other changes)."""
        if self._notice(text):
            self.session.change({C.NOTICES: True})

    def _tell_stored(self, text):
        # The storage's refusal, after a save outside any batch: the watchers hear it at once.
        if self._notice(text):
            self._notify({C.NOTICES: True})

    def _tell_rule_errors(self):
        for problem in self.state.rule_errors:
            self._notice("An unlock rule was ignored: %s." % problem)

    def _remint(self):
        window.coursewireBridge.remint(self.frame_id)

    def _retried(self):
        self.session.change({C.SESSION: True})
        self._flush()

    def _received(self, event, now):
        """What an accepted event means for the session's renewal and for the host's server."""
        if self._reconnector is not None:
            if event.name == "session:expired":
                self._reconnector.expired()
            elif event.name == "session:ready":
                self._reconnector.ready()
                self.mint_error = None
        if self._reporter is not None and event.known:
            self._reporter.add(event, now)

    def _control(self, form, payload):
        """What bridge.js tells about this frame outside its messages."""
        if form == MINTED:
            from coursewire.core.reconnect import answer_fields

            answer, reason = parse_json(payload, MAX_STORED_CHARS)
            try:
                if reason is not None:
                    raise ValueError("the server's answer is not JSON")
                url, self.expires_at, token, learner = answer_fields(answer)
                self.url, origin = web_url(url, window.location.href)
            except ValueError as error:
                return self._control(MINT_FAILED, "The embed URL could not be used: %s." % error)
            self._allow(origin)
            if self.learner is None and learner is not None:
                self._open_record(learner)
            self.mint_error = None
            if self._reconnector is not None:
                self._reconnector.minted()
            if self._reporter is not None:
                self._reporter.minted(token)
        elif form in (MINT_FAILED, MINT_REFUSED):
            self.mint_error = payload
            if self._reconnector is not None:
                self._reconnector.failed(payload, retry=form == MINT_FAILED)
        elif form == POSTED:
            posted = json.loads(payload)  # [tag, status, Retry-After, the answer's text]
            if posted[0] == "report" and self._reporter is not None:
                self._reporter.answered(posted[1], *posted[2:4])
            return
        self.session.change({C.SESSION: True})

    def _open_record(self, learner):
        """The learner the first answer names: their stored record (and unsent reports) from now on."""
        self.learner = learner
        if self._persist:
            self._keeper.open(Store(self.mint.record_key(self.product, learner), LocalStorage()))
            frame = self.session.state
            self.session.state = self._restore(self.product, frame.rules)
            self.session.state.carry_frame(frame)
            self._tell_rule_errors()
            self._tell_bounds()
            self.session.change({C.RESET: True})
        if self._reporter is not None:
            unreadable = self._reporter.open(self.store, learner)
            if unreadable:
                self._notice(unreadable)

    def _flush(self):
        changes = self.session.take_changes()
        self._keeper.changed(changes)
        if C.NOTICES in changes or C.RESET in changes:
            self._tell_bounds()
        self._notify(changes)
        if self._reporter is not None:
            self._reporter.send()  # what this batch added (nothing goes while a batch is on its way)

    def _notify(self, changes):
        if changes:
            for fn in list(self._watchers):
                fn(changes)

    def _tell_bounds(self):
        # A bounded list of the record that kept something out: said once (course.BOUND_NOTICES).
        for name in self.state.full:
            if name not in self._bounds_told:
                self._bounds_told.add(name)
                self._notice(BOUND_NOTICES[name])

    # --- reports to the host's server (coursewire/core/reporter.py) ------------------------------

    def _start_reports(self, report, clock):
        if isinstance(report, str):
            report = {"url": report}
        if not isinstance(report, dict) or not isinstance(report.get("url"), str) or not report["url"]:
            raise ValueError("report must be the URL of the host's events endpoint, such as '/api/events'")
        from coursewire.core.outbox import Outbox
        from coursewire.core.reporter import Reporter

        bridge = window.coursewireBridge
        outbox = Outbox(bridge.sessionId(), self.mint.course if self.mint else None, self.learner)
        outbox.set_token(report.get("token"))
        reporter = Reporter(
            report["url"],
            outbox,
            clock,
            lambda url, text: bridge.post(self.frame_id, url, text, "report"),
            lambda url, text: bridge.beacon(url, text),
            self._tell,
        )
        if not self.mint and outbox.token is None:  # a minted answer may still bring one
            reporter.tell_no_token()
        unreadable = reporter.open(self.store)
        if unreadable:
            self._notice(unreadable)
        return reporter

    def _hidden(self):
        """The page is hidden or going away: save everything, and hand unsent reports to the browser."""
        self._flush()
        self._keeper.save()
        if self._reporter is not None:
            self._reporter.hidden()


def _consume(batch_json):
    """Called by the bridge with everything that happened since the last call."""
    now = window.Date.new().toISOString()
    out = []
    for frame_id, origin, form, payload in json_loads(batch_json):
        embed = _embeds.get(frame_id)
        if form in CONTROL_FORMS:
            if embed is not None:
                embed._control(form, payload)
        elif embed is not None:
            _receive_safely(embed, origin, True, form, payload, now, out)
        else:
            # Not from any course frame (the page itself, a sibling frame, a popup ...): every
            # embed records why it refused it.
            for other in list(_embeds.values()):
                _receive_safely(other, origin, False, form, payload, now, out)
    for embed in list(_embeds.values()):
        embed._flush()
    # One json.dumps per DOM event, joined (same text): MicroPython's json.dumps grows its output
    # buffer a little at a time, so one call for a 5,000-event batch took ~0.5-1 s, joined ~20 ms.
    return "[" + ", ".join([json.dumps(item) for item in out]) + "]" if out else ""


def _receive_safely(embed, origin, from_frame, form, payload, now, out):
    try:
        event = embed.session.receive(origin, from_frame, form, payload, now)
        if event is not None and event.known:
            embed._received(event, now)  # the batch's time: one clock read per batch, not per event
    except Exception as error:
        # A bug of ours must cost one message, never the batch or the listener.
        embed.session.record_internal_error(error, payload, now, origin)
        window.console.error("Coursewire: internal error on a message: %r" % (error,))
        return
    if event is not None and event.known and embed.dom_events and embed.frame_id in _embeds:
        out.append([embed.frame_id, event.name, event.to_dict()])


def _hidden():
    for embed in list(_embeds.values()):
        embed._hidden()


def _connect():
    if not _consumer:
        _consumer.append(create_proxy(_consume))
        _consumer.append(create_proxy(_hidden))
        window.coursewireBridge.onHide(_consumer[1])
        window.coursewireBridge.connect(_consumer[0])
