"""JSON with one meaning on CPython, Pyodide and MicroPython, and guards against hostile text.

Every JSON text Coursewire reads (a message from the iframe, a stored record, a host's data-rules
attribute) goes through `parse_json`: bounded size, bounded nesting checked *before* parsing
(json.loads recurses once per level, and on Pyodide a few thousand levels overflow the
WebAssembly stack: a fatal error no `except` catches), no NaN or Infinity, and escaped surrogate
pairs decoded identically everywhere. The result is made only of dicts, lists, strings, numbers,
booleans and None.

Every runtime gives the same answer for any text JSON.stringify can produce. Malformed text can
still differ: MicroPython's json accepts trailing commas, leading zeros and unknown escapes, and
refuses a raw NUL inside a string, where CPython does the opposite.
"""

import json

MAX_DEPTH = 32  # a real message or record is a few levels deep


def parse_json(text, max_chars, max_depth=MAX_DEPTH, sanitise=True):
    """(value, None) for JSON text within the limits, or (None, reason). Never raises.

    sanitise=False skips the copy that turns an overflowing number (1e999) into None: for a caller
    that validates every value it reads anyway (a stored record: records.py), on text so large
    that the copy would cost seconds on MicroPython.
    """
    if not isinstance(text, str):
        return None, "not text (got %s)" % json_type(text)
    if len(text) > max_chars:
        return None, "too large (%d characters)" % len(text)
    if nests_deeper_than(text, max_depth):
        return None, "nested too deeply"
    try:
        value = json_loads(text)
    except Exception:  # ValueError on bad text; CPython's RecursionError cannot happen past the check
        return None, "not JSON" if text.strip() else "empty"
    if not sanitise or not holds_non_finite(value, max_depth):
        # Freshly decoded, depth already bounded, only string keys and JSON values: the copy
        # below would change nothing, and it is most of the parse time of a typical message.
        return value, None
    return json_copy(value, max_chars, max_depth)


def json_loads(text):
    """json.loads with one meaning on every runtime (see above); raises ValueError on bad text."""
    if "\\u" in text and ("\\ud" in text or "\\uD" in text):  # one scan for most text
        text = _decode_surrogate_escapes(text)
    return json.loads(text, **_LOADS_OPTIONS)


# Make CPython's json (Pyodide's too) judge text the way MicroPython's does where it is cheap to:
# allow raw control characters inside strings, and refuse NaN and Infinity, which are not JSON.
# MicroPython's json.loads takes no options at all.
def _refuse_constant(name):
    raise ValueError(name + " is not JSON")


try:
    json.loads("1", strict=False, parse_constant=_refuse_constant)
    _LOADS_OPTIONS = {"strict": False, "parse_constant": _refuse_constant}
except TypeError:
    _LOADS_OPTIONS = {}


def holds_non_finite(value, max_depth=MAX_DEPTH):
    """Does a freshly decoded JSON value hold an infinite float (json.loads turns an overflowing
    number, "1e999" or 309+ digits, into one on every runtime), or nest past `max_depth`? Only
    then does parse_json need its sanitising copy (json_copy, which also judges the depth).

    Checks the decoded numbers rather than the text: one pass over a message's few values costs
    about half of searching its text for the 22 ways an exponent can start, and text over 300
    characters (which that search had to copy whole) is walked, not copied.
    """
    kind = type(value)
    if kind is float:
        return value - value != 0  # inf - inf is nan; json.loads makes no nan
    if kind is dict or kind is list:
        return _holds_non_finite(value, max_depth)
    return False


def _holds_non_finite(container, depth_left):
    # type() is, not isinstance: json.loads makes exactly these types, and `is` is cheaper on
    # MicroPython. A container deeper than the limit answers True: json_copy refuses it.
    for item in container.values() if type(container) is dict else container:
        kind = type(item)
        if kind is dict or kind is list:
            if depth_left <= 1 or _holds_non_finite(item, depth_left - 1):
                return True
        elif kind is float and item - item != 0:
            return True
    return False


def nests_deeper_than(text, limit):
    """True if JSON text opens more than `limit` arrays or objects inside one another.

    Brackets in strings do not count; text with few brackets at all is not scanned. The text is
    split at its quotes, so the characters inside strings (most of a record's text) are never
    visited one by one: 4x faster on MicroPython, whose loops over characters are slow.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    for part in text.split('"'):
        if in_string:
            # The quote after this part closes the string, unless an odd run of backslashes
            # before it escapes it.
            if not part.endswith("\\") or (len(part) - len(part.rstrip("\\"))) % 2 == 0:
                in_string = False
            continue
        in_string = True  # (after the last part there is no quote: nothing follows anyway)
        if "[" in part or "{" in part:
            for c in part:
                if c == "[" or c == "{":
                    depth += 1
                    if depth > limit:
                        return True
                elif c == "]" or c == "}":
                    depth -= 1
        elif "]" in part or "}" in part:
            depth -= part.count("]") + part.count("}")
    return False


def _decode_surrogate_escapes(text):
    """Replace each escaped UTF-16 surrogate pair with its character, and a lone half with U+FFFD.

    MicroPython's json decodes the two halves separately into invalid UTF-8, and CPython keeps a
    lone half as a string that cannot be encoded. Decoding them here gives one answer everywhere.
    Escaped backslashes are skipped, so a literal "\\\\ud83d" is kept. Works on the UTF-8 bytes
    (escapes are ASCII, so byte offsets are safe): MicroPython finds and slices a str by walking
    it from its start, which made this quadratic, and a 1 MB batch with an emoji in it froze the
    page for 45 seconds.
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


def is_number(value):
    """True for a finite int or float; False for booleans, which Python counts as ints."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and is_finite(value)


def is_finite(x):
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


def json_copy(value, max_values=65536, max_depth=MAX_DEPTH):
    """Return (a deep copy made of plain JSON values, None), or (None, reason).

    Refuses nesting deeper than `max_depth` (which also stops cycles), more than `max_values`
    values, non-string keys and anything JSON cannot hold. Non-finite floats become None, as
    JSON.stringify does, so the copy always serialises as strict JSON on every runtime.
    """
    try:
        return _Copier(max_values, max_depth).copy(value, 0), None
    except _NotJson as refusal:
        return None, refusal.args[0]
    except Exception:  # a hostile object (a dict subclass whose methods raise, say)
        return None, "not JSON-able"


class _Copier:
    def __init__(self, max_values, max_depth):
        self.max_values = max_values
        self.max_depth = max_depth
        self.seen = 0

    def copy(self, value, depth):
        self.seen += 1
        if self.seen > self.max_values:
            raise _NotJson("too large (more than %d values)" % self.max_values)
        if value is None or isinstance(value, (bool, str, int)):
            return value
        if isinstance(value, float):
            return value if is_finite(value) else None
        if depth >= self.max_depth:
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
