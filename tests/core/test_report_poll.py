"""coursewire/core/report_poll.py: what the report page asks next, and what a staff user sees of it."""

import pytest

from coursewire.core.report_poll import LIVE, OFFLINE, PAGE, POLL, SUMMARY, TROUBLE, ReportPoll, merge, records_answer


def row(learner, progress=0):
    return {"learner": learner, "progress": progress}


def answer(learners, cursor=7, next_page=None):
    return {"records": [row(name) for name in learners], "cursor": cursor, "next_page": next_page}


def shown(first_names=("ada", "bob"), cursor=7, next_page="after-bob"):
    """Signed in, the first page read and drawn (`next_page`: another page follows)."""
    poll = ReportPoll()
    assert poll.enter() == [(SUMMARY,), (PAGE, None)]
    assert poll.summary_answered() == (True, [])
    assert [r["learner"] for r in poll.page_answered(answer(first_names, cursor, next_page))] == list(first_names)
    assert poll.page_drawn() == []
    return poll


def test_signing_in_reads_the_summary_and_the_first_page_and_polls_only_once_it_is_drawn():
    poll = ReportPoll()
    assert poll.ask_poll(hidden=False) == []  # signed out: nothing is read
    assert poll.enter() == [(SUMMARY,), (PAGE, None)]
    assert poll.ask_poll(hidden=False) == []  # the first page is on its way
    poll.page_answered(answer(["ada"], cursor=41))
    assert poll.ask_poll(hidden=False) == []  # its rows are being drawn
    poll.page_drawn()
    assert poll.ask_poll(hidden=False) == [(POLL, 41)]  # from the first page's snapshot


def test_one_poll_at_a_time_and_none_while_the_tab_is_hidden():
    poll = shown()
    assert poll.ask_poll(hidden=True) == []
    assert poll.ask_poll(hidden=False) == [(POLL, 7)]
    assert poll.ask_poll(hidden=False) == []  # the first is still out
    assert poll.poll_answered(answer([], cursor=9)) == ([], LIVE, None)  # nothing changed: nothing redrawn
    assert poll.ask_poll(hidden=False) == [(POLL, 9)]


def test_a_change_on_the_page_shown_is_patched_in_and_the_summary_read_again():
    poll = shown(("ada", "bob"))
    poll.ask_poll(hidden=False)
    changed = {"records": [row("bob", 50), row("ada"), row("zed", 80)], "cursor": 12}
    requests, live, updated = poll.poll_answered(changed)
    assert (requests, live) == ([(SUMMARY,)], LIVE)
    assert updated == ["bob"]  # ada's record is the same; zed belongs to a later page
    assert poll.records["bob"]["progress"] == 50 and "zed" not in poll.records
    assert poll.ask_poll(hidden=False) == [(POLL, 12)]


def test_a_change_while_the_summary_is_on_its_way_reads_it_once_more_after():
    poll = shown()
    poll.ask_poll(hidden=False)
    requests, _, _ = poll.poll_answered({"records": [row("ada", 10)], "cursor": 8})
    assert requests == [(SUMMARY,)]
    poll.ask_poll(hidden=False)
    requests, _, _ = poll.poll_answered({"records": [row("ada", 20)], "cursor": 9})
    assert requests == []  # one summary on its way at a time ...
    assert poll.summary_answered() == (True, [(SUMMARY,)])  # ... and it is read again after it
    assert poll.summary_answered() == (True, [])


def test_more_changes_than_one_answer_holds_read_the_page_shown_again():
    poll = shown(("ada", "bob"))
    poll.go("next")
    poll.page_answered(answer(["cat", "dan"], next_page="after-dan"))
    poll.page_drawn()
    assert poll.first_shown() == 3
    poll.ask_poll(hidden=False)
    requests, live, updated = poll.poll_answered(answer(["ada"] * 100, cursor=300, next_page="more"))
    assert (requests, live, updated) == ([(SUMMARY,), (PAGE, "after-bob")], LIVE, None)
    assert poll.ask_poll(hidden=False) == []  # the page is on its way
    poll.page_answered(answer(["cat", "dan"], cursor=999, next_page="after-dan"))
    poll.page_drawn()
    assert poll.first_shown() == 3 and poll.can_go("previous")
    assert poll.ask_poll(hidden=False) == [(POLL, 300)]  # the page read again does not move the cursor


