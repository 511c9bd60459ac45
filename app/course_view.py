"""The course page's widgets: progress bar, next steps, feedback, quiz answer log and controls.

Reads CourseState, never writes it: controls go through the Embed (clear_quiz, reset), and the
redraw comes back through Embed.watch like every other change.
"""

import json

from pyscript import window
from pyscript.ffi import create_proxy

from app import present
from app.ui import (
    Inspector,
    Notices,
    SessionPill,
    announce,
    by_id,
    confirm_flow,
    dom_text,
    download,
    el,
    on_click,
    show,
)
from coursewire.core import changes as C

QUIZ_ROWS = 200
# A batch that brings more answers than this draws its newest QUIZ_FIRST_ROWS at once and the
# older rows when the page is idle: in a burst most rows were built only to be pushed out of the
# table by the next batch (bench/run.py, "quiz answers"). More than a screen's worth at 1280 px.
QUIZ_FIRST_ROWS = 25
QUIZ_FILL_WAIT_MS = 300  # the longest the older rows wait for an idle moment
# ... unless another large batch replaced the table's rows meanwhile (a burst goes on): the older
# rows drawn then would be thrown away by the next batch, so they wait again, at most this often.
QUIZ_FILL_DEFERRALS = 10

_QUIZ_LABELS = json.dumps(list(present.QUIZ_COLUMNS))


