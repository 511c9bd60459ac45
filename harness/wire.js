/* The harness's link to its parent window: decide where messages may go, post them as
 * Coassemble does (JSON strings), record every one, and show the link's state on the page.
 * Loaded first by player.html and builder.html; creates window.harness.
 *
 * Target origin, in order:
 *   1. not embedded (no parent window): nothing is posted, a warning is shown;
 *   2. ?origin=URL: that URL's origin; ?origin=* only when asked for explicitly;
 *   3. location.ancestorOrigins[0] (Chromium, Safari);
 *   4. the origin of document.referrer (Firefox);
 *   5. otherwise nothing is posted and a warning is shown.
 * "*" is never chosen by default: a real course must not leak learner events to any page.
 */
(function () {
  "use strict";

  const params = new URLSearchParams(location.search);

  function originOf(url) {
    try {
      const origin = new URL(url).origin;
      return origin === "null" ? null : origin;
    } catch (error) {
      return null;
    }
  }

  function resolveTarget() {
    if (window.parent === window) {
      return { origin: null, warning: "Opened directly, not embedded: messages are recorded on this page but not posted." };
    }
    const given = params.get("origin");
    if (given !== null) {
      if (given === "*") return { origin: "*", via: "origin=* (any parent: tests only)" };
      const origin = originOf(given);
      if (origin) return { origin, via: "origin parameter" };
      return { origin: null, warning: `origin=${given} is not an origin (expected scheme://host[:port]); nothing is posted.` };
    }
    const ancestors = location.ancestorOrigins;
    if (ancestors && ancestors.length && ancestors[0] !== "null") {
      return { origin: ancestors[0], via: "embedding page" };
    }
    const fromReferrer = document.referrer ? originOf(document.referrer) : null;
    if (fromReferrer) return { origin: fromReferrer, via: "referrer" };
    return { origin: null, warning: "The embedding page's origin is unknown: add ?origin=… to the URL. Nothing is posted." };
  }

  const target = resolveTarget();
  const sent = [];
  const sentListeners = [];

  /** Post a value exactly as given (tests use this for malformed and non-stringified messages). */
  function postRaw(value) {
    sent.push(value);
    if (target.origin) window.parent.postMessage(value, target.origin);
    for (const listener of sentListeners) listener(sent.length);
  }

  /** Post one protocol message the way Coassemble does: as a JSON string. */
  function post(message) {
    postRaw(JSON.stringify(message));
  }

  /** Fill the page's status line and warning banner; redraws at most once a frame (bursts are large). */
  function mountStatus(statusEl, warningEl) {
    if (target.warning && warningEl) {
      warningEl.textContent = target.warning;
      warningEl.hidden = false;
    }
    if (!statusEl) return;
    const where = target.origin ? `Posting to ${target.origin}` : "Not posting";
    let queued = false;
    const draw = () => {
      queued = false;
      statusEl.textContent = `${where} · ${sent.length} sent`;
    };
    sentListeners.push(() => {
      if (!queued) {
        queued = true;
        requestAnimationFrame(draw);
      }
    });
    draw();
  }

  window.harness = {
    params,
    targetOrigin: target.origin,
    targetWarning: target.warning || null,
    sent,
    post,
    postRaw,
    mountStatus,
  };
})();
