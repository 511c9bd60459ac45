"""coursewire/core/reporter.py: reports sent as soon as they may go, retried on the outbox's
schedule, set aside when refused, stored beside the record and handed to sendBeacon on leaving."""

import json

from coursewire.core.outbox import FIRST_RETRY_MS, Outbox
from coursewire.core.reporter import OUTBOX_SAVE_MS, Reporter
from coursewire.core.store import Store

from fakes import FakeClock, MemoryStorage
from messages import progress

URL = "/api/events"
SESSION = "page-session-1"
NOW = "2026-12-04T20:00:00.000Z"
KEY = "coursewire:v1:player:course:101:ada"


class Page:
    """A reporter as Embed holds it: what it posts and beacons, and what it tells the page."""

    def __init__(self, token="tok", storage=None, session=SESSION):
        self.clock = FakeClock()
        self.posted = []  # bodies POSTed, in order
        self.beacons = []
        self.notices = []
        self.storage = storage or MemoryStorage()
        outbox = Outbox(session, "101", "ada")
        outbox.set_token(token)
        self.reporter = Reporter(
            URL,
            outbox,
            self.clock,
            lambda url, text: self.posted.append((url, text)),
            lambda url, text: self.beacons.append((url, text)),
            self.notices.append,
        )
        self.unreadable = self.reporter.open(Store(KEY, self.storage))

    def events(self, *values):
        """A batch of messages: each accepted event is queued, then what may go is sent."""
        for value in values:
            self.reporter.add(progress(value), NOW)
        self.reporter.send()

    def sent(self, i=-1):
        """The progress values of the i-th POSTed body."""
        url, text = self.posted[i]
        assert url == URL
        return [event["data"]["progress"] for event in json.loads(text)["events"]]


def test_a_batch_goes_at_once_and_the_next_waits_for_its_answer():
    page = Page()
    page.events(10, 20)
    assert page.sent() == [10, 20]
    page.events(30)  # the first batch is on its way: nothing else goes
    assert len(page.posted) == 1
    page.reporter.answered(200)  # stored: what came meanwhile goes at once
    assert page.sent() == [30]
    page.reporter.answered(200)
    assert page.reporter.outbox.pending == [] and page.clock.pending() == [OUTBOX_SAVE_MS]


def test_no_answer_is_retried_with_a_growing_delay():
    page = Page()
    page.events(10)
    page.reporter.answered(0)  # offline
    assert page.clock.pending() == sorted([FIRST_RETRY_MS, OUTBOX_SAVE_MS])  # the retry, the outbox's save
    page.clock.advance(FIRST_RETRY_MS - 1)
    assert len(page.posted) == 1
    page.clock.advance(1)
    assert len(page.posted) == 2 and page.sent() == [10]  # the same report again
    page.reporter.answered(503)
    page.clock.advance(2 * FIRST_RETRY_MS - 1)
    assert len(page.posted) == 2
    page.clock.advance(1)
    assert len(page.posted) == 3


def test_too_many_requests_waits_for_the_servers_retry_after():
    page = Page()
    page.events(10)
    page.reporter.answered(429, "5")
    page.clock.advance(4999)
    assert len(page.posted) == 1
    page.clock.advance(1)
    assert len(page.posted) == 2


def test_new_events_do_not_cut_a_servers_retry_after_short():
    page = Page()
    page.events(10)
    page.reporter.answered(429, "5")
    page.events(20, 30)  # the learner goes on meanwhile
    page.clock.advance(4999)
    assert len(page.posted) == 1
    page.clock.advance(1)
    assert page.sent() == [10, 20, 30]


def test_a_refused_batch_is_set_aside_said_once_and_later_reports_still_go():
    page = Page()
    page.events(10)
    page.reporter.answered(400, None, json.dumps({"error": "The batch was malformed."}))
    assert len(page.notices) == 1 and "set aside" in page.notices[0] and "malformed" in page.notices[0]
    page.events(20)
    assert page.sent() == [20]
    page.reporter.answered(422)
    assert len(page.notices) == 1  # the same kind of refusal is told once


def test_a_refused_token_pauses_reports_until_a_fresh_one_is_minted():
    page = Page()
    page.events(10)
    page.reporter.answered(401)
    assert "refused this page's report token" in page.notices[0]
    page.events(20)
    assert len(page.posted) == 1 and page.clock.pending() == [OUTBOX_SAVE_MS]  # nothing scheduled to send
    page.reporter.minted("fresh")
    body = json.loads(page.posted[-1][1])
    assert body["token"] == "fresh" and [e["data"]["progress"] for e in body["events"]] == [10, 20]


def test_a_minted_url_without_a_token_turns_reports_off_and_says_so():
    page = Page(token=None)
    page.events(10)
    page.reporter.minted(None)
    assert page.posted == [] and "Reports to /api/events are off" in page.notices[0]


def test_the_outbox_is_saved_at_most_once_a_second_and_a_reload_takes_it_back():
    storage = MemoryStorage()
    page = Page(storage=storage)
    page.reporter.answered(0)  # nothing in flight: nothing happens
    page.events(10)
    page.reporter.answered(429, "30")  # kept: tried again in 30 s
    page.events(20, 30)
    assert page.clock.pending() == [OUTBOX_SAVE_MS, 30000]  # one save scheduled for all of it
    assert not any(key.endswith(":outbox") for key in storage.data)
    page.clock.advance(OUTBOX_SAVE_MS)
    assert any(key.endswith(":outbox") for key in storage.data)
    again = Page(storage=storage, session="page-session-2")  # a reload
    assert again.unreadable is None
    again.reporter.send()
    assert again.sent() == [10, 20, 30]


def test_unreadable_stored_reports_are_said_not_fatal():
    storage = MemoryStorage()
    storage.data[KEY + ":outbox"] = "{not json"
    page = Page(storage=storage)
    assert page.unreadable.startswith("Unsent reports from an earlier visit could not be read")
    page.events(10)
    assert page.sent() == [10]


def test_leaving_the_page_saves_and_beacons_every_unsent_batch():
    storage = MemoryStorage()
    page = Page(storage=storage)
    page.events(*range(150))  # two batches' worth; the first is on its way
    page.reporter.hidden()
    assert [len(json.loads(text)["events"]) for _, text in page.beacons] == [100, 50]
    assert any(key.endswith(":outbox") for key in storage.data)


def test_a_destroyed_embed_sends_nothing_more_and_leaves_no_timer():
    page = Page()
    page.events(10)
    page.reporter.answered(0)  # a retry and a save are scheduled
    page.reporter.close()
    assert page.clock.pending() == []
    page.reporter.send()
    page.clock.advance(60000)
    assert len(page.posted) == 1
