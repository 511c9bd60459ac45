"""What the learner record's storage can fail with, in sentences a person can act on."""


class StoreError(Exception):
    """The database cannot be opened or used as configured (a wrong path or URL, a schema from a
    newer Coursewire): fix the configuration. str() is one sentence without secrets."""


class StoreUnavailable(StoreError):
    """The database is reachable in principle but not now (locked too long, connection lost,
    server down): the request answers 503 and the sender retries; nothing was acknowledged."""
