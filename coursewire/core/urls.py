"""Course URLs, checked completely in Python before anything crosses to JavaScript.

Only http(s) URLs may become an iframe: a javascript: or data: "course" would run in (or spoof)
the host page, and blob:/filesystem: URLs carry another origin inside them (the browser's own
URL parser would report the inner one). A URL relative to the page is resolved against it here,
with the same rules a browser applies to the forms a host writes (absolute, scheme-relative,
root-relative, path-relative).
"""

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


def web_url(url, page_url):
    """(absolute URL, its origin) for an http(s) course URL, or ValueError with one sentence.

    `page_url` is the host page's own URL (location.href), against which a relative URL resolves.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError("the course URL is empty")
    url = url.strip()
    if any(ord(c) < 32 or c == "\\" for c in url):
        raise ValueError("the course URL holds control characters or a backslash")
    scheme = _scheme(url)
    if scheme is None:
        url = _resolve(url, page_url)
        scheme = _scheme(url)
    if scheme not in ("http", "https"):
        raise ValueError("the course URL must be http(s), not %s:" % (scheme or "(none)"))
    rest = url[len(scheme) + 3:] if url[len(scheme):len(scheme) + 3] == "://" else None
    if rest is None:
        raise ValueError("the course URL must start with %s://" % scheme)
    authority = rest
    for stop in "/?#":
        authority = authority.split(stop, 1)[0]
    if "@" in authority:
        raise ValueError("the course URL must not carry a user name or password")
    host, port = _split_port(authority.lower())
    if not host or not (set(host) <= _HOST_CHARS or (host.startswith("[") and host.endswith("]"))):
        raise ValueError("the course URL has no usable host")
    if port is not None and (port == "" or not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError("the course URL has a bad port")
    default = "443" if scheme == "https" else "80"
    origin = "%s://%s" % (scheme, host) if port in (None, default) else "%s://%s:%s" % (scheme, host, port)
    return url, origin


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
        host, rest = authority[:end + 1], authority[end + 1:]
        if rest == "":
            return host, None
        return (host, rest[1:]) if rest.startswith(":") else ("", None)
    if ":" in authority:
        host, port = authority.rsplit(":", 1)
        return host, port
    return authority, None


def _resolve(url, page_url):
    scheme = _scheme(page_url)
    if scheme not in ("http", "https"):
        raise ValueError("a relative course URL needs an http(s) page to resolve against")
    after = page_url[len(scheme) + 3:]
    cut = len(after)
    for stop in "/?#":
        at = after.find(stop)
        if at != -1 and at < cut:
            cut = at
    origin = page_url[:len(scheme) + 3 + cut]
    path = after[cut:].split("#", 1)[0].split("?", 1)[0] or "/"
    if url.startswith("//"):
        return scheme + ":" + url
    if url.startswith("/"):
        return origin + url
    if url.startswith(("?", "#")):
        return origin + path + url
    return origin + path[: path.rfind("/") + 1] + url
