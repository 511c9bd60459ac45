"""The report page's views: the learners table (one page of learners, one <tbody> per learner, so a
poll replaces only the learners that changed), the summary counts and the progress chart drawn as
inline SVG from the server's summary (never from every record).

Words and geometry come from app/report_text.py, statuses, evidence and bands from
coursewire/core/roster.py; everything from the server goes in through textContent / setAttribute,
never as HTML. Times are shown in the viewer's time zone.
"""

from pyscript import document, window
from pyscript.ffi import create_proxy

from app import present, report_text
from app.ui import by_id, dom_text, el, show
from coursewire.core import roster
from coursewire.core.vocabulary import is_int

SVG_NS = "http://www.w3.org/2000/svg"
# Each cell's short name, shown beside its value when the table becomes cards on a phone.
LABELS = ("Learner", "Progress", "Reported", "Verified", "Answers", "Last activity", "Record")
ROWS_PER_TASK = 25  # rows drawn per main-thread task: the page stays responsive while it draws
_proxies = []  # event-listener proxies, kept alive for the page's lifetime


def listen(node, event_name, fn):
    proxy = create_proxy(fn)
    _proxies.append(proxy)
    node.addEventListener(event_name, proxy)


def local_time(iso):
    """ "2026-11-28 09:51" in the viewer's time zone for an ISO time from the server, or None for
    anything JavaScript cannot read as a time (rendering never raises on what it is given)."""
    if not iso or not isinstance(iso, str):
        return None
    date = window.Date.new(iso)
    parts = (date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes())
    if any(part != part for part in parts):  # NaN
        return None
    return "%04d-%02d-%02d %02d:%02d" % parts


def time_node(iso):
    node = el("time", local_time(iso) or "—")
    node.setAttribute("datetime", iso)
    node.setAttribute("title", iso.replace("T", " ").replace("Z", " UTC"))
    return node


