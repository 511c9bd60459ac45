"""Course and learner identifiers as every server route accepts them: checked once, here.

Coassemble course ids are numbers or short slugs; learner identifiers are the host's own user ids
(or e-mail addresses). Both end up in URLs, database keys and report rows, so anything else —
control characters, markup-sized strings, non-strings — is refused with a sentence.
"""

MAX_COURSE_CHARS = 128
MAX_LEARNER_CHARS = 256
_COURSE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


def course_id(value, field="course"):
    """A course id as a string, or ValueError with one sentence. Integers are accepted (JSON)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ValueError("%s must be a course id (a number or a short slug)." % field)
    if len(value) > MAX_COURSE_CHARS or not set(value) <= _COURSE_CHARS:
        raise ValueError("%s must be at most %d letters, digits, '.', '_', ':' or '-'." % (field, MAX_COURSE_CHARS))
    return value


def learner_id(value, field="learner"):
    """A learner identifier as a string, or ValueError with one sentence."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("%s must be the learner's identifier (a non-empty string)." % field)
    if len(value) > MAX_LEARNER_CHARS:
        raise ValueError("%s must be at most %d characters." % (field, MAX_LEARNER_CHARS))
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("%s must not contain control characters." % field)
    return value
