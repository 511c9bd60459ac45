/* The page's Coassemble session: a signed, expiring token in ?token=, minted by the simulated API
 * (harness/api.py) for the host's server. Before the page shows anything it asks /api/session on
 * its own origin whether the token is good:
 *   no token, or a bad one   onRefused(sentence)          the page posts session:error, stays inert
 *   an expired one           onExpired(sentence, true)    the page posts session:expired
 *   a good one               onReady(session)             the page behaves as it always did, and
 *                            onExpired(sentence, false)   fires the moment the token runs out
 * The player reports its learner's first start and completion with track(), so the simulated API
 * can send Coassemble's webhooks to the host's server.
 *
 * Records on window.harness.session: status ("checking" | "ready" | "refused" | "expired"),
 * message, and, once ready, course, learner, action, expiresAt (ISO). <html data-session> mirrors
 * status for tests.
 */
(function (harness) {
  "use strict";

  const token = harness.params.get("token");
  const NO_TOKEN = "This page was opened without a session token: open it through a signed embed URL from the host.";
  const NO_ANSWER = "The session could not be checked: the simulated Coassemble API did not answer.";
  const EXPIRED = "This session has expired: the host must mint a fresh embed URL.";

  const session = { status: "checking", message: null, course: null, learner: null, action: null, expiresAt: null };

  function settle(status, message) {
    session.status = status;
    session.message = message || null;
    document.documentElement.dataset.session = status;
  }

  async function ask() {
    if (!token) return { status: 401, body: { error: NO_TOKEN } };
    try {
      const response = await fetch(`/api/session?token=${encodeURIComponent(token)}`, { cache: "no-store" });
      const body = await response.json().catch(() => ({}));
      return { status: response.status, body };
    } catch (error) {
      return { status: 0, body: { error: NO_ANSWER } };
    }
  }

  /** Expire at `deadline` (performance.now() time): timers may fire late, never early. */
  function armExpiry(deadline, onExpired) {
    const fire = () => {
      const left = deadline - performance.now();
      if (left > 0) return setTimeout(fire, left);
      settle("expired", EXPIRED);
      onExpired(EXPIRED, false);
    };
    setTimeout(fire, Math.max(0, deadline - performance.now()));
  }

  async function start({ onReady, onRefused, onExpired }) {
    settle("checking");
    const { status, body } = await ask();
    if (status === 200) {
      Object.assign(session, { course: body.course, learner: body.learner, action: body.action, expiresAt: body.expires_at });
      settle("ready");
      armExpiry(performance.now() + Math.max(0, Number(body.expires_in_s) || 0) * 1000, onExpired);
      onReady(session);
    } else if (status === 410) {
      settle("expired", body.error || EXPIRED);
      onExpired(session.message, true);
    } else {
      const message = typeof body.error === "string" && body.error ? body.error : NO_ANSWER;
      settle("refused", message);
      onRefused(message);
    }
  }

  /** Tell the simulated API about the first start or completion (it sends the webhook). */
  function track(event) {
    if (session.status !== "ready") return;
    fetch("/api/tracking", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, event }),
      keepalive: true, // a completion right before the page closes still arrives
    }).catch(() => {}); // tracking is the webhook's job; a lost report never stops the course
  }

  /** A card over `container` (position: relative) saying why the page is inert. */
  function showNotice(container, heading, message) {
    const { h } = harness;
    const title = h("h2", { tabindex: "-1" }, heading);
    const overlay = h("div", { class: "overlay session-notice" }, h("div", { class: "overlay-card", role: "alert" }, title, h("p", {}, message)));
    container.append(overlay);
    return title;
  }

  harness.session = Object.assign(session, { start, track, showNotice });
})(window.harness);
