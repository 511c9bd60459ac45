"""Coassemble's in-page messages: one raw message in, an Event or a Rejection out.

Sans-I/O: this module never touches the browser, so the same file runs on CPython, Pyodide and
MicroPython. The wire format and its sources are in docs/protocol.md.

`parse_message` is total: whatever the iframe (or a bug in the host page) hands it, it returns a
value and never raises. Like h11's events, an `Event` validates itself when it is built: each
field a reducer reads is checked once, here (`FIELDS`), and kept in `event.fields`; an Event with
an unusable required field cannot exist. `event.data` is the payload as sent (plain JSON values,
owned by the event), which is what host handlers and DOM events receive.
"""

from coursewire.core.jsonsafe import MAX_DEPTH, is_finite, is_number, json_copy, json_type, parse_json
from coursewire.core.vocabulary import as_id, as_text, is_digits, is_int

# A real Coassemble message is a few hundred characters, a few levels deep. Text past the size
# limit is refused before it is parsed.
MAX_MESSAGE_CHARS = 65536

PLAYER_NAMES = (
    "session:ready",
    "course:start",
    "course:progress",
    "course:feedback",
    "course:completed",
    "screen:start",
    "screen:end",
    "screen:complete",
    "screen:answer",
    "screen:failed",
    "screen:retry",
)
BUILDER_NAMES = (
    "session:ready",
    "session:error",
    "session:expired",
    "course:created",
    "course:updated",
    "course:generated",  # an AI-generated course; handled by Coassemble's own plugin like created
    "back",
)
KNOWN_NAMES = set(PLAYER_NAMES) | set(BUILDER_NAMES)

# Spellings Coassemble's own Moodle plugin accepts, keyed by (type, event). Only the course type
# has them: "screen:complete" is a different event from "course:completed".
ALIASES = {
    ("course", "commenced"): "start",
    ("course", "complete"): "completed",
}

# A numeric string longer than this is not a percentage (and CPython refuses to convert integer
# strings past 4300 digits anyway).
MAX_NUMBER_CHARS = 32


# -- field readers: a clean value, or None when the field is absent or not what it should be --


def as_percent(value):
    """Floor of a number, or of a plain decimal string such as "42" or "42.5"; None otherwise.

    Strings are accepted because JavaScript code often stringifies numbers. Out-of-range values
    are kept: clamping is the reducer's job (progress only increases, between 0 and 100).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value // 1) if is_finite(value) else None
    if isinstance(value, str) and len(value) <= MAX_NUMBER_CHARS:
        parts = value.split(".")
        if len(parts) <= 2 and all(is_digits(part) for part in parts):
            return int(parts[0])
    return None


# as_id and as_text are the vocabulary's (core/vocabulary.py): the server reads ids the same way.


def as_whole(value):
    return value if is_int(value) else None


def as_positive(value):
    return value if is_int(value) and value > 0 else None


def as_bool(value):
    return value if isinstance(value, bool) else None


def as_number(value):
    return value if is_number(value) else None


def as_json(value):
    return value  # already plain JSON: the parser made it so


# Coassemble does not publish screen, quiz or feedback payloads (docs/protocol.md): a field that is
# not what it should be becomes None and the message is still used. Only progress is required.
_SCREEN = (("id", as_id), ("title", as_text), ("index", as_whole), ("type", as_text))
_SAVED = (("id", as_id), ("title", as_text))
FIELDS = {
    "session:error": (("message", as_text),),
    "course:progress": (("progress", as_percent),),
    "course:completed": (("progress", as_percent),),
    "course:created": _SAVED,
    "course:updated": _SAVED,
    "course:generated": _SAVED,
    "screen:start": _SCREEN,
    "screen:end": _SCREEN,
    "screen:complete": _SCREEN,
    "screen:answer": _SCREEN
    + (
        ("question", as_json),
        ("answer", as_json),
        ("correct", as_bool),
        ("score", as_number),
        ("attempt", as_positive),
    ),
    "screen:failed": _SCREEN + (("score", as_number), ("attempt", as_positive)),
    "screen:retry": _SCREEN + (("attempt", as_positive),),
}
_NO_FIELDS = ()


def read_fields(name, data):
    """The checked values (FIELDS) of an event named `name` with payload `data`: what the page's
    reducer and the host's server both read."""
    fields = {}
    for field, read in FIELDS.get(name, _NO_FIELDS):
        fields[field] = read(data.get(field))
    return fields


