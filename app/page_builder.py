"""Entry point of builder.html: the builder page, on the same Embed a host site uses."""

from pyscript import document, window

from app.builder_view import BuilderView
from app.ui import by_id, learner_picker, runtime_label
from coursewire.browser.embed import Embed


def back_url():
    # ?back=URL, http(s) only: never a javascript: URL from the query string. The default, the
    # course page, keeps the runtime this page runs on.
    params = window.URLSearchParams.new(window.location.search)
    wanted = params.get("back")
    if wanted:
        try:
            target = window.URL.new(wanted, window.location.href)
            if target.protocol in ("http:", "https:"):
                return target.href
        except Exception:
            pass
    return window.URL.new("index.html?runtime=" + document.documentElement.dataset.runtime,
                          window.location.href).href


runtime_label()
learner_picker()
container = by_id("course-frame")
if container.getAttribute("data-mount-error"):
    by_id("session-status").textContent = "No builder: " + container.getAttribute("data-mount-error")
else:
    view = BuilderView(Embed(container, product="builder"), back_url())
document.documentElement.setAttribute("data-listening", "true")
