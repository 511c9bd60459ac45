"""Entry point of report.html: one course's learners for the host's staff, kept live.

Staff sign in with the admin token once (POST /api/staff-session); the page then holds only an
HttpOnly session cookie it cannot read, and never keeps, logs or stores the token. It reads the
course's summary (counts and chart: GET /api/records/summary) and one page of learners at a time
(GET /api/records?limit=PAGE_SIZE&page=TOKEN, "Next page" / "Previous page"), so 10,000 learners
cost what 100 do. While the tab is visible it polls GET /api/records?since=<cursor> every POLL_MS,
redraws only the shown learners that changed and re-reads the summary when anything did; a hidden
tab does not poll, and polls at once when it is shown again. Which request goes next, and what the
live pill says, is decided by coursewire/core/report_poll.py; this module makes the requests and
draws. Each learner can be exported (a JSON download) and erased (after a confirmation) through the
erasure API.
"""

import json

from pyscript import document, window
from pyscript.ffi import create_proxy

from app import csvsafe, present, report_text
from app.report_view import LearnerTable, ProgressChart, Summary, listen
from app.ui import announce, by_id, download, local_clock, runtime_label, show
from coursewire.core import roster
from coursewire.core.report_poll import (
    CHECKING,
    LIVE,
    LOADING,
    OFFLINE,
    PAGE,
    PAUSED,
    POLL,
    SIGN_IN_AGAIN,
    SIGNED_OUT,
    SUMMARY,
    TROUBLE,
    ReportPoll,
    records_answer,
)
from coursewire.core.report_poll import sentence as _sentence

POLL_MS = 3000
PAGE_SIZE = 100  # learners per page (drawn 25 per task by LearnerTable.show_page)
EXPORT_PAGE = 1000  # the CSV export reads the records this many at a time (the API's most)
DEFAULT_COURSE = "101"
SESSION_URL = "api/staff-session"


def _answer(status, text):
    """(status, parsed JSON object or None) from what report_io.js handed back."""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        value = None
    return int(status), value if isinstance(value, dict) else None


