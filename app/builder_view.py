"""The builder page's widgets: session, course id and title, draft status, errors, Back.

Reads BuilderState; `back` navigates to the configured URL (default: the course page; another
one only on the page's own origin or one the host allowed: app/page_builder.py).
"""

from pyscript import window

from app import present
from app.ui import Inspector, Notices, SessionPill, by_id, confirm_flow, dom_text, el, local_clock, show
from coursewire.core import changes as C


class BuilderView:
    def __init__(self, embed, back_url, back_refusal=None):
        self.embed = embed
        self.back_url = back_url
        self.session = SessionPill(embed)
        self.inspector = Inspector(embed)
        self.notices = Notices([back_refusal] if back_refusal else [])
        by_id("back-target").href = back_url
        by_id("back-target").textContent = back_url
        confirm_flow("reset", "reset-confirm", "reset-yes", "reset-no", embed.reset)
        embed.on("back", self._back)
        embed.watch(self.render)
        self.render(None)

    def _back(self, _event):
        window.location.assign(self.back_url)

    def render(self, changes):
        every = changes is None or C.RESET in changes
        state = self.embed.state
        if every or C.SESSION in changes:
            self.session.render()
        if every or C.COURSE in changes:
            by_id("course-id").textContent = (
                dom_text(present.shown(state.course_id)) if state.course_id else "Not created yet"
            )
            by_id("course-title").textContent = dom_text(present.shown(state.course_title))
        if every or C.DRAFT in changes:
            by_id("draft-status").textContent = present.draft_text(local_clock(state.draft_saved_at), state.revision)
        if every or C.ERRORS in changes:
            self._errors()
        if every or C.LOG in changes:
            self.inspector.render()
        self.notices.render(self.embed.notices)

    def _errors(self):
        box = by_id("errors")
        box.textContent = ""
        for error in reversed(self.embed.state.errors):  # newest first
            when = local_clock(error.get("time")) or ""
            box.appendChild(el("li", "%s  %s" % (when, present.shown(error.get("message") or "Unknown error"))))
        by_id("error-count").textContent = str(self.embed.state.error_count)
        show(by_id("errors-empty"), not self.embed.state.errors)
