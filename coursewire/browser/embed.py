"""Embed: one Coassemble iframe on a host page — the facade host developers use.

    from coursewire.browser.embed import Embed
    course = Embed(document.getElementById("course"), signed_url)
    @course.on("course:progress")
    def show(event):
        bar.value = event.data["progress"]

This is the thin browser shell around a core Session (coursewire/core/session.py), which makes
every decision. Flow, one way: bridge.js batches raw messages -> `_consume` routes each to its
Embed by frame -> Session.receive (origin, source, parse, reduce, handlers) -> DOM events ->
once per batch, persist and notify watchers (the page renders from state). Several embeds on one
page share the one bridge listener but nothing else: each has its own frame, origins, state, log
and handlers.
"""

import json

from pyscript import window
from pyscript.ffi import create_proxy

from coursewire.browser.local_storage import LocalStorage
from coursewire.core import changes as C
from coursewire.core.jsonsafe import json_loads
from coursewire.core.records import record_of, restore, state_for
from coursewire.core.session import Session
from coursewire.core.store import Store
from coursewire.core.urls import web_url

_embeds = {}  # bridge frame id -> Embed
_consumer = []  # the proxy handed to the bridge, kept alive for the page's lifetime


def _storage_key(product, url):
    # Signed embed URLs carry a fresh token in the query on every page load: key by origin and
    # path so a learner's record survives the next signed URL for the same course.
    parsed = window.URL.new(url)
    return "coursewire:v1:%s:%s%s" % (product, parsed.origin, parsed.pathname)


class Embed:
    """One course (product="player") or builder (product="builder") iframe in `container`.

    url: the course's embed URL (http(s); default: the iframe the page already mounted in
    `container`); origins: the allowed message origins (default: the URL's own); rules: unlock
    rules (see coursewire/core/rules.py); persist/storage_key: keep the record in localStorage;
    dom_events: also re-dispatch each accepted event as a bubbling CustomEvent on `container`
    (the snippet does). A container holds one Embed: a second raises ValueError (destroy() the
    first to replace it).
    """

    def __init__(self, container, url=None, product="player", origins=None, rules=None, persist=True,
                 storage_key=None, title=None, dom_events=False):
        bridge = window.coursewireBridge
        frame_id = bridge.mountedIn(container)
        if frame_id in _embeds:
            raise ValueError("this container already has a Coursewire embed: call destroy() on it first")
        if frame_id:
            url = url or bridge.iframe(frame_id).src
        if not url:
            raise ValueError("Embed needs the course URL (or a container the page already mounted)")
        # Checked in Python, scheme and origin, before anything crosses to JavaScript.
        self.url, origin = web_url(url, window.location.href)
        self.container = container
        self.product = product
        self.dom_events = dom_events
        self.title = title or ("Course builder" if product == "builder" else "Course")
        self.notices = []  # sentences the page should show once (storage trouble, bad rules ...)
        self._watchers = []
        self.store = Store(storage_key or _storage_key(product, self.url), LocalStorage()) if persist else None
        # Restore before any message is applied, so nothing is applied twice or lost.
        self.session = Session(product, origins or [origin], self._restore(product, rules))
        self.session.on_handler_error = lambda sentence: window.console.error("Coursewire: " + sentence)
        for problem in getattr(self.state, "rule_errors", ()):
            self._notice("An unlock rule was ignored: %s." % problem)
        self.frame_id = frame_id or bridge.mount(container, self.url, self.title)
        _embeds[self.frame_id] = self
        _connect()

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

    def remount(self, url=None):
        """Replace the iframe with a fresh session (after session:expired); keeps the record."""
        if url:
            self.url = web_url(url, window.location.href)[0]
        window.coursewireBridge.remount(self.frame_id, self.url, self.title)

    def destroy(self):
        """Remove the iframe and stop all handling for this embed; what was applied is saved."""
        self._flush()  # also when called from a handler in the middle of a batch
        window.coursewireBridge.unmount(self.frame_id)
        _embeds.pop(self.frame_id, None)
        self.session.handlers.clear()
        self._watchers = []

    def reset(self):
        """Forget this course's record: fresh state, stored copy removed."""
        self.session.reset()
        if self.store:
            self.store.clear()
        self._flush()

    def clear_quiz(self):
        """Empty the quiz answer log (the rest of the record stays)."""
        self.session.clear_quiz()
        self._flush()

    # --- the message path -----------------------------------------------------------------------

    def _restore(self, product, rules):
        state = state_for(product, rules)
        if not self.store:
            return state
        record, problem = self.store.load()
        if record is not None:
            restored, problem = restore(product, record, rules)
            if problem is None:
                state = restored
            else:
                self.store.set_aside()  # e.g. a newer version's record: kept, never overwritten
        if problem:
            self._notice("The saved record for this course could not be used (%s); starting fresh." % problem)
        if self.store.notice:
            self._notice(self.store.notice)
        return state

    def _notice(self, text):
        if text not in self.notices:
            self.notices.append(text)
            return True
        return False

    def _flush(self):
        changes = self.session.take_changes()
        if self.store and any(part not in (C.LOG, C.NOTICES) for part in changes):
            self.store.save(record_of(self.state))
            if self.store.notice and self._notice(self.store.notice):
                changes[C.NOTICES] = True
        if changes:
            for fn in list(self._watchers):
                fn(changes)


def _consume(batch_json):
    """Called by the bridge with every message that arrived since the last call."""
    now = window.Date.new().toISOString()
    out = []
    for frame_id, origin, form, payload in json_loads(batch_json):
        embed = _embeds.get(frame_id)
        if embed is not None:
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
    except Exception as error:
        # A bug of ours must cost one message, never the batch or the listener.
        embed.session.record_internal_error(error, payload, now, origin)
        window.console.error("Coursewire: internal error on a message: %r" % (error,))
        return
    if event is not None and event.known and embed.dom_events and embed.frame_id in _embeds:
        out.append([embed.frame_id, event.name, event.to_dict()])


def _connect():
    if not _consumer:
        _consumer.append(create_proxy(_consume))
        window.coursewireBridge.connect(_consumer[0])
