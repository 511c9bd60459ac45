"""coursewire/core/builder.py: the course builder reducer."""

import pytest

from coursewire.core.builder import BUILDER_ERRORS_CAP, BuilderState
from coursewire.core.records import record_of
from coursewire.core.wire import parse_message

from messages import event, progress, run, screen

# -- builder --


def test_a_fresh_builder_state():
    state = BuilderState()
    assert (state.session, state.expired, state.errors, state.error_count) == ("waiting", False, [], 0)
    assert (state.course_id, state.course_title, state.draft_saved_at, state.revision, state.back_requested) == (
        None,
        None,
        None,
        0,
        0,
    )


def test_builder_session_expiry_and_remount():
    state = BuilderState()
    assert state.apply(event("session", "ready"), "t1") == {"session": True}
    assert state.apply(event("session", "ready"), "t2") == {}
    assert state.apply(event("session", "expired"), "t3") == {"session": True}
    assert (state.session, state.expired) == ("expired", True)
    assert state.apply(event("session", "expired"), "t4") == {}
    assert state.apply(event("session", "ready"), "t5") == {"session": True}
    assert (state.session, state.expired) == ("ready", False)


def test_builder_errors_are_each_recorded():
    state = BuilderState()
    run(state, event("session", "ready"))
    assert state.apply(event("session", "error", message="Save failed"), "t2") == {"errors": True, "session": True}
    assert state.apply(event("session", "error", message="Save failed"), "t3") == {"errors": True}
    assert state.apply(event("session", "error"), "t4") == {"errors": True, "session": True}  # message gone
    assert state.errors == [
        {"message": "Save failed", "time": "t2"},
        {"message": "Save failed", "time": "t3"},
        {"message": None, "time": "t4"},
    ]
    assert (state.error_count, state.session) == (3, "error")
    # A new message while already in error: the session pill must show it.
    assert state.apply(event("session", "error", message="Quota"), "t5") == {"errors": True, "session": True}
    assert state.session_error == "Quota"


def test_builder_error_list_keeps_the_newest_but_counts_all():
    state = BuilderState()
    run(state, *[event("session", "error", message=str(n)) for n in range(BUILDER_ERRORS_CAP + 2)])
    assert len(state.errors) == BUILDER_ERRORS_CAP
    assert state.errors[0]["message"] == "2"
    assert state.error_count == BUILDER_ERRORS_CAP + 2


def test_builder_drafts():
    state = BuilderState()
    assert state.apply(event("course", "created", id=42, title="Untitled"), "t1") == {"course": True, "draft": True}
    assert (state.course_id, state.course_title, state.revision, state.draft_saved_at) == ("42", "Untitled", 1, "t1")
    assert state.apply(event("course", "updated", id=42, title="Untitled"), "t2") == {"draft": True}
    assert state.apply(event("course", "updated", title="Shapes"), "t3") == {"course": True, "draft": True}
    assert state.apply(event("course", "updated", id=None, title=3), "t4") == {"draft": True}
    assert (state.course_id, state.course_title, state.revision, state.draft_saved_at) == ("42", "Shapes", 4, "t4")


def test_builder_back_requests_are_counted():
    state = BuilderState()
    assert state.apply(event("back"), "t1") == {"back": True}
    assert state.apply(event("back"), "t2") == {"back": True}
    assert state.back_requested == 2


@pytest.mark.parametrize(
    "ignored",
    [
        progress(50),
        event("course", "completed"),
        screen("start", id="s"),
        event("x", "y"),
        parse_message("[]"),
        None,
    ],
)
def test_builder_ignores_player_and_unknown_events(ignored):
    state = BuilderState()
    assert state.apply(ignored, "t1") == {}
    assert record_of(state) == record_of(BuilderState())


def test_builder_session_error_is_the_latest_message_while_in_error():
    state = BuilderState()
    assert state.session_error is None
    state.apply(parse_message('{"type":"session","event":"error","data":{"message":"first"}}'), "t1")
    state.apply(parse_message('{"type":"session","event":"error","data":{"message":"second"}}'), "t2")
    assert state.session_error == "second"
    state.apply(parse_message('{"type":"session","event":"ready"}'), "t3")
    assert state.session_error is None and state.error_count == 2
