"""coursewire/core/session_pill.py: what the course page's session pill says, and when it offers Reconnect."""

import pytest

from coursewire.core.reconnect import Reconnect
from coursewire.core.session_pill import session_pill


@pytest.mark.parametrize(
    "session, pill",
    [
        ("waiting", ("Connecting…", "waiting", False)),
        ("ready", ("Session ready", "ready", False)),
        ("expired", ("Session expired", "expired", True)),
        ("error", ("Session error", "error", True)),
    ],
)
def test_the_session_state_in_words_and_reconnect_offered_when_it_ended(session, pill):
    assert session_pill(session, None) == pill


def test_a_session_error_says_why():
    assert session_pill("error", "the course was withdrawn") == (
        "Session error: the course was withdrawn",
        "error",
        True,
    )
    assert session_pill("ready", "an old error") == ("Session ready", "ready", False)  # over: not shown


def test_a_url_that_could_not_be_minted_is_named_and_reconnect_offered():
    assert session_pill("waiting", None, Reconnect(), "the server refused the learner.") == (
        "No course: the server refused the learner.",
        "error",
        True,
    )


def test_an_automatic_reconnect_speaks_first_and_hides_the_button_until_it_gives_up():
    policy = Reconnect(attempts=2, first_delay_ms=1000)
    assert session_pill("ready", None, policy) == ("Session ready", "ready", False)  # nothing to renew
    policy.expired(now_ms=0)
    assert session_pill("expired", None, policy, "an earlier failure") == ("Reconnecting…", "waiting", False)
    assert policy.failed("the server cannot be reached") == 1000
    assert session_pill("expired", None, policy) == (
        "Could not reconnect (the server cannot be reached); trying again shortly.",
        "waiting",
        False,
    )
    assert policy.retry_due()
    assert session_pill("expired", None, policy) == ("Reconnecting (attempt 2 of 2)…", "waiting", False)
    policy.failed("the server cannot be reached")
    assert session_pill("expired", None, policy) == (
        "Could not reconnect: the server cannot be reached",
        "error",
        True,
    )  # the learner decides
    policy.manual()
    policy.minted()
    policy.ready()
    assert session_pill("ready", None, policy) == ("Session ready", "ready", False)