class ReportPage:
    def __init__(self, course_text):
        self.io = window.coursewireReportIO
        self.course_text = course_text
        self.course = roster.course_param(course_text)
        self.state = ReportPoll()  # what decides which request goes next (coursewire/core/report_poll.py)
        self.summary_data = None
        self.exporting = None  # the CSV export's rows while it reads the pages
        self.table = LearnerTable()
        self.summary = Summary()
        self.chart = ProgressChart()
        # One proxy per kind of answer, kept for the page's lifetime (report_io.js calls them later).
        self._on_session = create_proxy(self.on_session)
        self._on_sign_in = create_proxy(self.on_sign_in)
        self._on_sign_out = create_proxy(self.on_sign_out)
        self._on_page = create_proxy(self.on_page)
        self._on_poll = create_proxy(self.on_poll)
        self._on_summary = create_proxy(self.on_summary)
        self._on_export_page = create_proxy(self.on_export_page)
        self._on_learner_export = create_proxy(self.on_learner_export)
        self._on_erased = create_proxy(self.on_erased)
        self._on_answers = create_proxy(self.on_answers)
        self.answers_of = None  # [learner, answers read so far] while the answers route is read
        self._tick = create_proxy(lambda: self.poll())
        self.erasing = None  # the learner the erase dialog names
        self.table.on_action = self.row_action
        listen(by_id("sign-in-form"), "submit", self.sign_in)
        listen(by_id("sign-out"), "click", self.sign_out)
        listen(by_id("export-csv"), "click", self.export_csv)
        listen(by_id("page-next"), "click", self.next_clicked)
        listen(by_id("page-previous"), "click", self.previous_clicked)
        listen(by_id("erase-confirm"), "click", self.erase_confirmed)
        listen(by_id("erase-cancel"), "click", lambda _event: by_id("erase-dialog").close())
        listen(by_id("erase-dialog"), "close", self.erase_closed)
        listen(document, "visibilitychange", self.visibility_changed)

    def start(self):
        shown = self.course or self.course_text
        by_id("course-id").textContent = shown
        by_id("course-input").value = shown
        if self.course is None:
            self.live("error", "No course")
            self.error("“%s” is not a course id: use letters, digits, '.', '_', ':' or '-'." % shown[:128])
            return
        self.live(*CHECKING)
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
        self.live(*SIGNED_OUT)
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
        message = (
            "The server cannot be reached; try again."
            if status == 0
            else _sentence(value, "Signing in failed; try again.")
        )
        by_id("sign-in-error").textContent = message
        by_id("admin-token").focus()

    def sign_out(self, _event):
        self.io.request("DELETE", SESSION_URL, "", self._on_sign_out)

    def on_sign_out(self, status, text):
        self.ask_to_sign_in("You signed out." if int(status) == 200 else "Sign-out did not reach the server.")

    def enter(self):
        self.error(None)
        show(by_id("sign-in-card"), False)
        show(by_id("report-body"), True)
        show(by_id("sign-out"), True)
        self.live(*LOADING)
        self.send(self.state.enter())

    def leave(self):
        """Signed out: forget every record (nothing of them stays on the page) and stop polling."""
        self.state.leave()
        self.summary_data = self.exporting = None
        self.table.clear()
        show(by_id("report-body"), False)
        show(by_id("sign-out"), False)
        by_id("last-change").textContent = ""

    # -- the summary: counts and chart, counted by the server --

    def send(self, requests):
        """Make the requests ReportPoll decided on (summary, page, poll)."""
        course = window.encodeURIComponent(self.course)
        for request in requests:
            if request[0] == SUMMARY:
                self.io.request("GET", "api/records/summary?course=%s" % course, "", self._on_summary)
            elif request[0] == PAGE:
                url = "api/records?course=%s&limit=%d" % (course, PAGE_SIZE)
                if request[1]:
                    url += "&page=" + window.encodeURIComponent(request[1])
                self.io.request("GET", url, "", self._on_page)
            elif request[0] == POLL:
                url = "api/records?course=%s&since=%d&limit=%d" % (course, request[1], PAGE_SIZE)
                self.io.request("GET", url, "", self._on_poll)

    def load_summary(self):
        self.send(self.state.ask_summary())

    def on_summary(self, status, text):
        use, again = self.state.summary_answered()
        if not use:
            return
        self.send(again)
        status, value = _answer(status, text)
        summary = report_text.summary_of(value) if status == 200 else None
        if status == 401:
            self.ask_to_sign_in(_sentence(value, SIGN_IN_AGAIN))
        elif summary is None:
            self.live(*(TROUBLE if status else OFFLINE))
        else:
            self.summary_data = summary
            self.summary.render(summary)
            self.chart.render(summary["bands"])
            self.show_title(value.get("title"))
            self.render_pager()

    # -- one page of learners --

    def on_page(self, status, text):
        value = self.check(status, text)
        if value is None:
            self.send(self.state.page_failed())
            return
        records = self.state.page_answered(value)  # still loading until the rows are drawn: polls wait
        self.show_title(value.get("title"))
        self.table.show_page(records, self.page_drawn)

    def page_drawn(self):
        requests = self.state.page_drawn()
        self.render_pager()
        self.live(*LIVE)
        self.seen_now()
        self.send(requests)

    def render_pager(self):
        total = self.summary_data["learners"] if self.summary_data else None
        by_id("page-status").textContent = report_text.page_text(
            self.state.first_shown(), len(self.state.records), total
        )
        previous, following = by_id("page-previous"), by_id("page-next")
        focused = document.activeElement
        focused = focused.id if focused is not None and type(focused).__name__ != "JsNull" else ""
        previous.disabled = not self.state.can_go("previous")
        following.disabled = not self.state.can_go("next")
        # A keyboard user's place: a button that just became disabled hands focus to the other.
        if focused == "page-previous" and previous.disabled and not following.disabled:
            following.focus()
        elif focused == "page-next" and following.disabled and not previous.disabled:
            previous.focus()
        show(by_id("pager"), self.state.has_pages())

    def next_clicked(self, _event):
        self.go("next")

    def previous_clicked(self, _event):
        self.go("previous")

    def go(self, where):
        """Next or previous page; while a poll is on its way, as soon as it has answered."""
        self.send(self.state.go(where))

    # -- polling: only what changed, patched into the page shown --

    def poll(self):
        self.send(self.state.ask_poll(document.visibilityState == "hidden"))

    def on_poll(self, status, text):
        requests, live, updated = self.state.poll_answered(self.check(status, text))
        if live is not None:
            self.live(*live)
        if updated:
            self.table.update(self.state.records, updated, flash=True)
            announce("%d learner%s updated." % (len(updated), "" if len(updated) == 1 else "s"))
            self.render_pager()
        if updated is not None:
            self.seen_now()
        self.send(requests)

    def check(self, status, text):
        """The answer's JSON object when it is a records answer; else says why and gives None."""
        if not self.state.signed_in:
            return None  # signed out while this was on its way
        status, value = _answer(status, text)
        kind, reason = records_answer(status, value)
        if kind == "sign-in":
            self.ask_to_sign_in(reason)
        elif kind == "offline":
            self.live(*OFFLINE)
        elif kind == "error":
            self.live(*TROUBLE)
            self.error(reason)
        else:
            self.error(None)
            return value
        return None

    def show_title(self, title):
        title_node = by_id("course-title")
        title_node.textContent = title if isinstance(title, str) else ""
        show(title_node, isinstance(title, str) and title != "")

    def seen_now(self):
        by_id("last-change").textContent = "Last change seen at %s" % local_clock(window.Date.new().toISOString())

    # -- one learner: export and erase (the erasure API) --

    def row_action(self, action, learner, button):
        if action == "all-answers":
            if self.answers_of is None:
                self.answers_of = [learner, []]
                button.disabled = True
                self.read_answers(None)
        elif action == "export":
            self.status_line("Exporting the record of %s…" % learner)
            self.io.request("GET", self.learner_url(learner) + "/export", "", self._on_learner_export)
            self.exported = learner
        elif action == "erase":
            self.erasing = learner
            self.erase_button = button
            by_id("erase-learner").textContent = learner
            by_id("erase-confirm").setAttribute("aria-label", "Erase " + learner)
            by_id("erase-dialog").showModal()
            by_id("erase-cancel").focus()  # the safe choice is the one Enter takes

    def read_answers(self, token):
        url = "api/records/answers?course=%s&learner=%s&limit=%d" % (
            window.encodeURIComponent(self.course),
            window.encodeURIComponent(self.answers_of[0]),
            EXPORT_PAGE,
        )
        if token:
            url += "&page=" + window.encodeURIComponent(token)
        self.io.request("GET", url, "", self._on_answers)

    def on_answers(self, status, text):
        learner, answers = self.answers_of
        status, value = _answer(status, text)
        if status == 200 and value is not None and isinstance(value.get("answers"), list):
            answers.extend(a for a in value["answers"] if isinstance(a, dict))
            token = value.get("next_page")
            if isinstance(token, str) and token:
                self.read_answers(token)
                return
            self.answers_of = None
            self.table.show_all_answers(learner, answers)
            announce("All %s answers and events of %s shown." % (present.grouped(len(answers)), learner))
            return
        self.answers_of = None
        if status == 401:
            self.ask_to_sign_in(_sentence(value, SIGN_IN_AGAIN))
        else:
            self.status_line(
                "The answers of %s could not be read: %s"
                % (
                    learner,
                    _sentence(
                        value,
                        "the server cannot be reached." if status == 0 else "the server's answer could not be read.",
                    ),
                )
            )

    def learner_url(self, learner):
        return "api/learners/" + window.encodeURIComponent(learner)

    def on_learner_export(self, status, text):
        status, value = _answer(status, text)
        learner = self.exported
        if status == 200 and value is not None:
            download("learner-%s.json" % _file_safe(learner), "application/json", text)
            self.status_line("Exported everything held about %s." % learner)
        elif status == 401:
            self.ask_to_sign_in(_sentence(value, SIGN_IN_AGAIN))
        else:
            self.status_line(
                "Export of %s failed: %s"
                % (
                    learner,
                    _sentence(
                        value,
                        "the server cannot be reached." if status == 0 else "the server's answer could not be read.",
                    ),
                )
            )

    def erase_confirmed(self, _event):
        dialog = by_id("erase-dialog")
        learner = self.erasing if dialog.open else None
        dialog.close()
        if learner is None:
            return
        self.status_line("Erasing %s…" % learner)
        self.io.request("DELETE", self.learner_url(learner), "", self._on_erased)
        self.erased = learner

    def erase_closed(self, _event):
        # Focus goes back to the row's button. (`erasing` stays: a late "close" event of an
        # earlier opening must not forget the learner of the dialog open now.)
        button = getattr(self, "erase_button", None)
        if button is not None and button.isConnected and not by_id("erase-dialog").open:
            button.focus()

    def on_erased(self, status, text):
        status, value = _answer(status, text)
        learner = self.erased
        if status == 200 and value is not None:
            self.table.remove(learner)
            self.state.erased(learner)
            self.status_line(report_text.erasure_text(learner, value))
            by_id("record-status").focus()  # the row and its buttons are gone: read what was done
            self.load_summary()
            self.render_pager()
        elif status == 401:
            self.ask_to_sign_in(_sentence(value, SIGN_IN_AGAIN))
        else:
            self.status_line(
                "%s was not erased: %s"
                % (
                    learner,
                    _sentence(
                        value,
                        "the server cannot be reached." if status == 0 else "the server's answer could not be read.",
                    ),
                )
            )

    def status_line(self, text):
        node = by_id("record-status")
        node.textContent = text
        show(node, True)

    def visibility_changed(self, _event):
        if not self.state.signed_in:
            return
        if document.visibilityState == "hidden":
            self.live(*PAUSED)
        else:
            self.live(*LIVE)
            self.poll()

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
        """Every learner of the course, read EXPORT_PAGE at a time (one task per page), then saved."""
        if self.exporting is not None:
            return
        self.exporting = [list(report_text.CSV_COLUMNS)]
        by_id("export-csv").disabled = True
        self.status_line("Preparing the CSV…")
        self.export_page(None)

    def export_page(self, token):
        url = "api/records?course=%s&limit=%d" % (window.encodeURIComponent(self.course), EXPORT_PAGE)
        if token:
            url += "&page=" + window.encodeURIComponent(token)
        self.io.request("GET", url, "", self._on_export_page)

    def on_export_page(self, status, text):
        rows = self.exporting
        value = self.check(status, text)
        if rows is None or value is None:
            self.exporting = None
            by_id("export-csv").disabled = False
            if self.state.signed_in:
                self.status_line("The CSV export stopped: the server's answer could not be read.")
            return
        rows.extend(report_text.csv_row(r) for r in value["records"] if isinstance(r, dict))
        token = value.get("next_page")
        if isinstance(token, str) and token:
            self.status_line("Preparing the CSV… %s learners read" % present.grouped(len(rows) - 1))
            self.export_page(token)
            return
        self.exporting = None
        by_id("export-csv").disabled = False
        download("learners-course-%s.csv" % self.course, "text/csv", csvsafe.csv_text(rows))
        self.status_line("Exported %s learners as CSV." % present.grouped(len(rows) - 1))


def _file_safe(text):
    """A learner id as part of a file name: letters, digits, '.', '_', '-' and '@' kept."""
    kept = "".join(c if c.isalpha() or c.isdigit() or c in "._-@" else "_" for c in text)
    return kept[:80] or "learner"


runtime_label()
page = ReportPage(window.URLSearchParams.new(window.location.search).get("course") or DEFAULT_COURSE)
page.start()
document.documentElement.setAttribute("data-listening", "true")
