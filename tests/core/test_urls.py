"""coursewire/core/urls.py: only http(s) course URLs, resolved and checked in Python."""

import pytest

from coursewire.core.urls import web_url

PAGE = "https://host.example/learn/course.html?x=1"


@pytest.mark.parametrize("url, absolute, origin", [
    ("https://acme.coassemble.com/embed/abc?t=1", "https://acme.coassemble.com/embed/abc?t=1", "https://acme.coassemble.com"),
    ("http://localhost:8001/player.html", "http://localhost:8001/player.html", "http://localhost:8001"),
    ("HTTPS://Acme.Example:443/x", "HTTPS://Acme.Example:443/x", "https://acme.example"),
    ("https://acme.example:8443/x", "https://acme.example:8443/x", "https://acme.example:8443"),
    ("http://[::1]:8000/p", "http://[::1]:8000/p", "http://[::1]:8000"),
    ("//cdn.example/p", "https://cdn.example/p", "https://cdn.example"),
    ("/player.html", "https://host.example/player.html", "https://host.example"),
    ("player.html", "https://host.example/learn/player.html", "https://host.example"),
    ("?other=1", "https://host.example/learn/course.html?other=1", "https://host.example"),
    ("  https://a.example/  ", "https://a.example/", "https://a.example"),
])
def test_web_urls_resolve_to_their_origin(url, absolute, origin):
    assert web_url(url, PAGE) == (absolute, origin)


@pytest.mark.parametrize("url, words", [
    ("javascript:alert(1)", "must be http(s), not javascript:"),
    ("JavaScript:alert(1)", "must be http(s), not javascript:"),
    ("data:text/html,<b>x</b>", "not data:"),
    ("blob:https://host.example/uuid", "not blob:"),
    ("filesystem:https://host.example/temporary/x", "not filesystem:"),
    ("about:blank", "not about:"),
    ("java\nscript:alert(1)", "control characters"),
    ("https://user:pw@acme.example/", "user name or password"),
    ("https://acme.example:99999/", "bad port"),
    ("https://acme.example:/", "bad port"),
    ("https:///nohost", "no usable host"),
    ("https://ev il.example/", "no usable host"),
    ("https:acme.example", "must start with https://"),
    ("", "empty"),
    (None, "empty"),
])
def test_everything_else_is_refused_with_a_sentence(url, words):
    with pytest.raises(ValueError) as refused:
        web_url(url, PAGE)
    assert words in str(refused.value)


def test_a_relative_url_needs_a_web_page_to_resolve_against():
    with pytest.raises(ValueError):
        web_url("player.html", "about:blank")
