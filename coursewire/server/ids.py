"""Course and learner identifiers as every server route accepts them: checked once, here.

Coassemble course ids are numbers or short slugs; learner identifiers are the host's own user ids
(or e-mail addresses). Both end up in URLs, database keys and report rows, so anything else —
control characters, markup-sized strings, non-strings — is refused with a sentence.
"""

import unicodedata
from typing import Any

from coursewire.core import vocabulary
from coursewire.core.vocabulary import MAX_COURSE_CHARS, is_int

MAX_LEARNER_CHARS = 256


def course_id(value: Any, field: str = "course") -> str:
    """A course id as a string, or ValueError with one sentence. Integers are accepted (JSON).
    The rule is the core's (vocabulary.course_id), which the page checks too."""
    checked = vocabulary.course_id(value)
    if checked is not None:
        return checked
    if not isinstance(value, str) or not value:
        raise ValueError("%s must be a course id (a number or a short slug)." % field)
    raise ValueError("%s must be at most %d letters, digits, '.', '_', ':' or '-'." % (field, MAX_COURSE_CHARS))


# Characters that let two learner ids look alike in a report while differing (or one id hide
# another's text): each refused with its own sentence, checked in this order.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZERO_WIDTH = frozenset("\u180e\u200b\u200c\u200d\u2060\ufeff")


def learner_id(value: Any, field: str = "learner") -> str:
    """A learner identifier as a string, or ValueError with one sentence."""
    if is_int(value) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("%s must be the learner's identifier (a non-empty string)." % field)
    if len(value) > MAX_LEARNER_CHARS:
        raise ValueError("%s must be at most %d characters." % (field, MAX_LEARNER_CHARS))
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        raise ValueError("%s must not contain control characters." % field)
    if value != value.strip():
        raise ValueError("%s must not begin or end with spaces." % field)
    if any(c in _BIDI for c in value):
        raise ValueError("%s must not contain bidirectional controls (they reorder how it reads)." % field)
    if any(c in _ZERO_WIDTH for c in value):
        raise ValueError("%s must not contain zero-width characters." % field)
    kinds = set(unicodedata.category(c) for c in value if c != " ")
    if kinds & {"Zs", "Zl", "Zp"}:  # a no-break or ideographic space looks like " "
        raise ValueError("%s must not contain spaces other than the plain space." % field)
    if kinds & {"Cf", "Co", "Cn", "Cs"}:
        raise ValueError("%s must not contain invisible, private-use or unassigned characters." % field)
    if unicodedata.category(value[0]) in ("Mn", "Mc", "Me"):
        raise ValueError("%s must not begin with a combining mark." % field)
    if unicodedata.normalize("NFC", value) != value:
        raise ValueError("%s must be in Unicode's composed form (NFC), so one learner has one spelling." % field)
    return value