class CourseView:
    def __init__(self, embed):
        self.embed = embed
        self.session = SessionPill(embed)
        self.inspector = Inspector(embed)
        self.notices = Notices()
        self.opened_steps = set()
        self._steps_drawn = None  # what _steps last drew: the list is rebuilt only when it changes
        self._fill_due = False
        self._large_batches = 0  # large batches drawn (each replaced the table's rows)
        self._fill_after = 0  # ... when the pending fill was (re)scheduled
        self._fill_deferred = 0
        self._fill_proxy = create_proxy(lambda *_: self._fill_quiz())
        confirm_flow(
            "clear-log", "clear-confirm", "clear-yes", "clear-no", embed.clear_quiz, before_open=self._count_for_clear
        )
        confirm_flow("reset", "reset-confirm", "reset-yes", "reset-no", embed.reset)
        on_click(
            "export-csv", lambda _e: download("quiz-answers.csv", "text/csv", present.quiz_csv(self.embed.state.quiz))
        )
        on_click(
            "export-json",
            lambda _e: download("quiz-answers.json", "application/json", present.quiz_json(self.embed.state.quiz)),
        )
        on_click("steps", self._open_step)
        embed.watch(self.render)
        self.render(None)

    def render(self, changes):
        """Redraw what `changes` names; None (first paint, reset) redraws everything."""
        every = changes is None or C.RESET in changes
        if every or C.SESSION in changes:
            self.session.render()
        if every or C.PROGRESS in changes or C.STATUS in changes:
            self._progress()
        if every or C.FEEDBACK in changes:
            by_id("feedback-status").textContent = dom_text(present.feedback_text(self.embed.state.feedback))
        if every or C.QUIZ in changes:
            self._quiz(None if every else changes[C.QUIZ])
        if every or C.UNLOCKS in changes or C.SCREENS in changes:  # (titles name the steps' screens)
            self._steps()
            if not every and changes.get(C.UNLOCKS):
                announce("Unlocked: " + ", ".join(self._label(i) for i in changes[C.UNLOCKS]))
        if every or C.LOG in changes:
            self.inspector.render()
        self.notices.render(self.embed.notices)

    def _progress(self):
        state = self.embed.state
        bar = by_id("progress")
        bar.setAttribute("aria-valuenow", str(state.progress))
        bar.setAttribute("aria-valuetext", present.progress_text(state.progress, state.status))
        by_id("progress-fill").style.width = "%d%%" % state.progress
        by_id("progress-text").textContent = "%d%%" % state.progress
        by_id("course-status").textContent = state.status

    def _quiz(self, new_entries):
        """Newest first: new rows go on top. None, or a log shorter than the table, redraws.

        The table holds the newest QUIZ_ROWS entries (a flood must not grow the DOM without
        end); the record and the exports keep every entry. It always shows a run of the newest
        entries without a gap: after a large batch only the newest QUIZ_FIRST_ROWS, marked
        aria-busy until _fill_quiz adds the older ones below them.
        """
        body = by_id("quiz-log")
        quiz = self.embed.state.quiz
        if new_entries is None or len(quiz) < body.childElementCount:
            body.textContent = ""
            self._add_rows(body, quiz[-QUIZ_ROWS:], False)
        elif len(new_entries) > QUIZ_FIRST_ROWS:
            body.textContent = ""
            self._add_rows(body, quiz[-QUIZ_FIRST_ROWS:], False)
            self._large_batches += 1
            if not self._fill_due:
                self._fill_due = True
                self._fill_after = self._large_batches
                body.setAttribute("aria-busy", "true")
                window.coursewirePage.whenIdle(self._fill_proxy, QUIZ_FILL_WAIT_MS)
        elif new_entries:
            self._add_rows(body, new_entries, False)
        show(by_id("quiz-empty"), not quiz)
        more = by_id("quiz-more")
        show(more, len(quiz) > QUIZ_ROWS)
        if len(quiz) > QUIZ_ROWS:
            more.textContent = "Showing the newest %d of %d entries; the exports hold them all." % (
                QUIZ_ROWS,
                len(quiz),
            )

    def _fill_quiz(self):
        """The older rows a large batch left out, below the newest ones the table shows."""
        if self._large_batches != self._fill_after and self._fill_deferred < QUIZ_FILL_DEFERRALS:
            self._fill_deferred += 1
            self._fill_after = self._large_batches
            window.coursewirePage.whenIdle(self._fill_proxy, QUIZ_FILL_WAIT_MS)
            return
        self._fill_due = False
        self._fill_deferred = 0
        body = by_id("quiz-log")
        quiz = self.embed.state.quiz
        shown = body.childElementCount
        wanted = min(QUIZ_ROWS, len(quiz))
        if shown < wanted:
            self._add_rows(body, quiz[len(quiz) - wanted : len(quiz) - shown], True)
        body.removeAttribute("aria-busy")

    def _add_rows(self, body, entries, below):
        """entries (oldest first) as rows, newest on top, above (or below) the rows shown."""
        if entries:
            # One json.dumps per row, joined: MicroPython's json.dumps is slow on long text.
            rows = (
                "[" + ", ".join([json.dumps(self._quiz_row(entry)) for entry in reversed(entries[-QUIZ_ROWS:])]) + "]"
            )
            window.coursewirePage.addQuizRows(body, rows, _QUIZ_LABELS, QUIZ_ROWS, below)

    def _quiz_row(self, entry):
        """[seq, event, result, cells] of one table row (boot.js's addQuizRows builds it; the time cell
        holds the ISO time, shown as the viewer's local time)."""
        # bounded previews (present.shown_cells): the record and the exports keep every character
        cells = [dom_text(text) for text in present.shown_cells(entry)]
        return [entry["seq"], entry["event"], present.result_of(entry), cells]

    def _count_for_clear(self):
        count = len(self.embed.state.quiz)
        by_id("clear-question").textContent = "Clear all %d recorded answer%s? This cannot be undone." % (
            count,
            "" if count == 1 else "s",
        )

    def _label(self, rule_id):
        for rule in self.embed.state.rules:
            if rule["id"] == rule_id:
                return rule.get("label") or rule_id
        return rule_id

    def _steps(self):
        # Every answer changes its screen (SCREENS), a step's words far less often: the list is
        # rebuilt (some 20 DOM calls a step) only when what it shows changed, not per batch.
        state = self.embed.state
        drawn = [
            (rule["id"], rule.get("label"), rule["id"] in state.unlocked, rule["id"] in self.opened_steps)
            + (_condition(rule, state.screens),)
            for rule in state.rules
        ]
        if drawn == self._steps_drawn:
            return
        self._steps_drawn = drawn
        box = by_id("steps")
        box.textContent = ""
        for rule in state.rules:
            unlocked = rule["id"] in state.unlocked
            item = el("li")
            item.setAttribute("data-step", rule["id"])
            item.setAttribute("data-unlocked", "true" if unlocked else "false")
            text = el("div")
            text.appendChild(el("div", rule.get("label") or rule["id"]))
            text.appendChild(
                el("div", "Unlocked" if unlocked else "Locked: " + _condition(rule, state.screens), "state")
            )
            item.appendChild(text)
            button = el("button", "Go" if rule["id"] not in self.opened_steps else "Opened")
            button.type = "button"
            button.id = "next-step" if rule["id"] == "next-step" else "step-" + rule["id"]
            button.disabled = not unlocked
            button.setAttribute("aria-label", "Go to " + (rule.get("label") or rule["id"]))
            button.setAttribute("data-step", rule["id"])
            item.appendChild(button)
            box.appendChild(item)

    def _open_step(self, event):
        # One delegated listener for every step button (they are rebuilt on each unlock).
        button = event.target.closest("button[data-step]")
        if button is None or button.disabled:
            return
        step = button.getAttribute("data-step")
        self.opened_steps.add(step)
        announce("Opened: " + self._label(step))
        self._steps()


def _condition(rule, screens):
    when = rule["when"]
    if when == "completed":
        return "finish the course"
    if when == "progress":
        return "reach %d%%" % rule["at"]
    screen = screens.get(rule["screen"]) or {}
    name = present.shown(screen.get("title") or rule["screen"])
    if when == "screen-complete":
        return "complete “%s”" % name
    return "pass the quiz “%s”" % name
