"""DOM helpers and the widgets both demo pages share: session pill, inspector, notices.

Everything from the iframe goes in through `textContent` / `setAttribute`, never innerHTML.
Widgets redraw only what a batch changed (`changes` from Embed.watch).
"""

import sys

from pyscript import document, window
from pyscript.ffi import create_proxy

from app.present import shown
from coursewire.core.eventlog import ACCEPTED, REJECTED
from coursewire.core.records import is_iso_time
from coursewire.core.session_pill import session_pill

INSPECTOR_ROWS = 500
_listeners = []  # event-listener proxies, kept alive for the page's lifetime


def by_id(element_id):
    return document.getElementById(element_id)


def dom_text(text):
    """Text as the DOM should get it on both runtimes: MicroPython cuts a string at its first NUL
    when it hands it to JavaScript, so NUL becomes U+FFFD (what HTML's own parser makes of it)."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def el(tag, text=None, cls=None):
    node = document.createElement(tag)
    if text is not None:
        node.textContent = dom_text(text)
    if cls:
        node.className = cls
    return node


def show(node, visible):
    node.hidden = not visible


def local_clock(iso):
    """HH:MM:SS in the viewer's time zone for a time the state holds, or None when it holds none
    or something that is not one. Rendering never raises on what the state holds: "not a date"
    once made this raise (NaN hours) and stopped the page before it listened."""
    if not is_iso_time(iso):
        return None
    date = window.Date.new(iso)
    parts = (date.getHours(), date.getMinutes(), date.getSeconds())
    if any(part != part for part in parts):  # NaN: a time JavaScript cannot read after all
        return None
    return "%02d:%02d:%02d" % parts


def announce(text):
    """Say `text` through the polite live region (screen readers)."""
    region = by_id("announcer")
    region.textContent = ""
    region.textContent = text


def download(filename, mime, text):
    """Save `text` as a file, through a Blob URL (boot.js): every download of the demo pages."""
    window.coursewirePage.save(filename, mime, dom_text(text))


def runtime_label():
    impl = sys.implementation
    name = "Pyodide" if impl.name == "cpython" else "MicroPython"
    version = ".".join(str(part) for part in impl.version[:2])
    by_id("runtime-label").textContent = (
        "%s · Python %s" % (name, version) if name == "Pyodide" else "MicroPython %s" % version
    )


def confirm_flow(trigger_id, box_id, yes_id, no_id, on_yes, before_open=None):
    """A two-step control: the trigger reveals an inline confirmation (no blocking dialog)."""
    box = by_id(box_id)

    def open_box(_event):
        if before_open:
            before_open()
        show(box, True)
        by_id(no_id).focus()

    def close_box(_event):
        show(box, False)
        by_id(trigger_id).focus()

    def confirm(_event):
        show(box, False)
        on_yes()
        by_id(trigger_id).focus()

    on_click(trigger_id, open_box)
    on_click(no_id, close_box)
    on_click(yes_id, confirm)


def on_click(element_id, fn):
    proxy = create_proxy(fn)
    _listeners.append(proxy)
    by_id(element_id).addEventListener("click", proxy)


class SessionPill:
    """#session-status and #reconnect: what the course session is doing, and the way back.

    With a minted URL, an expired session reconnects on its own (a fresh signed URL, bounded, with
    backoff: coursewire/core/reconnect.py); the pill says so, and Reconnect starts it by hand.
    What it says is decided by coursewire/core/session_pill.py.
    """

    def __init__(self, embed):
        self.embed = embed
        self.pill = by_id("session-status")
        self.button = by_id("reconnect")
        on_click("reconnect", self._reconnect)

    def _reconnect(self, _event):
        self.embed.reconnect()
        self.render()

    def render(self):
        embed, state = self.embed, self.embed.state
        message = state.session_error
        text, session, offer = session_pill(
            state.session, shown(message) if message else None, embed.reconnect_policy, embed.mint_error
        )
        self.pill.textContent = dom_text(text)
        self.pill.setAttribute("data-session", session)
        show(self.button, offer)


def learner_picker():
    """#learner: which demo learner the page signs in as (serve.py's demo login; a real host takes
    the learner from its own login). Picking another reloads the page for that learner."""
    picker = by_id("learner")
    current = document.documentElement.getAttribute("data-learner")
    if picker is None or not current:
        return
    picker.value = current

    def pick(_event):
        params = window.URLSearchParams.new(window.location.search)
        params.set("learner", picker.value)
        window.location.search = params.toString()

    proxy = create_proxy(pick)
    _listeners.append(proxy)
    picker.addEventListener("change", proxy)


class Inspector:
    """#event-log: every message received, newest first, capped; rows built only while open."""

    def __init__(self, embed):
        self.log = embed.log
        self.list = by_id("event-log")
        self.counts = by_id("event-counts")
        self.details = by_id("inspector")
        self.shown_seq = 0
        self._toggle = create_proxy(lambda _event: self.render())
        self.details.addEventListener("toggle", self._toggle)

    def render(self):
        log = self.log
        self.counts.textContent = "%d accepted · %d rejected" % (log.accepted_count, log.rejected_count)
        if not self.details.open:
            return
        fresh = [e for e in log.newest(INSPECTOR_ROWS) if e["seq"] > self.shown_seq]
        if not fresh:
            return
        if len(fresh) >= INSPECTOR_ROWS:
            self.list.textContent = ""
        fragment = document.createDocumentFragment()
        for entry in fresh:  # newest first
            fragment.appendChild(self._row(entry))
        self.list.prepend(fragment)
        self.shown_seq = fresh[0]["seq"]
        while self.list.childElementCount > INSPECTOR_ROWS:
            self.list.lastElementChild.remove()

    def _row(self, entry):
        row = el("li")
        row.appendChild(el("span", local_clock(entry["time"]) or "", "time"))
        if entry["outcome"] == ACCEPTED:
            row.setAttribute("data-event-name", entry["name"])
            row.appendChild(el("span", entry["name"], "name"))
        elif entry["outcome"] == REJECTED:
            row.setAttribute("data-rejected", entry["reason"])
            row.appendChild(el("span", "rejected: " + entry["reason"], "name"))
        else:  # a host's handler raised on an accepted event
            row.setAttribute("data-handler-error", entry["reason"])
            row.appendChild(el("span", "handler error: " + entry["reason"], "name"))
        detail = entry["preview"]
        if entry.get("origin"):
            detail = "from %s  %s" % (entry["origin"], detail)
        row.appendChild(el("code", detail))
        return row


class Notices:
    """#notices: one-off sentences (storage refused, record unreadable ...), each shown once.

    standing: the page's own sentences (a refused ?back=), shown whatever the embed says.
    """

    def __init__(self, standing=()):
        self.box = by_id("notices")
        self.standing = list(standing)
        self.shown = {}  # text -> its <p>

    def render(self, notices):
        wanted = self.standing + [text for text in notices if text not in self.standing]
        for text in wanted:
            if text not in self.shown:
                self.shown[text] = el("p", text)
                self.box.appendChild(self.shown[text])
        for text in [t for t in self.shown if t not in wanted]:  # no longer true (Reset freed storage)
            self.shown.pop(text).remove()