def test_next_asked_while_a_poll_is_out_goes_when_it_answers():
    poll = shown(("ada", "bob"), next_page="after-bob")
    assert poll.ask_poll(hidden=False) == [(POLL, 7)]
    assert poll.go("next") == []  # waits for the poll
    requests, _, _ = poll.poll_answered(answer([], cursor=7))
    assert requests == [(PAGE, "after-bob")]
    poll.page_answered(answer(["cat"], next_page=None))
    assert poll.page_drawn() == []
    assert (poll.first_shown(), poll.can_go("next"), poll.can_go("previous")) == (3, False, True)
    assert poll.go("previous") == [(PAGE, None)]
    poll.page_answered(answer(["ada", "bob"], next_page="after-bob"))
    poll.page_drawn()
    assert (poll.first_shown(), poll.can_go("next"), poll.can_go("previous")) == (1, True, False)
    assert poll.go("previous") == []  # no page before the first


def test_a_page_that_could_not_be_read_still_goes_where_the_staff_asked():
    poll = shown(next_page="after-bob")
    poll.ask_poll(hidden=False)
    poll.go("next")
    requests, live, updated = poll.poll_answered(None)  # offline: the page said so already
    assert (requests, live, updated) == ([(PAGE, "after-bob")], None, None)
    assert poll.page_failed() == []
    assert poll.ask_poll(hidden=False) == [(POLL, 7)]  # and polling goes on


def test_a_server_record_that_went_back_starts_again_from_the_first_page():
    poll = shown(cursor=50)
    poll.go("next")
    poll.page_answered(answer(["cat"], cursor=50))
    poll.page_drawn()
    poll.ask_poll(hidden=False)
    requests, live, updated = poll.poll_answered(answer([], cursor=3))  # restored from a backup
    assert (requests, live, updated) == ([(SUMMARY,), (PAGE, None)], None, None)
    poll.page_answered(answer(["ada"], cursor=3))
    poll.page_drawn()
    assert (poll.first_shown(), poll.can_go("previous")) == (1, False)
    assert poll.ask_poll(hidden=False) == [(POLL, 3)]  # from the new snapshot


def test_signing_out_forgets_every_record_stops_polling_and_ignores_late_answers():
    poll = shown()
    poll.ask_summary()
    poll.leave()
    assert poll.records == {} and poll.ask_poll(hidden=False) == []
    assert poll.summary_answered() == (False, [])  # the summary asked before: not drawn
    assert poll.go("next") == []
    assert poll.enter() == [(SUMMARY,), (PAGE, None)]  # signing in again starts afresh


@pytest.mark.parametrize(
    "status, value, meaning",
    [
        (200, {"records": []}, ("ok", None)),
        (401, {"error": "Your staff session expired."}, ("sign-in", "Your staff session expired.")),
        (401, None, ("sign-in", "Your staff session has ended: sign in again.")),
        (0, None, ("offline", None)),
        (503, {"error": "The store is busy."}, ("error", "The store is busy.")),
        (200, {"records": "all"}, ("error", "The server's answer could not be read; retrying.")),
        (200, None, ("error", "The server's answer could not be read; retrying.")),
    ],
)
def test_what_an_answer_means_for_the_page(status, value, meaning):
    assert records_answer(status, value) == meaning


def test_the_pill_says_live_offline_or_trouble():
    assert LIVE == ("live", "Live")
    assert OFFLINE == ("offline", "Offline, retrying") and TROUBLE == ("error", "Server trouble, retrying")


def test_merging_a_poll_reports_only_the_learners_that_changed_in_table_order():
    table = {}
    assert merge(table, [row("bob"), row("ada")]) == ["ada", "bob"]
    assert merge(table, [row("bob")]) == []  # the same record again: nothing to redraw
    assert merge(table, [row("bob", 50), row("Zoe")]) == ["Zoe", "bob"]
    assert table["bob"]["progress"] == 50
