"""Entry point of index.html: the course page, built on the same Embed a host site uses."""

from pyscript import document, window

from app.course_view import CourseView
from app.ui import by_id, learner_picker, runtime_label
from coursewire.browser.embed import Embed
from coursewire.core.jsonsafe import parse_json
from coursewire.core.rules import MAX_RULES_CHARS

runtime_label()
learner_picker()
container = by_id("course-frame")
if container.getAttribute("data-mount-error"):
    by_id("session-status").textContent = "No course: " + container.getAttribute("data-mount-error")
else:
    # boot.js started the course (a signed URL minted by this site's server) before Python
    # started; the Embed adopts it. A minted course also reports to the server's learner record.
    rules, _ = parse_json(container.getAttribute("data-rules") or "null", MAX_RULES_CHARS)
    minted = bool(window.coursewireBridge.mintOf(window.coursewireBridge.mountedIn(container)))
    view = CourseView(Embed(container, product="player", rules=rules, report="api/events" if minted else None))
document.documentElement.setAttribute("data-listening", "true")
