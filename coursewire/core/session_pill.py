"""What the course page's session pill says, and whether it offers Reconnect.

Pure (no browser): the page (app/ui.py SessionPill) draws what this decides. A reconnect under way
or given up speaks first (coursewire/core/reconnect.py), then a URL that could not be minted, then
the course session's own state.
"""

from coursewire.core.reconnect import CONNECTING, MINTING, WAITING

SESSION_TEXT = {
    "waiting": "Connecting…",
    "ready": "Session ready",
    "error": "Session error",
    "expired": "Session expired",
}


def session_pill(session, message, policy=None, mint_error=None):
    """(text, data-session, offer Reconnect) for the course session's state `session`.

    message: the session error's text as the page shows it (bounded), or None; policy: the embed's
    Reconnect policy, or None without a minted URL; mint_error: why the last mint failed, or None.
    """
    renewal = policy.describe() if policy is not None else None
    if renewal is not None:
        waiting = policy.state in (MINTING, CONNECTING, WAITING)
        return renewal, "waiting" if waiting else "error", not waiting
    if mint_error:
        return "No course: " + mint_error, "error", True
    text = SESSION_TEXT.get(session, session)
    if session == "error" and message:
        text = "Session error: " + message
    return text, session, session in ("expired", "error")