class Event:
    """An accepted message. Built only with usable fields: ValueError (with the reason) otherwise.

    type, event: the two halves of the name ("course", "progress"); event is None for "back".
    name: "type:event" (or "back"); known: whether Coursewire has a meaning for it.
    data: the payload, a dict of plain JSON values owned by the event (progress normalised to an
    int); fields: the checked values the reducers read (FIELDS); raw: what was received.
    """

    def __init__(self, msg_type, event, data, raw=None):
        if not isinstance(msg_type, str) or not msg_type:
            raise ValueError("missing type")
        if event is not None and not isinstance(event, str):
            raise ValueError("event is not a string")
        if not isinstance(data, dict):
            raise ValueError("data is not an object")
        self.type = msg_type
        self.event = event
        self.name = msg_type if event is None else msg_type + ":" + event
        self.known = self.name in KNOWN_NAMES
        self.data = data
        self.raw = raw
        fields = read_fields(self.name, data)
        if self.name == "course:progress" and fields["progress"] is None:
            value = data.get("progress")
            raise ValueError("progress is missing" if value is None else "progress is not a finite number")
        if "progress" in fields:
            # Handlers see the same integer the reducer uses; junk progress on a completion is
            # dropped (a completion is still a completion).
            if fields["progress"] is None:
                data.pop("progress", None)
            else:
                data["progress"] = fields["progress"]
        self.fields = fields

    def to_dict(self):
        return {"name": self.name, "type": self.type, "event": self.event, "data": self.data}

    def __repr__(self):
        unknown = "" if self.known else ", unknown"
        return "Event(%r, data=%r%s)" % (self.name, self.data, unknown)


class Rejection:
    """A message that was refused, with a short reason a developer can act on."""

    def __init__(self, reason, raw):
        self.reason = reason
        self.raw = raw

    def __repr__(self):
        return "Rejection(%r)" % self.reason


def parse_message(raw):
    """Turn what a `message` event's `data` held (JSON text or an object) into an Event or a Rejection."""
    if isinstance(raw, str):
        message, reason = parse_json(raw, MAX_MESSAGE_CHARS, MAX_DEPTH)
        if reason == "empty":
            reason = "empty message"
    else:
        message, reason = json_copy(raw, MAX_MESSAGE_CHARS, MAX_DEPTH)
    if reason is not None:
        return Rejection(reason, raw)
    if not isinstance(message, dict):
        return Rejection("not an object (got %s)" % json_type(message), raw)
    return _interpret(message, raw)


def _interpret(message, raw):
    msg_type = message.get("type")
    if msg_type is None or msg_type == "":
        return Rejection("missing type", raw)
    if not isinstance(msg_type, str):
        return Rejection("type is not a string", raw)

    # The event name is read from "status" when "event" is missing, as Coassemble's plugin does.
    field = "event" if message.get("event") is not None else "status"
    event = message.get(field)
    if event is not None and not isinstance(event, str):
        return Rejection(field + " is not a string", raw)

    # null data is treated like no data: nothing is lost by it.
    data = message.get("data")
    if data is None:
        data = {}
    elif not isinstance(data, dict):
        return Rejection("data is not an object", raw)

    if not event:
        if msg_type != "back":
            return Rejection("missing event", raw)
        event = None
    else:
        event = ALIASES.get((msg_type, event), event)
    if msg_type == "course" and event in ("progress", "completed") and data.get("progress") is None:
        # Older messages put progress at the top level.
        if message.get("progress") is not None:
            data["progress"] = message["progress"]
    try:
        return Event(msg_type, event, data, raw)
    except ValueError as error:
        return Rejection(error.args[0], raw)
