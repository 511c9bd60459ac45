"""Entry point of index.html: the course page, built on the same Embed a host site uses."""

import json

from pyscript import document

from app.course_view import CourseView
from app.embed import Embed
from app.ui import by_id, runtime_label

runtime_label()
container = by_id("course-frame")
if container.getAttribute("data-mount-error"):
    by_id("session-status").textContent = "No course: " + container.getAttribute("data-mount-error")
else:
    # boot.js mounted the iframe before Python started; the Embed adopts it.
    rules = json.loads(container.getAttribute("data-rules") or "null")
    view = CourseView(Embed(container, kind="player", rules=rules))
document.documentElement.setAttribute("data-listening", "true")
