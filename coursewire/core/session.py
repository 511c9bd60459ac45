"""The session policy: every decision about one embed's messages, with no I/O.

    session = Session("player", ["https://acme.coassemble.com"], CourseState(rules))
    event = session.receive(origin, from_frame, form, payload, now)

For each message, in this order (the order Coassemble's own plugin checks in):
  1. its origin is in the allow-list;
  2. it was sent by this embed's iframe window (the shell compares event.source and says so:
     `from_frame`);
  3. it is readable (see the payload forms below) and parses (wire.py);
  4. it is logged for the inspector, folded into the state, and dispatched to the handlers
     registered with on/once ("*" hears every accepted event).
What changed accumulates until the shell takes it (`take_changes`) to persist and render, once
per batch. The browser shell (coursewire/browser/embed.py) only moves data between bridge.js, this
class and the DOM, so every rule here is tested on CPython.
"""

from coursewire.core import changes as C
from coursewire.core.eventlog import EventLog
from coursewire.core.records import PRODUCTS, state_for
from coursewire.core.wire import Rejection, parse_message

# How bridge.js hands a message over (its "form"), with what `payload` then holds:
TEXT = "text"  # a string, as Coassemble posts: the string
JSON = "json"  # an object posted without JSON.stringify: bridge.js's JSON text of it
OPAQUE = "opaque"  # something JSON cannot hold (a function, a cyclic object ...): its type name
LARGE = "large"  # text past the size limit: [its length, its first characters]

WRONG_SOURCE = "wrong source (not this embed's course frame)"


def check_origin(origin):
    """An allowed origin as given ("https://host[:port]"), or ValueError with one sentence.

    "*" and "null" are refused: "*" would look like "any origin" but would match none, and "null"
    is the origin of data: and sandboxed frames, which anyone can create.
    """
    if origin == "*":
        raise ValueError("'*' cannot be an allowed origin: name each course origin (scheme://host[:port])")
    if origin == "null":
        raise ValueError("'null' cannot be an allowed origin: it is what data: and sandboxed frames send")
    if not isinstance(origin, str):
        raise ValueError("an allowed origin must be a string like https://host, not %r" % (origin,))
    scheme, sep, rest = origin.partition("://")
    if (
        scheme not in ("http", "https")
        or not sep
        or not rest
        or "/" in rest
        or "?" in rest
        or "#" in rest
        or "@" in rest
        or rest != rest.strip()
        or rest.lower() != rest
    ):
        raise ValueError("%r is not an origin: write scheme://host[:port] in lower case, with no path" % (origin,))
    if origin.endswith(":443" if scheme == "https" else ":80"):
        raise ValueError(
            "%r names its default port, which browsers never send: write %s" % (origin, origin.rsplit(":", 1)[0])
        )
    return origin


class Handlers:
    """Who hears which event name: on/off/once and "*" (every accepted event).

    Each registration is its own entry: on(f) and once(f) for one name are two registrations, and
    the `once` one going away leaves the other. off(name, f) removes every registration of f for
    that name; off(name) removes them all. A handler removed during a dispatch is not called for
    the rest of it; one added during a dispatch first hears the next event.
    """

    def __init__(self):
        self._by_name = {}  # name -> [[handler, once, active]]

    def add(self, name, handler, once=False):
        if not isinstance(name, str) or not name:
            raise ValueError("an event name is a non-empty string such as 'course:progress' or '*'")
        if not callable(handler):
            raise ValueError("a handler must be callable")
        self._by_name.setdefault(name, []).append([handler, once, True])

    def remove(self, name, handler=None):
        kept = []
        for registration in self._by_name.get(name, ()):
            if handler is None or registration[0] is handler:
                registration[2] = False  # a dispatch in progress skips it
            else:
                kept.append(registration)
        if kept:
            self._by_name[name] = kept
        else:
            self._by_name.pop(name, None)

    def count(self, name):
        return len(self._by_name.get(name, ()))

    def clear(self):
        for name in list(self._by_name):
            self.remove(name)

    def dispatch(self, event, on_error):
        """Call every live handler of event.name, then of "*"; on_error(handler, error) for any
        that raises (the others still run)."""
        for name in (event.name, "*"):
            registrations = self._by_name.get(name)
            if not registrations:
                continue
            for registration in list(registrations):
                handler, once, active = registration
                if not active:
                    continue
                if once:
                    registration[2] = False
                    self._by_name[name] = [r for r in self._by_name.get(name, ()) if r is not registration]
                    if not self._by_name[name]:
                        del self._by_name[name]
                try:
                    handler(event)
                except Exception as error:
                    on_error(handler, error)


