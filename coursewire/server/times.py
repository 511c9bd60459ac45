"""Times as the learner record keeps them: UTC, ISO 8601, milliseconds, a trailing "Z".

One spelling for every stored time means the database can compare them as text (earliest
start, latest activity) on SQLite and PostgreSQL alike.
"""

from datetime import UTC, datetime

MAX_TIME_CHARS = 40  # "2026-11-28T08:51:27.123456+05:30" and a little slack


def iso(seconds: float) -> str:
    """Unix seconds as the stored spelling: "2026-11-28T08:51:27.123Z"."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return "%s.%03dZ" % (moment.strftime("%Y-%m-%dT%H:%M:%S"), moment.microsecond // 1000)


EARLIEST_YEAR, LATEST_YEAR = 1970, 9998  # what iso() can spell back, in UTC, on every platform


def parse_iso(text: object, field: str = "time") -> float:
    """Unix seconds from an ISO 8601 text with a time zone, or ValueError with one sentence."""
    if not isinstance(text, str) or not 10 <= len(text) <= MAX_TIME_CHARS:
        raise ValueError("%s must be an ISO 8601 time such as 2026-11-28T08:51:27.123Z." % field)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("%s must be an ISO 8601 time such as 2026-11-28T08:51:27.123Z." % field) from None
    if moment.tzinfo is None:
        raise ValueError("%s must say its time zone (end it with Z for UTC)." % field)
    try:
        # Near year 1 or 9999 the conversion to UTC overflows (OverflowError, not ValueError), and
        # the platform's timestamp functions may refuse (OSError): all of them mean out of range.
        utc = moment.astimezone(UTC)
        seconds = utc.timestamp() if EARLIEST_YEAR <= utc.year <= LATEST_YEAR else None
        if seconds is not None:
            iso(seconds)
    except (ValueError, OverflowError, OSError):
        seconds = None
    if seconds is None or seconds < 0:
        raise ValueError("%s must be a time from %d to %d." % (field, EARLIEST_YEAR, LATEST_YEAR))
    return seconds
