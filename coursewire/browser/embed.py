"""Embed: one Coassemble iframe on a host page — the facade host developers use.

    from app.embed import Embed
    course = Embed(document.getElementById("course"), signed_url)
    @course.on("course:progress")
    def show(event):
        bar.value = event.data["progress"]

Flow, one way: bridge.js batches raw messages -> `_consume` routes each to its Embed by frame ->
origin check -> `parse_message` -> `state.apply` -> handlers and DOM events -> once per batch,
persist and notify watchers (the UI renders from state). Several embeds on one page share the one
bridge listener but nothing else: each has its own frame, origins, state, log and handlers.
"""

import json

from pyscript import window
from pyscript.ffi import create_proxy

from app.eventlog import EventLog
from app.protocol import Rejection, json_loads, parse_message
from app.state import restore_state, state_for
from app.storage import Store

_embeds = {}  # bridge frame id -> Embed
_consumer = []  # the proxy handed to the bridge, kept alive for the page's lifetime


def origin_of(url):
    """scheme://host[:port] of `url`, resolved against the page like the browser does."""
    try:
        return window.URL.new(url, window.location.href).origin
    except Exception:
        return ""


def _storage_key(kind, url):
    # Signed embed URLs carry a fresh token in the query on every page load: key by origin and
    # path so a learner's record survives the next signed URL for the same course.
    parsed = window.URL.new(url, window.location.href)
    return "coursewire:v1:%s:%s%s" % (kind, parsed.origin, parsed.pathname)


