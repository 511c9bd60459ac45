"""Course URLs and navigation targets, checked completely in Python before anything crosses to
JavaScript.

Only http(s) URLs may become an iframe: a javascript: or data: "course" would run in (or spoof)
the host page, and blob:/filesystem: URLs carry another origin inside them (the browser's own
URL parser would report the inner one). A URL relative to the page is resolved against it here,
with the same rules a browser applies to the forms a host writes (absolute, scheme-relative,
root-relative, path-relative). Anything a browser would read differently (backslashes, control
characters, a user name, an empty host) is refused rather than guessed at.

Where the page *goes* (the builder's Back) is stricter still: the page's own origin unless the
host allows another one explicitly (back_url), so a link such as
`builder.html?back=https://elsewhere/` cannot send a learner away when a course posts "back".
"""

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


def web_url(url, page_url, what="the course URL"):
    """(absolute URL, its origin) for an http(s) URL, or ValueError with one sentence.

    `page_url` is the host page's own URL (location.href), against which a relative URL resolves;
    `what` names the URL in that sentence.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError("%s is empty" % what)
    url = url.strip()
    if any(ord(c) < 32 or c == "\\" for c in url):
        raise ValueError("%s holds control characters or a backslash" % what)
    scheme = _scheme(url)
    if scheme is None:
        url = _resolve(url, page_url, what)
        scheme = _scheme(url)
    if scheme not in ("http", "https"):
        raise ValueError("%s must be http(s), not %s:" % (what, scheme or "(none)"))
    rest = url[len(scheme) + 3 :] if url[len(scheme) : len(scheme) + 3] == "://" else None
    if rest is None:
        raise ValueError("%s must start with %s://" % (what, scheme))
    authority = rest
    for stop in "/?#":
        authority = authority.split(stop, 1)[0]
    if "@" in authority:
        raise ValueError("%s must not carry a user name or password" % what)
    host, port = _split_port(authority.lower())
    host = _canonical_host(host)
    if host is None:
        raise ValueError("%s has no usable host" % what)
    if port is not None and (port == "" or not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError("%s has a bad port" % what)
    port = None if port is None else str(int(port))  # ":0080" is port 80
    default = "443" if scheme == "https" else "80"
    origin = "%s://%s" % (scheme, host) if port in (None, default) else "%s://%s:%s" % (scheme, host, port)
    return url, origin


# -- hosts as the URL Standard parses them (https://url.spec.whatwg.org/#host-parsing) --
# The origin computed here must be the browser's, and a host the browser cannot parse must be
# refused here: handed to `new URL`, it throws, and on MicroPython that JavaScript error escapes
# Python's `except` (one bad data-src once stopped every later embed on the page).


def _canonical_host(host):
    """The host as a browser serialises it (lower case, IPv4 and IPv6 in canonical form), or None
    for one it would refuse or that Coursewire does not take (non-ASCII, percent-escapes)."""
    if host.startswith("["):
        return "[%s]" % _ipv6(host[1:-1]) if host.endswith("]") and _ipv6(host[1:-1]) else None
    if not host or not set(host) <= _HOST_CHARS:
        return None
    if _ends_in_a_number(host):
        return _ipv4(host)  # "0x7f.1" is 127.0.0.1; "1.2.3.256" is no host at all
    return host


def _ends_in_a_number(host):
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    return (last != "" and all(c in "0123456789" for c in last)) or _ipv4_number(last) is not None


def _ipv4_number(text):
    if text == "":
        return None
    radix = 10
    if text.startswith("0x"):
        text, radix = text[2:], 16
    elif len(text) > 1 and text.startswith("0"):
        text, radix = text[1:], 8
    if text == "":
        return 0
    digits = "0123456789abcdef"[:radix]
    if any(c not in digits for c in text):
        return None
    return int(text, radix)


def _ipv4(host):
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if any(n is None for n in numbers) or any(n > 255 for n in numbers[:-1]):
        return None
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    address = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        address += n * 256 ** (3 - i)
    return ".".join(str((address >> shift) & 255) for shift in (24, 16, 8, 0))


def _ipv6(text):
    """The canonical form of an IPv6 address (without brackets), or None."""
    if not text or any(c not in "0123456789abcdef:." for c in text) or text.count("::") > 1:
        return None
    if "::" in text:
        head, tail = text.split("::")
        pieces = (head.split(":") if head else []), (tail.split(":") if tail else [])
    else:
        pieces = text.split(":"), None
    last_side = pieces[1] if pieces[1] is not None else pieces[0]
    groups = []
    for side in pieces:
        if side is None:
            continue
        parsed = []
        for i, piece in enumerate(side):
            if "." in piece:  # an embedded IPv4 address: only as the very last piece
                if side is not last_side or i != len(side) - 1:
                    return None
                four = _dotted_quad(piece)
                if four is None:
                    return None
                parsed += [four[0] * 256 + four[1], four[2] * 256 + four[3]]
            elif 1 <= len(piece) <= 4:
                parsed.append(int(piece, 16))
            else:
                return None
        groups.append(parsed)
    if pieces[1] is None:
        if len(groups[0]) != 8:
            return None
        address = groups[0]
    else:
        head, tail = groups
        if len(head) + len(tail) > 7:
            return None
        address = head + [0] * (8 - len(head) - len(tail)) + tail
    return _ipv6_text(address)


def _dotted_quad(text):
    parts = text.split(".")
    if len(parts) != 4:
        return None
    for part in parts:
        if (
            not 1 <= len(part) <= 3
            or any(c not in "0123456789" for c in part)
            or (len(part) > 1 and part[0] == "0")
            or int(part) > 255
        ):
            return None
    return [int(part) for part in parts]


def _ipv6_text(address):
    # The first longest run of two or more zero groups becomes "::".
    best, best_len, i = -1, 1, 0
    while i < 8:
        if address[i] == 0:
            j = i
            while j < 8 and address[j] == 0:
                j += 1
            if j - i > best_len:
                best, best_len = i, j - i
            i = j
        else:
            i += 1
    hexes = ["%x" % group for group in address]
    if best == -1:
        return ":".join(hexes)
    return ":".join(hexes[:best]) + "::" + ":".join(hexes[best + best_len :])


def _scheme(url):
    head = url.split(":", 1)
    if len(head) < 2 or not head[0]:
        return None
    name = head[0].lower()
    if not name[0].isalpha() or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789+.-" for c in name):
        return None  # "/path:x" or "./a:b" are relative paths, not schemes
    return name


def _split_port(authority):
    if authority.startswith("["):  # an IPv6 literal
        end = authority.find("]")
        if end == -1:
            return "", None
        host, rest = authority[: end + 1], authority[end + 1 :]
        if rest == "":
            return host, None
        return (host, rest[1:]) if rest.startswith(":") else ("", None)
    if ":" in authority:
        host, port = authority.rsplit(":", 1)
        return host, port
    return authority, None


def back_url(wanted, page_url, allowed_origins=()):
    """The absolute URL the page may go to for `wanted` (the builder's Back), or ValueError with
    one sentence: an http(s) URL on the page's own origin, or on one of `allowed_origins` — the
    host's explicit list (never the query string's), each written scheme://host[:port].
    """
    _, page_origin = web_url(page_url, page_url, "the page's URL")
    url, origin = web_url(wanted, page_url, "the Back URL")
    if origin != page_origin and origin not in allowed_origins:
        raise ValueError(
            "the Back URL leads to another site (%s); only this page's origin is allowed "
            "unless the host names that origin in data-back-origins" % origin
        )
    return url


def _resolve(url, page_url, what):
    scheme = _scheme(page_url)
    if scheme not in ("http", "https"):
        raise ValueError("%s is relative and needs an http(s) page to resolve against" % what)
    after = page_url[len(scheme) + 3 :]
    cut = len(after)
    for stop in "/?#":
        at = after.find(stop)
        if at != -1 and at < cut:
            cut = at
    origin = page_url[: len(scheme) + 3 + cut]
    path = after[cut:].split("#", 1)[0].split("?", 1)[0] or "/"
    if url.startswith("//"):
        return scheme + ":" + url
    if url.startswith("/"):
        return origin + url
    if url.startswith(("?", "#")):
        return origin + path + url
    return origin + path[: path.rfind("/") + 1] + url
