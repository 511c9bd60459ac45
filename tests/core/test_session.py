"""coursewire/core/session.py: the decisions the browser shell only carries out — origin, then
source, then readability and parse, then log, reduce and dispatch — and the handler registry."""

import json

import pytest

from coursewire.core import changes as C
from coursewire.core.builder import BuilderState
from coursewire.core.course import CourseState
from coursewire.core.session import JSON, LARGE, OPAQUE, TEXT, WRONG_SOURCE, Handlers, Session, check_origin

COURSE = "https://acme.coassemble.com"
NOW = "2026-11-28T09:00:00.000Z"


def message(msg_type, event=None, **data):
    body = {"type": msg_type, "data": data}
    if event:
        body["event"] = event
    return json.dumps(body)


PROGRESS_40 = message("course", "progress", progress=40)


def session(product="player", origins=(COURSE,)):
    return Session(product, list(origins), CourseState() if product == "player" else BuilderState())


def outcomes(s):
    return [(e["outcome"], e["name"] or e["reason"]) for e in reversed(s.log.entries)]


# -- origin, then source, then readable, then parse --


def test_a_message_from_the_course_frame_on_its_origin_is_accepted_and_applied():
    s = session()
    event = s.receive(COURSE, True, TEXT, PROGRESS_40, NOW)
    assert event.name == "course:progress" and s.state.progress == 40
    assert s.take_changes() == {C.LOG: True, C.PROGRESS: True, C.STATUS: True}
    assert s.take_changes() == {}  # taken once


def test_the_origin_is_checked_first_even_for_the_course_frame():
    s = session()
    assert s.receive("https://evil.example", True, TEXT, PROGRESS_40, NOW) is None
    assert s.state.progress == 0
    assert outcomes(s) == [("rejected", "wrong origin (https://evil.example)")]
    assert s.take_changes() == {C.LOG: True}


def test_the_right_origin_from_another_window_is_the_wrong_source():
    s = session()
    assert s.receive(COURSE, False, TEXT, PROGRESS_40, NOW) is None
    assert s.state.progress == 0 and outcomes(s) == [("rejected", WRONG_SOURCE)]


def test_a_wrong_origin_from_another_window_is_reported_as_the_origin():
    s = session()
    s.receive("null", False, TEXT, PROGRESS_40, NOW)
    assert outcomes(s) == [("rejected", "wrong origin (null)")]


def test_an_object_posted_without_stringify_is_read_from_bridge_json():
    s = session()
    event = s.receive(COURSE, True, JSON, PROGRESS_40, NOW)
    assert event.data == {"progress": 40} and s.state.progress == 40


def test_opaque_and_large_payloads_are_refused_with_what_bridge_kept():
    s = session()
    assert s.receive(COURSE, True, OPAQUE, "function", NOW) is None
    assert s.receive(COURSE, True, LARGE, [3000000, '{"type":"course"'], NOW) is None
    assert outcomes(s) == [("rejected", "unreadable data (function)"), ("rejected", "too large (3000000 characters)")]
    assert s.log.entries[0]["preview"] == '{"type":"course"'
    assert s.state.progress == 0


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("not json", "not JSON"),
        ("[1]", "not an object (got array)"),
        (message("course", "progress"), "progress is missing"),
        ('{"event": "progress"}', "missing type"),
    ],
)
def test_parse_rejections_are_logged_with_their_reason_and_change_nothing(raw, reason):
    s = session()
    assert s.receive(COURSE, True, TEXT, raw, NOW) is None
    assert outcomes(s) == [("rejected", reason)] and s.state.progress == 0


def test_unknown_events_are_logged_but_neither_applied_nor_dispatched():
    s = session()
    heard = []
    s.on("*", heard.append)
    event = s.receive(COURSE, True, TEXT, message("course", "teleport"), NOW)
    assert event is not None and not event.known
    assert heard == [] and outcomes(s) == [("accepted", "course:teleport")]
    assert s.take_changes() == {C.LOG: True}


def test_several_allowed_origins():
    s = session(origins=(COURSE, "https://cdn.coassemble.com"))
    assert s.receive("https://cdn.coassemble.com", True, TEXT, PROGRESS_40, NOW) is not None


