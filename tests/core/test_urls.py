"""coursewire/core/urls.py: only http(s) course URLs, resolved and checked in Python."""

import pytest

from coursewire.core.urls import back_url, web_url

PAGE = "https://host.example/learn/course.html?x=1"


@pytest.mark.parametrize(
    "url, absolute, origin",
    [
        (
            "https://acme.coassemble.com/embed/abc?t=1",
            "https://acme.coassemble.com/embed/abc?t=1",
            "https://acme.coassemble.com",
        ),
        ("http://localhost:8001/player.html", "http://localhost:8001/player.html", "http://localhost:8001"),
        ("HTTPS://Acme.Example:443/x", "HTTPS://Acme.Example:443/x", "https://acme.example"),
        ("https://acme.example:8443/x", "https://acme.example:8443/x", "https://acme.example:8443"),
        ("http://[::1]:8000/p", "http://[::1]:8000/p", "http://[::1]:8000"),
        ("//cdn.example/p", "https://cdn.example/p", "https://cdn.example"),
        ("/player.html", "https://host.example/player.html", "https://host.example"),
        ("player.html", "https://host.example/learn/player.html", "https://host.example"),
        ("?other=1", "https://host.example/learn/course.html?other=1", "https://host.example"),
        ("  https://a.example/  ", "https://a.example/", "https://a.example"),
    ],
)
def test_web_urls_resolve_to_their_origin(url, absolute, origin):
    assert web_url(url, PAGE) == (absolute, origin)


@pytest.mark.parametrize(
    "url, words",
    [
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
    ],
)
def test_everything_else_is_refused_with_a_sentence(url, words):
    with pytest.raises(ValueError) as refused:
        web_url(url, PAGE)
    assert words in str(refused.value)


def test_a_relative_url_needs_a_web_page_to_resolve_against():
    with pytest.raises(ValueError):
        web_url("player.html", "about:blank")


# -- where the builder's Back may go (issue 15, item 8: an open redirect without a click) --

BUILDER = "http://127.0.0.1:8000/builder.html?back=x"


@pytest.mark.parametrize(
    "wanted, url",
    [
        ("index.html?runtime=py", "http://127.0.0.1:8000/index.html?runtime=py"),
        ("/index.html#top", "http://127.0.0.1:8000/index.html#top"),
        ("http://127.0.0.1:8000/other/page.html", "http://127.0.0.1:8000/other/page.html"),
        ("HTTP://127.0.0.1:8000/x", "HTTP://127.0.0.1:8000/x"),
    ],
)
def test_back_may_go_anywhere_on_the_pages_own_origin(wanted, url):
    assert back_url(wanted, BUILDER) == url


@pytest.mark.parametrize(
    "wanted, words",
    [
        ("https://elsewhere.example/", "another site (https://elsewhere.example)"),
        ("//elsewhere.example/x", "another site (http://elsewhere.example)"),
        ("http://127.0.0.1:8001/", "another site (http://127.0.0.1:8001)"),
        ("https://127.0.0.1:8000/", "another site (https://127.0.0.1:8000)"),
        ("http://localhost:8000/", "another site (http://localhost:8000)"),
        ("http://127.0.0.1:8000@elsewhere.example/", "user name or password"),
        ("/\\elsewhere.example", "backslash"),
        ("/\t/elsewhere.example", "control characters"),
        ("///elsewhere.example", "no usable host"),
        ("https:elsewhere.example", "must start with https://"),
        ("javascript:alert(1)", "not javascript:"),
        ("data:text/html,x", "not data:"),
        ("", "the Back URL is empty"),
    ],
)
def test_back_refuses_every_other_place_with_a_sentence(wanted, words):
    with pytest.raises(ValueError) as refused:
        back_url(wanted, BUILDER)
    assert words in str(refused.value)
    assert str(refused.value).count(".") <= 3  # one sentence (dots of hosts aside)


def test_a_host_may_allow_other_origins_explicitly():
    allowed = ["https://lms.example", "http://localhost:8000"]
    assert back_url("https://lms.example/course/7", BUILDER, allowed) == "https://lms.example/course/7"
    assert back_url("http://localhost:8000/", BUILDER, allowed) == "http://localhost:8000/"
    with pytest.raises(ValueError):
        back_url("https://lms.example.evil.example/", BUILDER, allowed)
    with pytest.raises(ValueError):
        back_url("http://lms.example/", BUILDER, allowed)  # another scheme is another origin


# -- hosts exactly as a browser parses them (the URL Standard's host parser) --


@pytest.mark.parametrize(
    "url, origin",
    [
        ("http://0x7f.1:8000/", "http://127.0.0.1:8000"),
        ("http://2130706433/", "http://127.0.0.1"),
        ("http://017700000001/", "http://127.0.0.1"),
        ("http://1.2.3.4./", "http://1.2.3.4"),
        ("http://0x/", "http://0.0.0.0"),
        ("http://a:0080/", "http://a"),
        ("http://a:08000/", "http://a:8000"),
        ("https://[0:0:0:0:0:0:0:1]:8443/", "https://[::1]:8443"),
        ("https://[::ffff:1.2.3.4]/", "https://[::ffff:102:304]"),
        ("https://[1:0:0:2:0:0:0:3]/", "https://[1:0:0:2::3]"),
        ("https://[FFFF::1]/", "https://[ffff::1]"),
        ("http://1.2.3.4../", "http://1.2.3.4.."),  # two empty labels: a domain, not an address
        ("http://0x1g/", "http://0x1g"),
    ],
)
def test_the_origin_is_the_one_the_browser_computes(url, origin):
    assert web_url(url, PAGE)[1] == origin


@pytest.mark.parametrize(
    "url",
    [
        "http://1.2.3.256/",
        "http://1.2.3.4.5/",
        "http://08/",
        "http://a.0x100000000/",
        "http://4294967296/",
        "http://-1.2.3.4/",
        "http://a.09/",
        "https://[1:2]/",
        "https://[zz::1]/",
        "https://[1::2::3]/",
        "https://[::1.2.3]/",
        "https://[::01.2.3.4]/",
        "https://[1.2.3.4::]/",
        "https://[12345::]/",
        "https://[::1/",
        "https://[]/",
        "http://caf\u00e9.example/",
        "http://%41.example/",
    ],
)
def test_a_host_the_browser_would_refuse_is_refused_here_first(url):
    # Handed to `new URL`, these throw; on MicroPython that error escapes Python's `except`.
    with pytest.raises(ValueError) as refused:
        web_url(url, PAGE)
    assert "no usable host" in str(refused.value)