class LearnerTable:
    """#learners: one <tbody data-learner> per learner, in the server's order (code points)."""

    def __init__(self):
        self.table = by_id("learners")
        self.empty = by_id("learners-empty")
        self.bodies = {}  # learner -> its <tbody>
        self.expanded = set()  # learners whose answers are shown; kept across redraws
        self.next_id = 0
        self.on_action = None  # on_action(action, learner, button): the Export and Erase… buttons
        self._queue, self._done = [], None  # the rows of a page not drawn yet, and what follows
        self._step = create_proxy(self._build_more)
        listen(self.table, "click", self._toggle)

    def clear(self):
        self._queue, self._done = [], None  # a page still being drawn stops here
        for body in self.bodies.values():
            body.remove()
        self.bodies = {}
        self.expanded = set()
        show(self.empty, True)

    def show_page(self, records, done=None):
        """Replace the rows with `records` (in the server's order), ROWS_PER_TASK at a time, one
        main-thread task each (a page of 100 in one task measured 65-90 ms); then `done()`."""
        for body in self.bodies.values():
            body.remove()
        self.bodies = {}
        self._queue = list(records)
        self._done = done
        self._build_more()

    def _build_more(self, *_):
        batch, self._queue = self._queue[:ROWS_PER_TASK], self._queue[ROWS_PER_TASK:]
        fragment = document.createDocumentFragment()
        for record in batch:
            body = self._body(record)
            fragment.appendChild(body)
            self.bodies[record["learner"]] = body
        self.table.appendChild(fragment)
        if self._queue:
            window.setTimeout(self._step, 0)
            return
        show(self.empty, not self.bodies)
        done, self._done = self._done, None
        if done is not None:
            done()

    def remove(self, learner):
        body = self.bodies.pop(learner, None)
        if body is not None:
            body.remove()
        self.expanded.discard(learner)
        show(self.empty, not self.bodies)

    def update(self, records, learners, flash):
        """Redraw the rows of `learners` (sorted) from `records` (learner -> record); the other rows
        stay the same DOM nodes. `flash` marks the redrawn rows as just changed."""
        for learner in learners:
            body = self._body(records[learner])
            if flash:
                body.classList.add("changed")
            old = self.bodies.get(learner)
            if old is not None:
                refocus = old.contains(document.activeElement)
                old.replaceWith(body)
                toggle = body.querySelector("button[data-toggle]")
                if refocus and toggle is not None:
                    toggle.focus()  # a keyboard user's place survives the redraw
            else:
                self.table.insertBefore(body, self._body_after(learner))
            self.bodies[learner] = body
        show(self.empty, not self.bodies)

    def _body_after(self, learner):
        later = [name for name in self.bodies if name > learner]
        return self.bodies[min(later)] if later else None

    def _body(self, record):
        learner = record["learner"]
        body = el("tbody")
        body.setAttribute("data-learner", learner)
        body.setAttribute("data-status", record.get("status") or "")
        row = el("tr", None, "learner-row")
        name = el("th", learner, "learner")
        name.setAttribute("scope", "row")
        name.setAttribute("data-label", LABELS[0])
        row.appendChild(name)
        row.appendChild(self._progress_cell(record))
        row.appendChild(self._evidence_cell("reported", roster.reported_evidence(record), LABELS[2]))
        row.appendChild(self._evidence_cell("verified", roster.verified_evidence(record), LABELS[3]))
        answers = record.get("answers") or []
        self.next_id += 1
        answers_id = "answers-%d" % self.next_id
        row.appendChild(self._answers_cell(learner, answers, answers_id, record.get("answers_total")))
        last = roster.last_activity(record)
        cell = el("td", None, "last-activity")
        cell.setAttribute("data-label", LABELS[5])
        cell.appendChild(time_node(last) if last else el("span", "—", "none"))
        row.appendChild(cell)
        row.appendChild(self._actions_cell(learner))
        body.appendChild(row)
        if answers:
            body.appendChild(
                self._answers_row(answers, answers_id, learner in self.expanded, learner, record.get("answers_total"))
            )
        return body

    def _progress_cell(self, record):
        shown = roster.progress_evidence(record)
        percent = shown["percent"]
        cell = el("td", None, "progress-cell")
        cell.setAttribute("data-label", LABELS[1])
        cell.setAttribute("data-source", shown["source"])
        line = el("div", None, "progress-line")
        bar = el("div", None, "progress " + shown["source"])
        bar.setAttribute("role", "progressbar")
        bar.setAttribute("aria-valuemin", "0")
        bar.setAttribute("aria-valuemax", "100")
        bar.setAttribute("aria-valuenow", str(percent))
        bar.setAttribute("aria-valuetext", shown["text"])
        bar.setAttribute("aria-label", "Progress of " + record["learner"])
        fill = el("div", None, "progress-fill")
        fill.style.width = "%d%%" % percent
        bar.appendChild(fill)
        line.appendChild(bar)
        line.appendChild(el("span", "%d%%" % percent, "progress-text"))
        value = el("div", None, "value")  # one box: on a phone the cell is a label/value pair
        value.appendChild(line)
        cell.appendChild(value)
        if shown["source"] == "verified":
            # Coassemble's word, marked as such (the check mark and a solid badge, not colour alone).
            badge = el("span", None, "badge verified from")
            mark = el("span", roster.VERIFIED_MARK, "mark")
            mark.setAttribute("aria-hidden", "true")
            badge.appendChild(mark)
            badge.appendChild(el("span", "Verified by Coassemble"))
            value.appendChild(badge)
            if shown["reported"] is not None:
                value.appendChild(el("span", "Browser reported %d%%" % shown["reported"], "progress-note"))
        return cell

    def _actions_cell(self, learner):
        cell = el("td", None, "record-actions")
        cell.setAttribute("data-label", LABELS[6])
        value = el("div", None, "value")
        for action, text, label in (
            ("export", "Export", "Export everything held about "),
            ("erase", "Erase…", "Erase "),
        ):
            button = el("button", text, "quiet small" if action == "export" else "quiet small erase")
            button.type = "button"
            button.setAttribute("data-action", action)
            button.setAttribute("aria-label", label + learner + ("…" if action == "erase" else ""))
            value.appendChild(button)
        cell.appendChild(value)
        return cell

    def _evidence_cell(self, kind, evidence, label):
        cell = el("td", None, "evidence")
        cell.setAttribute("data-label", label)
        cell.setAttribute("data-evidence", kind)
        cell.setAttribute("data-state", evidence["state"])
        if evidence["state"] == "none":
            cell.appendChild(el("span", evidence["text"], "none"))
            return cell
        value = el("div", None, "value")  # one box: on a phone the cell is a label/value pair
        badge = el("span", None, "badge %s %s" % (kind, evidence["state"]))
        if evidence["mark"]:
            mark = el("span", evidence["mark"], "mark")
            mark.setAttribute("aria-hidden", "true")
            badge.appendChild(mark)
        badge.appendChild(el("span", evidence["text"]))
        value.appendChild(badge)
        value.appendChild(time_node(evidence["time"]))
        cell.appendChild(value)
        return cell

    def _answers_cell(self, learner, answers, answers_id, total):
        cell = el("td", None, "answers")
        cell.setAttribute("data-label", LABELS[4])
        value = el("div", None, "value")
        cell.appendChild(value)
        value.appendChild(el("span", report_text.answers_summary(answers, total), "answers-summary"))
        if answers:
            open_now = learner in self.expanded
            button = el("button", "Hide answers" if open_now else "Show answers", "quiet small")
            button.type = "button"
            button.setAttribute("data-toggle", "answers")
            button.setAttribute("aria-expanded", "true" if open_now else "false")
            button.setAttribute("aria-controls", answers_id)
            button.setAttribute("aria-label", ("Hide answers of " if open_now else "Show answers of ") + learner)
            value.appendChild(button)
        return cell

    def _answers_row(self, answers, answers_id, open_now, learner, total):
        row = el("tr", None, "answers-row")
        row.id = answers_id
        row.hidden = not open_now
        cell = el("td", None, "answers-detail")
        cell.setAttribute("colspan", str(len(LABELS)))
        cell.appendChild(self._answer_list(answers))
        if is_int(total) and total > len(answers):
            # The records API carries the newest answers only; the rest come on request.
            more = el("button", "Show all %s answers and events" % present.grouped(total), "quiet small")
            more.type = "button"
            more.setAttribute("data-action", "all-answers")
            more.setAttribute("aria-label", "Show all %s answers and events of %s" % (present.grouped(total), learner))
            cell.appendChild(more)
        row.appendChild(cell)
        return row

    def show_all_answers(self, learner, answers):
        """Replace the newest answers shown for `learner` with `answers` (all of them)."""
        body = self.bodies.get(learner)
        if body is None:
            return
        old = body.querySelector(".answer-list")
        button = body.querySelector("button[data-action='all-answers']")
        if _missing(old):
            return
        old.replaceWith(self._answer_list(answers))
        if not _missing(button):
            body.querySelector("button[data-toggle]").focus()
            button.remove()

    def _answer_list(self, answers):
        items = el("ol", None, "answer-list")
        for answer in answers:
            entry = report_text.quiz_entry(answer)
            _, screen, question, given, result, attempt = present.shown_cells(entry)
            item = el("li")
            item.setAttribute("data-result", present.result_of(entry))
            item.appendChild(el("span", screen, "answer-screen"))
            if question != "—":
                item.appendChild(_labelled("Question", question, "answer-question"))
            if given != "—":
                item.appendChild(_labelled("Answer", given, "answer-given"))
            item.appendChild(el("span", result, "answer-result"))
            item.appendChild(el("span", "attempt " + attempt, "answer-attempt"))
            if answer.get("time"):
                item.appendChild(time_node(answer["time"]))
            items.appendChild(item)
        return items

    def _toggle(self, event):
        # One delegated listener: rows are rebuilt on every change.
        action = event.target.closest("button[data-action]")
        if not _missing(action) and self.on_action is not None:
            self.on_action(
                action.getAttribute("data-action"), action.closest("tbody").getAttribute("data-learner"), action
            )
            return
        button = event.target.closest("button[data-toggle]")
        if _missing(button):
            return
        body = button.closest("tbody")
        learner = body.getAttribute("data-learner")
        row = by_id(button.getAttribute("aria-controls"))
        opening = learner not in self.expanded
        if opening:
            self.expanded.add(learner)
        else:
            self.expanded.discard(learner)
        row.hidden = not opening
        button.textContent = "Hide answers" if opening else "Show answers"
        button.setAttribute("aria-expanded", "true" if opening else "false")
        button.setAttribute("aria-label", ("Hide answers of " if opening else "Show answers of ") + learner)


