"""Entry point of builder.html: the builder page, on the same Embed a host site uses."""

from pyscript import document, window

from app.builder_view import BuilderView
from app.ui import by_id, learner_picker, runtime_label
from coursewire.browser.embed import Embed
from coursewire.core.session import check_origin
from coursewire.core.urls import back_url


def back_target(container):
    """(where Back goes, the sentence saying why ?back= was not used, or None).

    ?back=URL may name a page on this page's own origin; another origin only when the host lists
    it in the container's data-back-origins (its markup, never the query string): a course posting
    "back" must not send the author to a site a link chose. The default, the course page, keeps
    the runtime this page runs on.
    """
    default = window.URL.new(
        "index.html?runtime=" + document.documentElement.dataset.runtime, window.location.href
    ).href
    wanted = window.URLSearchParams.new(window.location.search).get("back")
    if not wanted:
        return default, None
    try:
        allowed = [check_origin(origin) for origin in (container.getAttribute("data-back-origins") or "").split()]
        url = back_url(wanted, window.location.href, allowed)
    except ValueError as error:
        return default, "Back goes to the course page, not to ?back=: %s." % error
    # The browser's own parser must agree on the origin (two parsers, one answer).
    origin = window.URL.new(url).origin
    if origin != window.location.origin and origin not in allowed:
        return default, "Back goes to the course page, not to ?back=: the browser reads it as %s." % origin
    return url, None


runtime_label()
learner_picker()
container = by_id("course-frame")
if container.getAttribute("data-mount-error"):
    by_id("session-status").textContent = "No builder: " + container.getAttribute("data-mount-error")
else:
    back, refusal = back_target(container)
    view = BuilderView(Embed(container, product="builder"), back, refusal)
document.documentElement.setAttribute("data-listening", "true")