def test_a_builder_session_applies_builder_events():
    s = session("builder")
    s.receive(COURSE, True, TEXT, message("course", "generated", id="c9", title="AI"), NOW)
    assert (s.state.course_id, s.state.course_title, s.state.revision) == ("c9", "AI", 1)


# -- allowed origins: what a host may write --


@pytest.mark.parametrize("origin", ["https://acme.coassemble.com", "http://localhost:8001", "http://[::1]:8000"])
def test_origins_as_browsers_send_them_are_allowed(origin):
    assert check_origin(origin) == origin


@pytest.mark.parametrize(
    "origin, words",
    [
        ("*", "'*' cannot be an allowed origin"),
        ("null", "'null' cannot be an allowed origin"),
        ("https://acme.coassemble.com/", "is not an origin"),
        ("https://Acme.com", "lower case"),
        ("acme.coassemble.com", "is not an origin"),
        ("javascript:alert(1)", "is not an origin"),
        ("https://acme.com:443", "default port"),
        ("http://acme.com:80", "default port"),
        (None, "must be a string"),
    ],
)
def test_origins_no_browser_sends_are_refused_with_a_sentence(origin, words):
    with pytest.raises(ValueError) as refused:
        check_origin(origin)
    assert words in str(refused.value)


def test_a_session_refuses_a_star_origin_at_construction():
    with pytest.raises(ValueError):
        session(origins=("*",))
    with pytest.raises(ValueError):
        Session("viewer", [COURSE], CourseState())


def test_a_session_without_origins_refuses_everything_until_told():
    s = Session("player", [], CourseState())  # a URL still being minted
    assert s.receive(COURSE, True, TEXT, PROGRESS_40, NOW) is None
    s.allow([COURSE])
    assert s.receive(COURSE, True, TEXT, PROGRESS_40, NOW) is not None
    with pytest.raises(ValueError):
        s.allow(["*"])


# -- dispatch --


def receive_progress(s, value):
    return s.receive(COURSE, True, TEXT, message("course", "progress", progress=value), NOW)


def test_handlers_run_in_registration_order_then_the_wildcard():
    s = session()
    calls = []
    s.on("*", lambda e: calls.append("any"))
    s.on("course:progress", lambda e: calls.append("first"))
    s.on("course:progress", lambda e: calls.append("second"))
    receive_progress(s, 10)
    assert calls == ["first", "second", "any"]


def test_on_and_once_of_the_same_function_keep_their_own_registrations():
    s = session()
    calls = []

    def f(event):
        calls.append(event.data["progress"])

    s.on("course:progress", f)
    s.on("course:progress", f, once=True)
    receive_progress(s, 10)
    receive_progress(s, 20)
    receive_progress(s, 30)
    assert calls == [10, 10, 20, 30]  # the permanent one keeps firing after the once is spent


def test_once_fires_once():
    s = session()
    calls = []
    s.on("course:progress", calls.append, once=True)
    receive_progress(s, 10)
    receive_progress(s, 20)
    assert [e.data["progress"] for e in calls] == [10]
    assert s.handlers.count("course:progress") == 0


def test_off_removes_every_registration_of_a_function_or_all_for_a_name():
    s = session()
    calls = []
    kept = lambda e: calls.append("kept")  # noqa: E731
    gone = lambda e: calls.append("gone")  # noqa: E731
    s.on("course:progress", gone)
    s.on("course:progress", gone, once=True)
    s.on("course:progress", kept)
    s.off("course:progress", gone)
    receive_progress(s, 10)
    assert calls == ["kept"]
    s.off("course:progress")
    receive_progress(s, 20)
    assert calls == ["kept"]
    s.off("never:registered")  # harmless


