"""Entry point of report.html: one course's learners for the host's staff, kept live.

Staff sign in with the admin token once (POST /api/staff-session); the page then holds only an
HttpOnly session cookie it cannot read, and never keeps, logs or stores the token. While the tab
is visible it polls GET /api/records?since=<cursor> every POLL_MS and redraws only the learners
that changed; a hidden tab does not poll, and polls at once when it is shown again.
"""

import json

from pyscript import document, window
from pyscript.ffi import create_proxy

from app.report_view import LearnerTable, ProgressChart, Summary, listen
from app.ui import announce, by_id, local_clock, runtime_label, show
from coursewire.core import roster

POLL_MS = 3000
DEFAULT_COURSE = "101"
SESSION_URL = "api/staff-session"


def _answer(status, text):
    """(status, parsed JSON object or None) from what report_io.js handed back."""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        value = None
    return int(status), value if isinstance(value, dict) else None


def _sentence(value, fallback):
    error = value.get("error") if value else None
    return error if isinstance(error, str) and error else fallback


class ReportPage:
    def __init__(self, course_text):
        self.io = window.coursewireReportIO
        self.course_text = course_text
        self.course = roster.course_param(course_text)
        self.records = {}  # learner -> record, as last read
        self.cursor = 0
        self.signed_in = False
        self.loading = False
        self.drawn = False  # the first answer draws everything, without flashing rows
        self.table = LearnerTable()
        self.summary = Summary()
        self.chart = ProgressChart()
        # One proxy per kind of answer, kept for the page's lifetime (report_io.js calls them later).
        self._on_session = create_proxy(self.on_session)
        self._on_sign_in = create_proxy(self.on_sign_in)
        self._on_sign_out = create_proxy(self.on_sign_out)
        self._on_records = create_proxy(self.on_records)
        self._tick = create_proxy(lambda: self.load())
        listen(by_id("sign-in-form"), "submit", self.sign_in)
        listen(by_id("sign-out"), "click", self.sign_out)
        listen(by_id("export-csv"), "click", self.export_csv)
        listen(document, "visibilitychange", self.visibility_changed)

    def start(self):
        shown = self.course or self.course_text
        by_id("course-id").textContent = shown
        by_id("course-input").value = shown
        if self.course is None:
            self.live("error", "No course")
            self.error("“%s” is not a course id: use letters, digits, '.', '_', ':' or '-'." % shown[:128])
            return
        self.live("waiting", "Checking sign-in…")
        self.io.request("GET", SESSION_URL, "", self._on_session)
        window.setInterval(self._tick, POLL_MS)

    # -- staff session --

    def on_session(self, status, text):
        status, value = _answer(status, text)
        if status == 200 and value and value.get("signed_in") is True:
            self.enter()
        elif status == 200:
            self.ask_to_sign_in("")
        elif status == 0:
            self.live("offline", "Offline")
            self.error("The server cannot be reached; reload the page to try again.")
        else:
            self.live("error", "Unavailable")
            self.error(_sentence(value, "The server could not say whether you are signed in."))

    def ask_to_sign_in(self, message):
        self.leave()
        self.live("signed-out", "Signed out")
        by_id("sign-in-error").textContent = message
        show(by_id("sign-in-card"), True)
        by_id("admin-token").focus()

    def sign_in(self, event):
        event.preventDefault()
        field = by_id("admin-token")
        token = field.value
        field.value = ""  # cleared at once: the token lives only in this request
        if not token:
            by_id("sign-in-error").textContent = "Enter the admin token."
            field.focus()
            return
        by_id("sign-in-button").disabled = True
        by_id("sign-in-error").textContent = ""
        self.io.request("POST", SESSION_URL, json.dumps({"token": token}), self._on_sign_in)

    def on_sign_in(self, status, text):
        status, value = _answer(status, text)
        by_id("sign-in-button").disabled = False
        if status == 200:
            announce("Signed in.")
            self.enter()
            return
        message = "The server cannot be reached; try again." if status == 0 else \
            _sentence(value, "Signing in failed; try again.")
        by_id("sign-in-error").textContent = message
        by_id("admin-token").focus()

    def sign_out(self, _event):
        self.io.request("DELETE", SESSION_URL, "", self._on_sign_out)

    def on_sign_out(self, status, text):
        self.ask_to_sign_in("You signed out." if int(status) == 200 else "Sign-out did not reach the server.")

    def enter(self):
        self.signed_in = True
        self.error(None)
        show(by_id("sign-in-card"), False)
        show(by_id("report-body"), True)
        show(by_id("sign-out"), True)
        self.live("waiting", "Loading…")
        self.load()

    def leave(self):
        """Signed out: forget every record (nothing of them stays on the page) and stop polling."""
        self.signed_in = False
        self.records = {}
        self.cursor = 0
        self.drawn = False
        self.table.clear()
        show(by_id("report-body"), False)
        show(by_id("sign-out"), False)
        by_id("last-change").textContent = ""

    # -- the records, live --

    def load(self):
        if not self.signed_in or self.loading or document.visibilityState == "hidden":
            return
        self.loading = True
        url = "api/records?course=%s&since=%d" % (window.encodeURIComponent(self.course), self.cursor)
        self.io.request("GET", url, "", self._on_records)

    def on_records(self, status, text):
        self.loading = False
        if not self.signed_in:
            return  # signed out while this was on its way
        status, value = _answer(status, text)
        if status == 401:
            self.ask_to_sign_in(_sentence(value, "Your staff session has ended: sign in again."))
        elif status == 0:
            self.live("offline", "Offline, retrying")
        elif status != 200 or value is None or not isinstance(value.get("records"), list):
            self.live("error", "Server trouble, retrying")
            self.error(_sentence(value, "The server's answer could not be read; retrying."))
        else:
            self.error(None)
            self.apply(value)
            self.live("live", "Live")

    def apply(self, page):
        cursor = page.get("cursor")
        if not isinstance(cursor, int):
            return
        if cursor < self.cursor:
            # The server's record was reset or restored: start again from nothing.
            self.records, self.cursor, self.drawn = {}, 0, False
            self.table.clear()
            self.load()
            return
        title = page.get("title")
        title_node = by_id("course-title")
        title_node.textContent = title if isinstance(title, str) else ""
        show(title_node, isinstance(title, str) and title != "")
        changed = roster.merge(self.records, [r for r in page["records"] if isinstance(r, dict)])
        self.cursor = cursor
        if changed or not self.drawn:
            records = [self.records[learner] for learner in sorted(self.records)]
            self.table.update(self.records, changed, flash=self.drawn)
            self.summary.render(records)
            self.chart.render(records)
            if self.drawn and changed:
                announce("%d learner%s updated." % (len(changed), "" if len(changed) == 1 else "s"))
            by_id("last-change").textContent = "Last change seen at %s" % local_clock(window.Date.new().toISOString())
            self.drawn = True

    def visibility_changed(self, _event):
        if not self.signed_in:
            return
        if document.visibilityState == "hidden":
            self.live("paused", "Paused while hidden")
        else:
            self.live("live", "Live")
            self.load()

    # -- what the page says --

    def live(self, state, text):
        pill = by_id("live-status")
        pill.setAttribute("data-live", state)
        pill.textContent = text

    def error(self, sentence):
        box = by_id("report-error")
        box.textContent = sentence or ""
        show(box, bool(sentence))

    def export_csv(self, _event):
        records = [self.records[learner] for learner in sorted(self.records)]
        self.io.save("learners-course-%s.csv" % self.course, "text/csv", roster.roster_csv(records))


runtime_label()
page = ReportPage(window.URLSearchParams.new(window.location.search).get("course") or DEFAULT_COURSE)
page.start()
document.documentElement.setAttribute("data-listening", "true")
