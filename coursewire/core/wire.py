"""Coassemble's in-page messages: one raw message in, an Event or a Rejection out.

Sans-I/O: this module never touches the browser, so the same file runs on CPython,
Pyodide and MicroPython. The wire format is described in shared/protocol.md.

`parse_message` is total: whatever the iframe (or a bug in the host page) hands it,
it returns a value and never raises. It first turns the input into a fresh copy made
only of plain JSON values (`json_copy`); everything after that works on dicts, lists,
strings, numbers, booleans and None, so it cannot be surprised.

Every runtime gives the same answer for any text JSON.stringify can produce. Malformed
text can still differ: MicroPython's json accepts trailing commas, leading zeros and
unknown escapes, and refuses a raw NUL inside a string, where CPython does the opposite.
"""

import json

# A real Coassemble message is a few hundred characters, a few levels deep. Text past
# the size limit is refused before it is parsed.
MAX_MESSAGE_CHARS = 65536
MAX_DEPTH = 32

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
    "back",
)
KNOWN_NAMES = set(PLAYER_NAMES) | set(BUILDER_NAMES)

# Spellings Coassemble's own Moodle plugin accepts, keyed by (type, event).
# Only the course type has them: "screen:complete" is a different event from
# "course:completed".
ALIASES = {
    ("course", "commenced"): "start",
    ("course", "complete"): "completed",
}

# A numeric string longer than this is not a percentage (and CPython refuses to
# convert integer strings past 4300 digits anyway).
MAX_NUMBER_CHARS = 32


class Event:
    """An accepted message. `data` is always a dict of plain JSON values, owned by the event."""

    def __init__(self, kind, event, data, raw):
        self.type = kind
        self.event = event
        self.data = data
        self.raw = raw
        self.name = kind if event is None else kind + ":" + event
        self.known = self.name in KNOWN_NAMES

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
        if len(raw) > MAX_MESSAGE_CHARS:
            return Rejection("too large (%d characters)" % len(raw), raw)
        if _nests_deeper_than(raw, MAX_DEPTH):
            return Rejection("nested too deeply", raw)
        try:
            decoded = json_loads(raw)
        except Exception:  # ValueError on bad text; CPython's RecursionError on absurd nesting
            return Rejection("not JSON" if raw.strip() else "empty message", raw)
        if not _may_hold_infinity(raw):
            # Freshly decoded, depth already bounded, only string keys and JSON values: the copy
            # below would change nothing, and it is most of the parse time of a typical message.
            return _classify(decoded, raw)
    else:
        decoded = raw
    message, reason = json_copy(decoded)
    if reason is None:
        return _classify(message, raw)
    return Rejection(reason, raw)


def _classify(message, raw):
    if isinstance(message, dict):
        return _interpret(message, raw)
    return Rejection("not an object (got %s)" % json_type(message), raw)


def _may_hold_infinity(text):
    """Could json.loads(text) contain an infinite float? Only a number with an exponent
    ("1e999") or of 300+ digits overflows; text that has neither needs no sanitising copy."""
    if len(text) > 300:
        return True
    for start in _EXPONENT_STARTS:  # a few substring searches in C, no loop over characters
        if start in text:
            return True
    return False


_EXPONENT_STARTS = tuple(digit + letter for digit in "0123456789." for letter in "eE")


# Make CPython's json (Pyodide's too) judge text the way MicroPython's does where it is
# cheap to: allow raw control characters inside strings, and refuse NaN and Infinity,
# which are not JSON. MicroPython's json.loads takes no options at all.
def _refuse_constant(name):
    raise ValueError(name + " is not JSON")


try:
    json.loads("1", strict=False, parse_constant=_refuse_constant)
    _LOADS_OPTIONS = {"strict": False, "parse_constant": _refuse_constant}
except TypeError:
    _LOADS_OPTIONS = {}


def json_loads(text):
    """json.loads with one meaning on every runtime (see above); raises ValueError on bad text."""
    if "\\u" in text and ("\\ud" in text or "\\uD" in text):  # one scan for most text
        text = _decode_surrogate_escapes(text)
    return json.loads(text, **_LOADS_OPTIONS)


