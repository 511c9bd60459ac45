"""Entry point of index.html: the course page, built on the same Embed a host site uses."""

from pyscript import document

from app.course_view import CourseView
from app.ui import by_id, runtime_label
from coursewire.browser.embed import Embed
from coursewire.core.jsonsafe import parse_json

runtime_label()
container = by_id("course-frame")
if container.getAttribute("data-mount-error"):
    by_id("session-status").textContent = "No course: " + container.getAttribute("data-mount-error")
else:
    # boot.js mounted the iframe before Python started; the Embed adopts it.
    rules, _ = parse_json(container.getAttribute("data-rules") or "null", 65536)
    view = CourseView(Embed(container, product="player", rules=rules))
document.documentElement.setAttribute("data-listening", "true")
