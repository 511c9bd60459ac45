"""coursewire/core/reconnect_driver.py: an expired session mints a fresh URL at once; a failed
mint is retried on the policy's schedule; the learner's Reconnect and destroy() cancel a retry."""

from coursewire.core.reconnect import GAVE_UP, WAITING, Reconnect
from coursewire.core.reconnect_driver import ReconnectDriver
from fakes import FakeClock


class Page:
    def __init__(self, **policy):
        self.clock = FakeClock(now=5000)
        self.mints = 0  # fresh URLs asked for
        self.redraws = 0  # the session pill redrawn after a retry went out
        self.policy = Reconnect(**policy)
        self.driver = ReconnectDriver(self.policy, self.clock, self.remint, self.redraw)

    def remint(self):
        self.mints += 1

    def redraw(self):
        self.redraws += 1


def test_an_expired_session_mints_at_once_and_a_working_one_starts_counting_again():
    page = Page()
    page.driver.expired()
    assert page.mints == 1 and page.clock.pending() == []
    page.driver.minted()
    page.driver.ready()
    assert page.policy.describe() is None


def test_a_failed_mint_is_retried_later_and_again_later_still():
    page = Page()
    page.driver.expired()
    page.driver.failed("the server did not answer")
    assert page.clock.pending() == [1000] and page.policy.state == WAITING
    page.clock.advance(1000)
    assert page.mints == 2 and page.redraws == 1
    page.driver.failed("the server did not answer")
    assert page.clock.pending() == [2000]
    page.clock.advance(2000)
    assert page.mints == 3


def test_a_refused_mint_is_not_retried():
    page = Page()
    page.driver.expired()
    page.driver.failed("the learner must sign in again", retry=False)
    assert page.clock.pending() == [] and page.policy.state == GAVE_UP
    assert "sign in again" in page.policy.describe()


def test_the_learners_reconnect_mints_at_once_and_cancels_the_scheduled_retry():
    page = Page()
    page.driver.expired()
    page.driver.failed("the server did not answer")
    assert page.clock.pending() == [1000]
    page.driver.manual()
    assert page.mints == 2 and page.clock.pending() == []
    page.clock.advance(60000)
    assert page.mints == 2 and page.redraws == 0


def test_a_destroyed_embed_cancels_the_retry_and_mints_nothing_more():
    page = Page()
    page.driver.expired()
    page.driver.failed("the server did not answer")
    page.driver.close()
    assert page.clock.pending() == []
    page.clock.advance(60000)
    assert page.mints == 1


def test_sessions_that_keep_expiring_at_once_stop_being_renewed_on_the_clocks_time():
    page = Page(attempts=2, window_ms=10000)
    for _ in range(2):
        page.driver.expired()
        page.driver.minted()
        page.driver.ready()
    page.driver.expired()  # a third within 10 s of the clock: something is wrong
    assert page.mints == 2 and page.policy.state == GAVE_UP
    page.driver.manual()
    page.driver.minted()
    page.driver.ready()
    page.clock.advance(10000)  # later, by the clock, expiring is normal again
    page.driver.expired()
    assert page.mints == 4