class Embed:
    """One course (kind="player") or builder (kind="builder") iframe in `container`.

    origins: the allowed message origins (default: the URL's own); rules: unlock rules (see
    app/rules.py); persist/storage_key: keep the record in localStorage; dom_events: also
    re-dispatch each accepted event as a bubbling CustomEvent on `container` (the snippet does).
    """

    def __init__(self, container, url=None, kind="player", origins=None, rules=None, persist=True,
                 storage_key=None, title=None, dom_events=False):
        if kind not in ("player", "builder"):
            raise ValueError("kind must be 'player' or 'builder', not %r" % (kind,))
        bridge = window.coursewireBridge
        self.container = container
        self.kind = kind
        self.dom_events = dom_events
        self.title = title or ("Course builder" if kind == "builder" else "Course")
        self._handlers = {}  # name -> [(handler, once)]
        self._watchers = []
        self._pending = {}
        self._log_changed = False
        self.log = EventLog()
        self.notices = []  # sentences the page should show once (storage trouble, bad rules ...)

        # Restore before any message is applied, so nothing is applied twice or lost.
        frame_id = bridge.mountedIn(container)
        if frame_id:
            url = url or bridge.iframe(frame_id).src
        if not url:
            raise ValueError("Embed needs the course URL (or a container the page already mounted)")
        if not origin_of(url).startswith(("http://", "https://")):
            # A javascript: or data: "course" would run in, or spoof, the host page.
            raise ValueError("Embed needs an http(s) course URL, not %r" % (url[:80],))
        self.url = url
        self.origins = list(origins) if origins else [origin_of(url)]
        self.store = Store(storage_key or _storage_key(kind, url)) if persist else None
        self.state = self._restore(rules)
        for problem in getattr(self.state, "rule_errors", ()):
            self.notices.append("An unlock rule was ignored: %s." % problem)
        self.frame_id = frame_id or bridge.mount(container, url, self.title)
        _embeds[self.frame_id] = self
        _connect()

    # --- listeners (player.js-style) -----------------------------------------------------------

    def on(self, name, handler=None, once=False):
        """Call handler(event) for each accepted event called `name` ("*" for all).

        Without a handler it is a decorator: `@embed.on("course:completed")`.
        """
        if handler is None:
            return lambda fn: self.on(name, fn, once) or fn
        self._handlers.setdefault(name, []).append((handler, once))
        return handler

    def once(self, name, handler=None):
        return self.on(name, handler, once=True)

    def off(self, name, handler=None):
        """Remove one handler, or every handler for `name` when none is given."""
        if handler is None:
            self._handlers.pop(name, None)
        elif name in self._handlers:
            self._handlers[name] = [h for h in self._handlers[name] if h[0] is not handler]

    def watch(self, fn):
        """Call fn(changes) once per batch of messages that changed state or the log."""
        self._watchers.append(fn)

    # --- lifecycle ------------------------------------------------------------------------------

    def remount(self, url=None):
        """Replace the iframe with a fresh session (after session:expired); keeps the record."""
        if url:
            self.url = url
        window.coursewireBridge.remount(self.frame_id, self.url, self.title)

    def destroy(self):
        """Remove the iframe and stop all handling for this embed."""
        window.coursewireBridge.unmount(self.frame_id)
        _embeds.pop(self.frame_id, None)
        self._handlers = {}
        self._watchers = []

    def reset(self):
        """Forget this course's record: fresh state, stored copy removed."""
        self.state = state_for(self.kind, getattr(self.state, "rules", None))
        if self.store:
            self.store.clear()
        self._pending["reset"] = True
        self._flush()

    def clear_quiz(self):
        self._merge(self.state.clear_quiz())
        self._flush()

    # --- the message path -----------------------------------------------------------------------

    def _restore(self, rules):
        state = state_for(self.kind, rules)
        if not self.store:
            return state
        record, problem = self.store.load()
        if record is not None:
            restored, problem = restore_state(self.kind, record, rules)
            if problem is None:
                state = restored
            else:
                self.store.set_aside()  # e.g. a newer version's record: kept, never overwritten
        if problem:
            self.notices.append("The saved record for this course could not be used (%s); "
                                "starting fresh." % problem)
        if self.store.notice:
            self.notices.append(self.store.notice)
        return state

    def _receive(self, origin, from_frame, kind, payload, now, out):
        # Origin first, as Coassemble's own plugin checks; then the source window (bridge.js).
        if origin not in self.origins:
            self._reject("wrong origin (%s)" % origin, payload, now, origin)
            return
        if not from_frame:
            self._reject("wrong source (not this embed's course frame)", payload, now, origin)
            return
        if kind == "opaque":
            self._reject("unreadable data (%s)" % payload, payload, now, origin)
            return
        if kind == "large":  # bridge.js kept only [length, start] of a text past the size limit
            self._reject("too large (%d characters)" % payload[0], payload[1], now, origin)
            return
        result = parse_message(payload)
        if isinstance(result, Rejection):
            self._reject(result.reason, payload, now, origin)
            return
        self.log.add_event(result, now, origin)
        self._log_changed = True
        if not result.known:
            return  # logged for the inspector, otherwise ignored
        self._merge(self.state.apply(result, now))
        self._dispatch(result)
        if self.dom_events:
            out.append([self.frame_id, result.name, result.to_dict()])

    def _reject(self, reason, payload, now, origin):
        self.log.add_rejection(reason, payload, now, origin)
        self._log_changed = True

    def _dispatch(self, event):
        for name in (event.name, "*"):
            entries = self._handlers.get(name)
            if not entries:
                continue
            for handler, once in list(entries):
                if once:
                    self.off(name, handler)
                try:
                    handler(event)
                except Exception as error:
                    # A host's bug must not stop other handlers or later events.
                    message = "handler %s for %s raised %s: %s" % (
                        getattr(handler, "__name__", "?"), event.name, type(error).__name__, error)
                    self._reject(message, event.raw, window.Date.new().toISOString(), "")
                    window.console.error("Coursewire: " + message)

    def _merge(self, changes):
        for part, detail in changes.items():
            if isinstance(detail, list):
                self._pending.setdefault(part, []).extend(detail)
            else:
                self._pending[part] = detail

    def _flush(self):
        changes, self._pending = self._pending, {}
        if changes and self.store:
            self.store.save(self.state.to_dict())
            if self.store.notice and self.store.notice not in self.notices:
                self.notices.append(self.store.notice)
        if self._log_changed:
            changes["log"] = True
            self._log_changed = False
        if changes:
            for fn in list(self._watchers):
                fn(changes)


def _consume(batch_json):
    """Called by the bridge with every message that arrived since the last call."""
    now = window.Date.new().toISOString()
    out = []
    for frame_id, origin, kind, payload in json_loads(batch_json):
        embed = _embeds.get(frame_id)
        if embed is not None:
            _receive_safely(embed, origin, True, kind, payload, now, out)
        else:
            # Not from any course frame (the page itself, a sibling frame, a popup ...): every
            # embed records why it refused it.
            for other in _embeds.values():
                _receive_safely(other, origin, False, kind, payload, now, out)
    for embed in list(_embeds.values()):
        embed._flush()
    # One json.dumps per DOM event, joined (same text): MicroPython's json.dumps grows its output
    # buffer a little at a time, so one call for a 5,000-event batch took ~0.5-1 s, joined ~20 ms.
    return "[" + ", ".join([json.dumps(item) for item in out]) + "]" if out else ""


def _receive_safely(embed, origin, from_frame, kind, payload, now, out):
    try:
        embed._receive(origin, from_frame, kind, payload, now, out)
    except Exception as error:
        # A bug of ours must cost one message, never the batch or the listener.
        embed._reject("internal error: %s: %s" % (type(error).__name__, error), payload, now, origin)
        window.console.error("Coursewire: internal error on a message: %r" % (error,))


def _connect():
    if not _consumer:
        _consumer.append(create_proxy(_consume))
        window.coursewireBridge.connect(_consumer[0])
