"""coursewire/core/reconnect.py: what the page asks its server for, and when it asks again."""

import pytest

from coursewire.core.reconnect import CONNECTING, GAVE_UP, IDLE, MINTING, WAITING, MintRequest, Reconnect, answer_fields


def test_a_mint_request_is_data_for_the_bridge():
    request = MintRequest("/api/embed-url", 101, "ada")
    assert request.data() == {"url": "/api/embed-url", "course": "101", "learner": "ada", "action": "view"}
    assert MintRequest("/api/embed-url", "c", None, "edit").data() == {
        "url": "/api/embed-url",
        "course": "c",
        "action": "edit",
    }
    with_login = MintRequest.from_data({"url": "/api/embed-url", "course": "101", "login_url": "/login-token"})
    assert with_login.learner is None and with_login.data()["login_url"] == "/login-token"
    token = MintRequest.from_data({"url": "/m", "course": 7, "login_token": "a.b.c", "learner": "ada"})
    assert token.data() == {"url": "/m", "course": "7", "action": "view", "learner": "ada", "login_token": "a.b.c"}


@pytest.mark.parametrize(
    "data, words",
    [
        ([], "must be a dict"),
        ({"url": "/m", "course": 1, "body": "x"}, "not body"),
        ({"url": "/m", "course": 1, "login_url": "/l", "login_token": "t"}, "not both"),
        ({"url": "/m", "course": 1, "login_url": ""}, "login_url"),
        ({"url": "/m", "course": 1, "login_token": "a b"}, "login_token"),
        ({"url": "/m", "course": 1, "login_token": "x" * 5000}, "login_token"),
    ],
)
def test_bad_mint_data_is_refused_with_a_sentence(data, words):
    with pytest.raises(ValueError) as refused:
        MintRequest.from_data(data)
    assert words in str(refused.value)


@pytest.mark.parametrize(
    "args, words",
    [
        (("", "101", "ada"), "endpoint"),
        (("/x", "", "ada"), "course"),
        (("/x", "101", ""), "learner"),
        (("/x", "101", "a\nb"), "control characters"),
        (("/x", "101", "x" * 257), "at most 256"),
        (("/x", "101", "ada", "delete"), "'view' or 'edit'"),
        (("/x", True, "ada"), "course"),
    ],
)
def test_a_bad_mint_request_is_refused_with_a_sentence(args, words):
    with pytest.raises(ValueError) as refused:
        MintRequest(*args)
    assert words in str(refused.value)


def test_records_are_keyed_by_course_and_learner_never_by_url():
    ada = MintRequest("/api/embed-url", "101", "ada").record_key("player")
    assert ada == "coursewire:v1:player:course:101:learner:ada"
    assert ada != MintRequest("/api/embed-url", "101", "grace").record_key("player")
    assert ada == MintRequest("/other/endpoint", 101, "ada").record_key("player")  # same learner, same record
    # Ids holding the separator cannot collide.
    assert MintRequest("/x", "1", "a:learner:b").record_key("player") != MintRequest(
        "/x", "1:learner:a", "b"
    ).record_key("player")
    # Without a learner in the request, the learner the server's answer names keys it.
    assert MintRequest("/api/embed-url", "101").record_key("player", "ada") == ada


def test_answer_fields():
    assert answer_fields(
        {"url": "https://c.example/e/x", "expires_at": "2026-11-28T12:00:00Z", "report_token": "t", "learner": "ada"}
    ) == ("https://c.example/e/x", "2026-11-28T12:00:00Z", "t", "ada")
    assert answer_fields({"url": "https://c.example/e/x"}) == ("https://c.example/e/x", None, None, None)
    for bad in (
        None,
        [],
        {},
        {"url": 5},
        {"url": ""},
        {"url": "https://c.example/e/x", "learner": ""},
        {"url": "https://c.example/e/x", "learner": ["ada"]},
    ):
        with pytest.raises(ValueError):
            answer_fields(bad)


def test_an_expired_session_mints_at_once_then_waits_for_ready():
    policy = Reconnect()
    assert policy.expired(0) == 0 and policy.state == MINTING
    assert policy.expired(10) is None  # already minting: one request at a time
    policy.minted()
    assert policy.state == CONNECTING and policy.describe() == "Reconnecting…"  # until the new session is ready
    policy.ready()
    assert policy.state == IDLE and policy.describe() is None and policy.attempt == 0


def test_failed_mints_back_off_and_give_up_at_the_limit():
    policy = Reconnect(attempts=4, first_delay_ms=1000, max_delay_ms=3000)
    policy.expired(0)
    delays = []
    while True:
        delay = policy.failed("Coassemble did not answer")
        if delay is None:
            break
        delays.append(delay)
        assert policy.state == WAITING and "trying again shortly" in policy.describe()
        assert policy.retry_due() and policy.state == MINTING
    assert delays == [1000, 2000, 3000]
    assert policy.state == GAVE_UP and policy.describe() == "Could not reconnect: Coassemble did not answer"
    assert policy.expired(99) is None  # the learner decides now
    assert policy.manual() == 0 and policy.state == MINTING and policy.attempt == 1


def test_sessions_that_keep_expiring_stop_the_automatic_loop():
    policy = Reconnect(attempts=3, window_ms=60000)
    for now in (0, 1000, 2000):
        assert policy.expired(now) == 0
        policy.minted()
        policy.ready()
    assert policy.expired(3000) is None and policy.state == GAVE_UP
    assert "keeps expiring" in policy.describe()
    fresh = Reconnect(attempts=3, window_ms=60000)
    for now in (0, 70000, 140000, 210000):  # hours apart in real life: never a loop
        assert fresh.expired(now) == 0
        fresh.minted()
        fresh.ready()


def test_reconnect_off_never_mints_on_its_own():
    policy = Reconnect(automatic=False)
    assert policy.expired(0) is None
    assert policy.manual() == 0
    assert policy.failed("down") is None and policy.state == GAVE_UP


def test_the_pages_first_url_failing_is_not_a_reconnect():
    policy = Reconnect()
    assert policy.failed("Coassemble refused the API key") is None
    assert policy.state == IDLE and policy.describe() is None  # the page shows the sentence itself


def test_retry_due_only_while_waiting():
    assert not Reconnect().retry_due()


def test_a_failure_retrying_cannot_help_gives_up_at_once():
    policy = Reconnect()
    policy.expired(0)
    assert policy.failed("Sign in again to continue the course.", retry=False) is None
    assert policy.state == GAVE_UP and policy.describe() == "Could not reconnect: Sign in again to continue the course."
