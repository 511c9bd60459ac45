"""The no-code snippet's entry: mount every [data-coursewire] element on the host page.

    <div data-coursewire="player" data-mint-url="/api/embed-url" data-course="101"
         data-login-url="/login-token"></div>
    <div data-coursewire="player" data-src="SIGNED_URL"></div>

Attributes: data-coursewire ("player" | "builder"); where the course comes from: data-mint-url
with data-course and the learner's login, data-login-url (a same-origin GET answering {"token"},
asked before every mint) or data-login-token (a fixed login token, until it expires), and
optionally data-learner (the page asks the host's server for a signed URL, and for a fresh one
when the session expires; the record is kept per course and the learner the server names;
bridge.js builds that request), or data-src (a URL the host's page already holds); optional data-report-url (send every accepted event to the
host's server; with data-src, data-report-token too), data-origins (space-separated allow-list;
default the URL's origin), data-rules (JSON unlock rules), data-progress-target (CSS selector of a
<progress> or any element to keep in step), data-storage-key (where the record is kept),
data-coursewire-reconnect="off" (no automatic reconnect), data-coursewire-defer (skip for now).
bridge.js has usually mounted the element already (it starts the course before Python boots);
this adopts it. Each accepted event is
re-dispatched on the element as a bubbling CustomEvent named like the event ("course:progress",
"back" ...). Running this twice mounts nothing twice: mounted elements are marked
data-coursewire-initialized. An element that cannot be mounted gets data-coursewire-error (the
reason, also on the console) and never stops the others.
"""

import json

from pyscript import document, window

from coursewire.browser.embed import Embed
from coursewire.core.jsonsafe import parse_json
from coursewire.core.rules import MAX_RULES_CHARS


def _progress_widget(embed, target):
    """Keep `target` in step with the course's progress: <progress> value, or ARIA + a CSS var."""

    def update(_event):
        value = embed.state.progress
        if target.tagName == "PROGRESS":
            target.max = 100
            target.value = value
        else:
            target.setAttribute("role", "progressbar")
            target.setAttribute("aria-valuemin", "0")
            target.setAttribute("aria-valuemax", "100")
            target.setAttribute("aria-valuenow", str(value))
            target.style.setProperty("--coursewire-progress", "%d%%" % value)
        target.setAttribute("data-progress", str(value))

    embed.on("course:progress", update)
    embed.on("course:completed", update)
    update(None)


def _rules(element):
    text = element.getAttribute("data-rules")
    if not text:
        return None
    rules, reason = parse_json(text, MAX_RULES_CHARS)  # the limits every message gets
    if reason is not None:
        raise ValueError("data-rules is not usable JSON (%s)" % reason)
    return rules


def _progress_target(element):
    selector = element.getAttribute("data-progress-target")
    if not selector:
        return None
    # Through the bridge: document.querySelector throws on "##", and on MicroPython that
    # JavaScript error escapes `except`.
    target = window.coursewireBridge.find(selector)
    if isinstance(target, str):
        raise ValueError("data-progress-target is not a valid CSS selector (%s)" % selector[:80])
    if not target:  # None on MicroPython, JavaScript's null (jsnull, falsy) on Pyodide
        raise ValueError("data-progress-target matches no element (%s)" % selector[:80])
    return target


def _mint(element):
    # The mint request as bridge.js reads it from the attributes (the one place it is built).
    text = window.coursewireBridge.requestOf(element)
    return json.loads(text) if text else None


def _report(element):
    url = element.getAttribute("data-report-url")
    if not url:
        return None
    return {"url": url, "token": element.getAttribute("data-report-token") or None}


def mount(element):
    """Mount one element; returns its Embed, or None (the reason goes on the element and console).

    Everything that can fail for this element happens inside the one `try`, so a bad element
    costs itself only and the elements after it still mount.
    """
    embed = None
    try:
        product = element.getAttribute("data-coursewire") or "player"
        origins = (element.getAttribute("data-origins") or "").split() or None
        target = _progress_target(element)
        mint = _mint(element)
        embed = Embed(
            element,
            None if mint else element.getAttribute("data-src") or None,
            product=product,
            origins=origins,
            rules=_rules(element),
            mint=mint,
            report=_report(element),
            storage_key=element.getAttribute("data-storage-key") or None,
            dom_events=True,
            reconnect=element.getAttribute("data-coursewire-reconnect") != "off",
        )
        if target:
            _progress_widget(embed, target)
    except Exception as error:
        _refuse(element, error, embed)
        return None
    element.setAttribute("data-coursewire-initialized", "true")
    return embed


def _refuse(element, error, embed):
    message = "%s: %s" % (type(error).__name__, error)
    element.setAttribute("data-coursewire-error", message)
    window.console.error("Coursewire could not mount an embed: " + message)
    # bridge.js may have started the course already: nothing may run unchecked.
    if embed is not None:
        embed.destroy()
    frame_id = window.coursewireBridge.mountedIn(element)
    if frame_id:
        window.coursewireBridge.unmount(frame_id)


def mount_all():
    nodes = document.querySelectorAll("[data-coursewire]")
    mounted = []
    for i in range(nodes.length):
        element = nodes.item(i)
        if element.hasAttribute("data-coursewire-initialized") or element.hasAttribute("data-coursewire-defer"):
            continue
        embed = mount(element)
        if embed:
            mounted.append(embed)
    return mounted


mount_all()
