"""Report tokens: bound to (course, learner), expiring, forged ones refused, the generated secret
kept by the database across restarts, and never written to a log."""

import logging

import pytest

from coursewire.server import tokens
from coursewire.server.store import open_store
from coursewire.server.wsgi import Context, make_app

from .record_client import WsgiClient, batch, event, settings

NOW = 1_795_000_000


def test_a_token_reads_back_as_its_course_and_learner_until_it_expires():
    token = tokens.issue_report_token("s3cret", "101", "ada@example.com", NOW, ttl_s=60)
    assert tokens.read_report_token("s3cret", token, NOW) == ("101", "ada@example.com")
    assert tokens.read_report_token("s3cret", token, NOW + 59.9) == ("101", "ada@example.com")
    with pytest.raises(tokens.TokenRefused, match="expired"):
        tokens.read_report_token("s3cret", token, NOW + 60)


def test_the_token_does_not_show_the_secret_and_is_opaque_to_the_page():
    token = tokens.issue_report_token("s3cret-value", "101", "ada", NOW)
    assert "s3cret" not in token and token.startswith("cwr1.") and len(token) < 300


@pytest.mark.parametrize("change", ["another secret", "payload byte", "signature byte", "truncated", "extra part"])
def test_a_changed_token_is_refused(change):
    token = tokens.issue_report_token("s3cret", "101", "ada", NOW)
    prefix, body, mac = token.split(".")
    forged = {
        "another secret": tokens.issue_report_token("other", "101", "ada", NOW),
        "payload byte": prefix + "." + body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac,
        "signature byte": prefix + "." + body + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"),
        "truncated": token[:-5],
        "extra part": token + ".x",
    }[change]
    with pytest.raises(tokens.TokenRefused, match="not valid"):
        tokens.read_report_token("s3cret", forged, NOW)


def test_without_a_configured_secret_the_database_keeps_one_so_tokens_survive_a_restart(database):
    first = open_store(database)
    try:
        token = Context(settings(token_secret=None), clock=lambda: NOW, store=first).issue_report_token("101", "ada")
    finally:
        first.close()
    again = open_store(database)
    try:
        context = Context(settings(token_secret=None), clock=lambda: NOW + 10, store=again)
        assert context.read_report_token(token) == ("101", "ada")
        # And a server with a different configured secret does not accept it.
        other = Context(settings(token_secret="configured"), clock=lambda: NOW + 10, store=again)
        with pytest.raises(tokens.TokenRefused):
            other.read_report_token(token)
    finally:
        again.close()


def test_tokens_and_secrets_never_reach_a_log_line(store, caplog):
    context = Context(settings(), clock=lambda: NOW, store=store)
    client = WsgiClient(make_app(context=context))
    token = context.issue_report_token("101", "ada")
    expired = Context(settings(), clock=lambda: NOW - 10**6, store=store).issue_report_token("101", "ada")
    caplog.set_level(logging.DEBUG)
    for body in (
        batch(token, [event(1, "course:start")]),
        batch(expired, [event(2, "course:start")]),
        batch(token + "x", [event(3, "course:start")]),
        batch(token, "not a list"),
    ):
        client.request("POST", "/api/events", body, {"Content-Type": "application/json"})
    text = caplog.text + repr(context.settings)
    for secret in (
        token,
        expired,
        context.settings.token_secret,
        context.settings.webhook_secret,
        context.settings.admin_token,
    ):
        assert secret not in text
