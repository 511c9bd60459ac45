"""Feed recorded raw messages through the core, for comparing runtimes and for tests.

Each message i is stamped 2026-01-01T00:00:00.000Z plus i seconds, computed with plain
arithmetic (the core reads no clock), so every runtime produces the same final state.
"""

from coursewire.core.records import record_of, state_for
from coursewire.core.wire import parse_message

_SECONDS_IN_JANUARY = 31 * 24 * 3600


def timestamp(i):
    """ISO-8601 time i seconds after 2026-01-01T00:00:00.000Z (i within January)."""
    if not 0 <= i < _SECONDS_IN_JANUARY:
        raise ValueError("replay timestamps only cover January 2026")
    minutes, seconds = divmod(i, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return "2026-01-%02dT%02d:%02d:%02d.000Z" % (days + 1, hours, minutes, seconds)


def replay(product, raw_messages):
    """Apply each raw message to a fresh "player" or "builder" state; return its record."""
    state = state_for(product)
    for i, raw in enumerate(raw_messages):
        state.apply(parse_message(raw), timestamp(i))
    return record_of(state)