def _nests_deeper_than(text, limit):
    """True if JSON text opens more than `limit` arrays or objects inside one another.

    Checked before parsing: json.loads recurses once per level, and on Pyodide a few thousand
    levels can overflow the WebAssembly stack, a fatal error no `except` catches. Brackets in
    strings do not count; text with few brackets at all is not scanned.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "[" or c == "{":
            depth += 1
            if depth > limit:
                return True
        elif c == "]" or c == "}":
            depth -= 1
    return False


def _decode_surrogate_escapes(text):
    """Replace each escaped UTF-16 surrogate pair with its character, and a lone half with U+FFFD.

    MicroPython's json decodes the two halves separately into invalid UTF-8, and CPython
    keeps a lone half as a string that cannot be encoded. Decoding them here gives one
    answer everywhere. Escaped backslashes are skipped, so a literal "\\\\ud83d" is kept.
    Works on the UTF-8 bytes (escapes are ASCII, so byte offsets are safe): MicroPython finds
    and slices a str by walking it from its start, which made this quadratic, and a 1 MB
    batch with an emoji in it froze the page for 45 seconds.
    """
    try:
        data = text.encode()
    except UnicodeError:  # CPython: the text already holds a lone surrogate; json.loads judges it
        return text
    parts = []
    copied = 0
    i = data.find(b"\\")
    while i != -1:
        code = _hex4(data, i + 2) if data[i + 1 : i + 2] == b"u" else None
        if code is None or not 0xD800 <= code <= 0xDFFF:
            i = data.find(b"\\", i + 2)  # any other escape, including an escaped backslash
            continue
        low = _hex4(data, i + 8) if data[i + 6 : i + 8] == b"\\u" else None
        if code <= 0xDBFF and low is not None and 0xDC00 <= low <= 0xDFFF:
            char, end = chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), i + 12
        else:
            char, end = "\ufffd", i + 6
        parts.append(data[copied:i])
        parts.append(char.encode())
        copied = end
        i = data.find(b"\\", end)
    parts.append(data[copied:])
    return b"".join(parts).decode()


def _hex4(data, start):
    digits = data[start : start + 4]
    if len(digits) == 4 and all(c in b"0123456789abcdefABCDEF" for c in digits):
        return int(digits.decode(), 16)
    return None


def _interpret(message, raw):
    kind = message.get("type")
    if kind is None or kind == "":
        return Rejection("missing type", raw)
    if not isinstance(kind, str):
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
        if kind == "back":
            return Event("back", None, data, raw)
        return Rejection("missing event", raw)
    event = ALIASES.get((kind, event), event)

    if kind == "course" and event in ("progress", "completed"):
        # Progress lives in data.progress, or at the top level in older messages.
        value = data.get("progress")
        if value is None:
            value = message.get("progress")
        percent = as_percent(value)
        if percent is not None:
            data["progress"] = percent
        elif event == "progress":
            reason = "progress is missing" if value is None else "progress is not a finite number"
            return Rejection(reason, raw)
        else:
            # A completion is still a completion when its progress field is junk.
            data.pop("progress", None)
    return Event(kind, event, data, raw)


def as_percent(value):
    """Floor of a number, or of a plain decimal string such as "42" or "42.5"; None otherwise.

    Strings are accepted because JavaScript code often stringifies numbers. Out-of-range
    values are kept: clamping is the reducer's job.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value // 1) if _is_finite(value) else None
    if isinstance(value, str) and len(value) <= MAX_NUMBER_CHARS:
        parts = value.split(".")
        if len(parts) <= 2 and all(_is_digits(part) for part in parts):
            return int(parts[0])
    return None


def _is_digits(text):
    # Not str.isdigit(): CPython accepts other scripts' digits there, MicroPython does not.
    return text != "" and all(c in "0123456789" for c in text)


def as_id(value):
    """An identifier from a payload as a string (numbers become strings, so it can be a JSON key), or None."""
    if isinstance(value, str):
        return value if value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def is_number(value):
    """True for a finite int or float; False for booleans, which Python counts as ints."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and _is_finite(value)


def _is_finite(x):
    # math.isfinite is not available everywhere MicroPython runs.
    return x == x and x not in (float("inf"), float("-inf"))


def json_type(value):
    """JSON's name for the type of a value, for messages ("array", "null"...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class _NotJson(Exception):
    pass


def json_copy(value, max_values=MAX_MESSAGE_CHARS):
    """Return (a deep copy made of plain JSON values, None), or (None, reason).

    Refuses nesting deeper than MAX_DEPTH (which also stops cycles), more than
    `max_values` values, non-string keys and anything JSON cannot hold. Non-finite
    floats become None, as JSON.stringify does, so the copy always serialises as
    strict JSON on every runtime.
    """
    try:
        return _Copier(max_values).copy(value, 0), None
    except _NotJson as refusal:
        return None, refusal.args[0]
    except Exception:  # a hostile object (a dict subclass whose methods raise, say)
        return None, "not JSON-able"


class _Copier:
    def __init__(self, max_values):
        self.max_values = max_values
        self.seen = 0

    def copy(self, value, depth):
        self.seen += 1
        if self.seen > self.max_values:
            raise _NotJson("too large (more than %d values)" % self.max_values)
        if value is None or isinstance(value, (bool, str, int)):
            return value
        if isinstance(value, float):
            return value if _is_finite(value) else None
        if depth >= MAX_DEPTH:
            raise _NotJson("nested too deeply")
        if isinstance(value, dict):
            copy = {}
            for key in value:
                if not isinstance(key, str):
                    raise _NotJson("not JSON-able (%s key)" % json_type(key))
                copy[key] = self.copy(value[key], depth + 1)
            return copy
        if isinstance(value, (list, tuple)):
            return [self.copy(item, depth + 1) for item in value]
        raise _NotJson("not JSON-able (got %s)" % json_type(value))