class Session:
    """One embed's decisions: product ("player" or "builder"), allowed origins, state, handlers, log."""

    def __init__(self, product, origins, state, log=None):
        if product not in PRODUCTS:
            raise ValueError("product must be 'player' or 'builder', not %r" % (product,))
        self.product = product
        self.origins = []  # none yet (a URL still being minted): every message is refused
        self.allow(origins or [])
        self.state = state
        self.log = log if log is not None else EventLog()
        self.handlers = Handlers()
        self.on_handler_error = None  # callable(sentence): the shell shows a host's bug (console)
        self._changes = {}

    def receive(self, origin, from_frame, form, payload, now):
        """Decide one message; returns the accepted Event (known or not), or None if refused."""
        if origin not in self.origins:
            return self._refuse("wrong origin (%s)" % origin, payload, now, origin)
        if not from_frame:
            return self._refuse(WRONG_SOURCE, payload, now, origin)
        if form == OPAQUE:
            return self._refuse("unreadable data (%s)" % payload, payload, now, origin)
        if form == LARGE:
            return self._refuse("too large (%d characters)" % payload[0], payload[1], now, origin)
        result = parse_message(payload)
        if isinstance(result, Rejection):
            return self._refuse(result.reason, payload, now, origin)
        self.log.add_event(result, now, origin)
        self._changes[C.LOG] = True
        if result.known:
            C.merge(self._changes, self.state.apply(result, now))
            self.handlers.dispatch(result, lambda handler, error: self._handler_failed(handler, error, result, now))
        return result

    def _refuse(self, reason, payload, now, origin):
        self.log.add_rejection(reason, payload, now, origin)
        self._changes[C.LOG] = True
        return None

    def _handler_failed(self, handler, error, event, now):
        # A host's bug must not stop the other handlers or later events: it is logged and shown.
        sentence = "handler %s for %s raised %s: %s" % (
            getattr(handler, "__name__", "?"),
            event.name,
            type(error).__name__,
            error,
        )
        self.log.add_handler_error(sentence, event, now)
        self._changes[C.LOG] = True
        if self.on_handler_error is not None:
            self.on_handler_error(sentence)

    def record_internal_error(self, error, payload, now, origin):
        """A bug of ours while handling one message: it costs that message only, logged as such."""
        self._refuse("internal error: %s: %s" % (type(error).__name__, error), payload, now, origin)

    # -- what the shell and the page do --

    def allow(self, origins):
        """Replace the allowed origins (each checked: see check_origin)."""
        self.origins = [check_origin(origin) for origin in origins]

    def on(self, name, handler, once=False):
        self.handlers.add(name, handler, once)

    def off(self, name, handler=None):
        self.handlers.remove(name, handler)

    def change(self, changes):
        """Merge a change set made outside a message (clear the log, a notice ...)."""
        C.merge(self._changes, changes)

    def take_changes(self):
        """Everything that changed since the last call (a change set), and forget it."""
        changes, self._changes = self._changes, {}
        return changes

    def clear_quiz(self):
        self.change(self.state.clear_quiz())

    def reset(self):
        """Forget the record: a fresh state with the same rules, and everything redraws. The
        iframe stays mounted, so what it is doing (FRAME_FIELDS: a ready session) stays true."""
        old = self.state
        self.state = state_for(self.product, old.rules)
        self.state.carry_frame(old)
        self._changes = {C.RESET: True}