class Summary:
    """#summary: learners per status from the server's summary; reported-only completions counted
    apart from verified ones. Numbers are grouped ("10,000") and wrap, never clipped."""

    IDS = {
        roster.COMPLETED_VERIFIED: "count-verified",
        roster.COMPLETED_REPORTED: "count-reported",
        roster.IN_PROGRESS: "count-in-progress",
        roster.NOT_STARTED: "count-not-started",
    }

    def render(self, summary):
        by_id("count-all").textContent = present.grouped(summary["learners"])
        for status, element_id in self.IDS.items():
            by_id(element_id).textContent = present.grouped(summary["statuses"][status])


class ProgressChart:
    """#chart-slot: learners per 10 % band as horizontal SVG bars, with text labels and counts and
    an accessible name and description (role="img"). Redrawn whole: eleven bars are cheap."""

    def __init__(self):
        self.slot = by_id("chart-slot")

    def render(self, bands):
        height = report_text.chart_height(bands)
        chart = _svg(
            "svg",
            {
                "id": "progress-chart",
                "class": "chart",
                "role": "img",
                "viewBox": "0 0 %d %d" % (report_text.CHART_WIDTH, height),
                "aria-labelledby": "chart-title chart-desc",
            },
        )
        chart.appendChild(_svg("title", {"id": "chart-title"}, "Learners by progress"))
        chart.appendChild(_svg("desc", {"id": "chart-desc"}, report_text.bands_text(bands)))
        plot_width = report_text.CHART_WIDTH - report_text.CHART_LABEL_WIDTH - report_text.count_room(bands)
        for bar in report_text.chart_bars(bands):
            group = _svg("g", {"class": "band", "data-band": bar["label"], "data-count": str(bar["count"])})
            group.appendChild(
                _svg(
                    "rect",
                    {
                        "class": "track",
                        "x": bar["x"],
                        "y": bar["y"],
                        "width": plot_width,
                        "height": bar["height"],
                        "rx": 2,
                    },
                )
            )
            if bar["count"]:
                group.appendChild(
                    _svg(
                        "rect",
                        {
                            "class": "bar",
                            "x": bar["x"],
                            "y": bar["y"],
                            "width": bar["width"],
                            "height": bar["height"],
                            "rx": 2,
                        },
                    )
                )
            group.appendChild(
                _svg(
                    "text",
                    {"class": "band-label", "x": bar["label_x"], "y": bar["text_y"], "text-anchor": "end"},
                    bar["label"],
                )
            )
            group.appendChild(
                _svg("text", {"class": "band-count", "x": bar["count_x"], "y": bar["text_y"]}, bar["text"])
            )
            chart.appendChild(group)
        self.slot.textContent = ""
        self.slot.appendChild(chart)


def _missing(node):
    # JavaScript's null: None on MicroPython, a JsNull proxy on Pyodide.
    return node is None or type(node).__name__ == "JsNull"


def _labelled(label, text, cls):
    node = el("span", None, cls)
    node.appendChild(el("span", label, "k"))
    node.appendChild(document.createTextNode(dom_text(text)))
    return node


def _svg(tag, attributes, text=None):
    node = document.createElementNS(SVG_NS, tag)
    for name, value in attributes.items():
        node.setAttribute(name, "%.1f" % value if isinstance(value, float) else str(value))
    if text is not None:
        node.textContent = text
    return node
