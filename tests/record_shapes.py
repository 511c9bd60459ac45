"""One records-API record for the core's and the demo's tests (GET /api/records' shape)."""


def record(learner="ada", progress=0, status="not_started", answers=(), **times):
    value = {
        "learner": learner,
        "progress": progress,
        "status": status,
        "answers": list(answers),
        "reported_started_at": None,
        "reported_completed_at": None,
        "verified_commenced_at": None,
        "verified_completed_at": None,
        "last_event_at": None,
        "reported_events": 0,
        "changed": 1,
    }
    value.update(times)
    return value