def test_a_raising_handler_is_reported_and_the_others_still_run():
    s = session()
    calls, shown = [], []
    s.on_handler_error = shown.append

    def boom(event):
        raise RuntimeError("host bug")

    s.on("course:progress", boom)
    s.on("course:progress", lambda e: calls.append("after"))
    s.on("*", lambda e: calls.append("any"))
    receive_progress(s, 10)
    receive_progress(s, 20)
    assert calls == ["after", "any", "after", "any"]
    assert shown == ["handler boom for course:progress raised RuntimeError: host bug"] * 2
    assert s.state.progress == 20  # applied before dispatch: a handler cannot undo the record
    assert [o for o, _ in outcomes(s)] == ["accepted", "handler-error", "accepted", "handler-error"]


def test_off_during_dispatch_stops_a_handler_not_yet_called():
    s = session()
    calls = []

    def later(event):
        calls.append("later")

    def remover(event):
        calls.append("remover")
        s.off("course:progress", later)

    s.on("course:progress", remover)
    s.on("course:progress", later)
    receive_progress(s, 10)
    assert calls == ["remover"]


def test_a_handler_added_during_dispatch_first_hears_the_next_event():
    s = session()
    calls = []

    def adder(event):
        calls.append("adder")
        s.on("course:progress", lambda e: calls.append("added"))

    s.on("course:progress", adder, once=True)
    receive_progress(s, 10)
    receive_progress(s, 20)
    assert calls == ["adder", "added"]


def test_a_handler_that_removes_itself_while_a_once_is_pending():
    s = session()
    calls = []

    def selfish(event):
        calls.append("selfish")
        s.off("course:progress", selfish)

    s.on("course:progress", selfish)
    s.on("course:progress", lambda e: calls.append("once"), once=True)
    receive_progress(s, 10)
    receive_progress(s, 20)
    assert calls == ["selfish", "once"]


def test_handlers_hear_the_event_the_state_already_holds():
    s = session()
    seen = []
    s.on("course:progress", lambda e: seen.append(s.state.progress))
    receive_progress(s, 55)
    assert seen == [55]


def test_registering_nonsense_is_refused():
    h = Handlers()
    with pytest.raises(ValueError):
        h.add("", print)
    with pytest.raises(ValueError):
        h.add("course:progress", "not callable")


# -- what the shell takes --


def test_changes_merge_across_a_batch_and_list_new_quiz_entries():
    s = session()
    for i in range(3):
        s.receive(COURSE, True, TEXT, message("screen", "answer", id="q", answer=i), NOW)
    changes = s.take_changes()
    assert [entry["answer"] for entry in changes[C.QUIZ]] == [0, 1, 2]


def test_clear_quiz_and_reset():
    s = Session("player", [COURSE], CourseState([{"id": "half", "when": "progress", "at": 50}]))
    s.receive(COURSE, True, TEXT, message("screen", "answer", id="q", answer="a"), NOW)
    receive_progress(s, 60)
    s.take_changes()
    s.clear_quiz()
    assert s.state.quiz == [] and s.take_changes() == {C.QUIZ: []}
    s.reset()
    assert s.state.progress == 0 and s.state.unlocked == [] and s.take_changes() == {C.RESET: True}
    assert [rule["id"] for rule in s.state.rules] == ["half"]  # the page's rules survive a reset


def test_reset_keeps_what_the_live_iframe_is_doing():
    # Reset forgets the record, not the course frame: a ready session stays ready (it used to
    # fall back to "waiting", and the page said "Connecting…" to a learner mid-course).
    s = Session("player", [COURSE], CourseState())
    s.receive(COURSE, True, TEXT, message("session", "ready"), NOW)
    receive_progress(s, 60)
    s.reset()
    assert s.state.session == "ready" and s.state.progress == 0
    s.receive(COURSE, True, TEXT, message("session", "error", message="Token refused"), NOW)
    s.reset()
    assert (s.state.session, s.state.session_error) == ("error", "Token refused")
    b = Session("builder", [COURSE], BuilderState())
    b.receive(COURSE, True, TEXT, message("session", "expired"), NOW)
    b.reset()
    assert (b.state.session, b.state.expired) == ("expired", True)


def test_an_internal_error_costs_one_message_and_is_logged():
    s = session()
    s.record_internal_error(KeyError("x"), "raw", NOW, COURSE)
    assert outcomes(s) == [("rejected", "internal error: KeyError: 'x'")]
