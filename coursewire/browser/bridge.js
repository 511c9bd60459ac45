// Coursewire's only JavaScript on the message path: a listener that exists before Python does.
//
// Why it exists:
//  - The course iframe starts loading at once, long before the Python runtime has booted, so
//    messages must be held until Python is ready (none may be lost in between).
//  - Comparing event.source with an iframe's window from Python costs ~0.7 ms a message on
//    Pyodide (it probes the Window proxy); here it is one `===`.
//  - Python is called once per batch of messages, not once per message.
//  - A signed embed URL is minted by the host's server: the request goes out from here at once,
//    so the course starts loading before Python has booted (and again on reconnect, when Python
//    asks). A minting failure shows its sentence in the page, never a blank frame.
//  - On the snippet's page it mounts every [data-coursewire] element at once (Python adopts them).
// What it does NOT do: decide. Every message (trusted or not) is handed to Python with its origin
// and the id of the registered frame it came from; Python checks the origin, parses, validates and
// rejects with a reason. A message from any other window (id -1) is handed over unread: Python
// refuses it for where it came from, and reading it could cost seconds. What happened to a mint or a report POST reaches Python
// through the same ordered queue. Python hands back the DOM events to dispatch.
(function () {
  "use strict";
  if (window.coursewireBridge) return; // loaded twice (page script + PyScript js_modules): keep one

  var frames = []; // [{id, iframe, win, container}]
  var nextId = 1;
  // [frameId, origin, form, payload]: form "text" | "json" | "opaque" | "large" (core/session.py),
  // or what happened outside the frame: "minted" (the server's answer, JSON text), "mint-failed"
  // (a sentence: worth retrying), "mint-refused" (a sentence: the learner must sign in again, or
  // is someone else; never retried on its own), "posted" (JSON [tag, HTTP status or 0]).
  var queue = [];
  var consumer = null; // Python callable(batchJson) -> domEventsJson
  var scheduled = false;
  var listening = false;
  var hiding = false; // inside the page's hide handling (pagehide, visibilitychange to hidden)
  var MAX_TEXT = 65536; // coursewire/core/wire.py MAX_MESSAGE_CHARS
  var PREVIEW = 300; // characters of a refused message kept for the inspector (core/eventlog.py)
  var NOT_READ = "not read: not from a course frame";
  var SLICE = 100; // messages per Python call (~15-40 ms of work on a 2-core machine)
  var MAX_ANSWER_CHARS = 1000000; // of a report answer read (its refused events); core/outbox.py reads as much

  function frameIdOf(source) {
    if (!source) return -1; // a pending frame (URL still being minted) has no window yet: never null
    for (var i = 0; i < frames.length; i++) if (frames[i].win === source) return frames[i].id;
    return -1;
  }

  function record(event) {
    var id = frameIdOf(event.source);
    if (id === -1) {
      // Not from a course frame (the page itself, a sibling frame, a popup ...): Python only logs
      // that it refuses it and where it came from, so it costs O(1) here whatever was posted.
      // event.data is never read: the browser copies a posted value out of its message only when
      // data is first read, and that copy alone took 0.5-1 s for `new Uint8Array(3e7)` and 3 s for
      // a 3,000,000-item array (before, JSON.stringify of it held the page 8.7 s).
      enqueue([id, event.origin, "opaque", NOT_READ]);
      return;
    }
    var data = event.data;
    if (isBinary(data)) {
      // Coassemble posts strings: bytes are refused unread, by their size (never serialised).
      enqueue([id, event.origin, "opaque", describe(data)]);
      return;
    }
    var entry = [id, event.origin, "text", data];
    if (typeof data !== "string") {
      // Structured objects become JSON text here, once: Python never touches a JS proxy, checks
      // their size and depth exactly like the strings Coassemble sends, and the batch it parses
      // stays a few levels deep however deeply a hostile object nests (deep nesting in one
      // json.loads overflowed Pyodide's stack: a fatal error, from any window that can post).
      try {
        var json = JSON.stringify(data);
        entry[2] = json === undefined ? "opaque" : "json";
        entry[3] = json === undefined ? typeof data : json;
      } catch (e) {
        entry[2] = "opaque";
        entry[3] = Object.prototype.toString.call(data);
      }
    }
    if (typeof entry[3] === "string" && entry[3].length > MAX_TEXT) {
      // Python refuses it for its size anyway (wire.MAX_MESSAGE_CHARS), and parsing megabytes
      // of batch JSON takes MicroPython seconds: hand over its length and its start only.
      entry[2] = "large";
      entry[3] = [entry[3].length, entry[3].slice(0, PREVIEW)];
    }
    enqueue(entry); // one Python call for everything that arrives before the drain runs
  }

  function isBinary(data) {
    return data instanceof ArrayBuffer || ArrayBuffer.isView(data) || data instanceof Blob;
  }

  // Bytes, named by their kind and size (both known without reading them).
  function describe(data) {
    var name = Object.prototype.toString.call(data).slice(8, -1);
    return name + ", " + (data instanceof Blob ? data.size : data.byteLength) + " bytes";
  }

  function drain() {
    scheduled = false;
    if (!consumer || queue.length === 0) return;
    // At most SLICE messages per Python call: a flood is handled in slices, with frames painted
    // and clicks answered in between, instead of one task of seconds. Nothing is dropped.
    var batch = queue.length > SLICE ? queue.splice(0, SLICE) : queue;
    if (batch === queue) queue = [];
    else {
      scheduled = true;
      setTimeout(drain, 0);
    }
    var out = consumer(asciiJson(batch));
    if (out) dispatch(JSON.parse(out));
  }

  // Everything queued so far, now, in slices (the page may be going away: no later task may run).
  // Only what was queued before: what the handling itself queues waits for a later task.
  function drainAll() {
    var left = queue.length;
    while (consumer && left > 0 && queue.length) {
      left -= Math.min(SLICE, queue.length);
      drain();
    }
  }

  // MicroPython's JS-to-Python string conversion mangles characters outside the BMP (emoji):
  // hand Python ASCII-only JSON, every other character as a \uXXXX escape, decoded in Python.
  function asciiJson(value) {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, function (c) {
      return "\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4);
    });
  }

  // ---- An element the runtime never adopts says so (data-coursewire-error) ------------------
  // The course plays as soon as this file mounts it, so when Python never starts (PyScript or the
  // interpreter's .mjs blocked, missing, or served with a type browsers refuse for modules) the
  // page would look fine while nothing is tracked. What the bridge can see: the failed import of
  // the interpreter (an unhandled rejection), PyScript's own <script type=module> failing (its
  // error event, or the same import failing again); failing any signal, a deadline no
  // healthy start reaches (data-runtime-timeout, seconds). Adoption by Python clears it.
  var RUNTIME_TIMEOUT_S = 120; // Pyodide starts in ~4 s here; tests allow a loaded machine 60 s
  var RUNTIME_ERROR = "coursewire-runtime-error";

  function isPyScriptUrl(url) {
    return /pyscript/i.test(url || "") && /\/core\.js(?:[?#]|$)/.test(url || "");
  }

  function unadopted(all) {
    var out = [];
    var nodes = document.querySelectorAll("[data-coursewire]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (el.hasAttribute("data-coursewire-initialized") || el.hasAttribute("data-coursewire-error")) continue;
      if (!all && el.hasAttribute("data-coursewire-defer")) continue; // the host mounts it when it likes
      out.push(el);
    }
    return out;
  }

  function runtimeFailed(sentence, elements) {
    if (consumer) return; // Python is running: what it did not adopt, it has said why itself
    for (var i = 0; i < elements.length; i++) {
      var el = elements[i];
      var box = document.createElement("p");
      box.className = RUNTIME_ERROR;
      box.setAttribute("role", "alert");
      box.style.overflowWrap = "anywhere"; // the sentence names a URL: it wraps on a phone
      box.textContent = sentence;
      el.appendChild(box);
      el.setAttribute("data-coursewire-error", sentence);
    }
    if (elements.length) console.error("Coursewire: " + sentence);
  }

  function notTracked(cause) {
    return cause + ", so Coursewire cannot follow this course (its progress is not tracked).";
  }

  function watchRuntime() {
    window.addEventListener("unhandledrejection", function (event) {
      var reason = event.reason;
      var text = String((reason && reason.message) || reason || "");
      // The interpreter (pyodide.mjs, micropython.mjs) is imported by PyScript at run time.
      if (!/dynamically imported module|importing a module script failed/i.test(text)) return;
      var url = (text.match(/https?:\/\/\S+/) || [""])[0]; // (Safari names none)
      if (url && !/pyodide|micropython|pyscript|\.mjs(?:[?#]|$)/i.test(url)) return; // a module of the host's own
      event.preventDefault(); // reported here, once, with what to do about it
      runtimeFailed(notTracked("The Python runtime " + (url ? url + " " : "") + "could not be loaded (a missing " +
        "file, or a server that does not send .mjs files as text/javascript)"), unadopted(true));
    });
    window.addEventListener("error", function (event) {
      var el = event.target;
      if (!el || el.tagName !== "SCRIPT" || !isPyScriptUrl(el.src)) return;
      runtimeFailed(notTracked("PyScript " + el.src + " could not be loaded (blocked, missing, or not sent as " +
        "text/javascript)"), unadopted(true));
    }, true);
    function askForPyScript() {
      // PyScript's <script type=module> may have failed before this file ran (its error event is
      // gone by then). Importing the same URL answers from the browser's module map: the module
      // PyScript already is (nothing runs twice), or the same failure, at once.
      var scripts = document.querySelectorAll("script[type='module'][src]");
      for (var i = 0; i < scripts.length; i++) {
        if (!isPyScriptUrl(scripts[i].src)) continue;
        (function (src) {
          import(src).catch(function () {
            runtimeFailed(notTracked("PyScript " + src + " could not be loaded (blocked, missing, or not sent as " +
              "text/javascript)"), unadopted(true));
          });
        })(scripts[i].src);
      }
    }
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", askForPyScript);
    else askForPyScript();
    function startDeadlines() {
      var nodes = unadopted(false);
      for (var i = 0; i < nodes.length; i++) {
        var given = Number(nodes[i].getAttribute("data-runtime-timeout"));
        var seconds = given > 0 ? given : RUNTIME_TIMEOUT_S;
        setTimeout(function (el, seconds) {
          if (unadopted(false).indexOf(el) === -1) return;
          runtimeFailed(notTracked("Python did not start within " + seconds + " s (see the console for why)"), [el]);
        }, seconds * 1000, nodes[i], seconds);
      }
    }
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startDeadlines);
    else startDeadlines();
  }

  // Python adopts `container`: a runtime error said here earlier is no longer true.
  function clearRuntimeError(container) {
    var box = container.querySelector("." + RUNTIME_ERROR);
    if (!box) return;
    box.parentNode.removeChild(box);
    container.removeAttribute("data-coursewire-error");
  }

  watchRuntime();

  function dispatch(events) {
    // [[frameId, name, detail], ...] -> bubbling CustomEvents on each embed's container.
    for (var i = 0; i < events.length; i++) {
      var f = byId(events[i][0]);
      if (f) f.container.dispatchEvent(new CustomEvent(events[i][1], { bubbles: true, detail: events[i][2] }));
    }
  }

  function byId(id) {
    for (var i = 0; i < frames.length; i++) if (frames[i].id === id) return frames[i];
    return null;
  }

  function listen(on) {
    if (on && !listening) window.addEventListener("message", record);
    if (!on && listening) window.removeEventListener("message", record);
    listening = on;
  }

  function enqueue(entry) {
    queue.push(entry);
    if (consumer && !scheduled) {
      scheduled = true;
      setTimeout(drain, 0);
    }
  }

  function withQuery(url, query) {
    if (!query) return url;
    var hash = url.indexOf("#");
    var tail = hash === -1 ? "" : url.slice(hash);
    var head = hash === -1 ? url : url.slice(0, hash);
    return head + (head.indexOf("?") === -1 ? "?" : "&") + query + tail;
  }

  // ---- The mint request: built here and nowhere else ----------------------------------------
  // `mint` is data ({url, course, action, learner?, login_url? | login_token?}: the snippet's
  // attributes, or Embed(mint={...}) in Python, core/reconnect.py MintRequest). Every mint first
  // gets the learner's login: a fresh token from login_url (a same-origin GET with the site's
  // cookies, answering {"token"}), or the fixed login_token while it has not expired, or neither
  // (the host's server knows the learner from its own cookies). Then POST {course, action,
  // learner?} to url with `Authorization: Bearer <token>`. The learner is the server's answer's.
  var SIGN_IN = "Your sign-in has expired: sign in again to continue the course.";
  var SIGNED_OUT = "You are not signed in on this site: sign in again to continue the course.";

  // A failure retrying cannot help (the learner must sign in again, or is someone else): shown
  // once, never re-minted on its own.
  function refusal(sentence) {
    var error = new Error(sentence);
    error.final = true;
    return error;
  }

  function requestOf(el) {
    var mint = { url: el.getAttribute("data-mint-url"), course: el.getAttribute("data-course") || "",
                 action: el.getAttribute("data-coursewire") === "builder" ? "edit" : "view" };
    if (el.hasAttribute("data-learner")) mint.learner = el.getAttribute("data-learner");
    if (el.hasAttribute("data-login-url")) mint.login_url = el.getAttribute("data-login-url");
    if (el.hasAttribute("data-login-token")) mint.login_token = el.getAttribute("data-login-token");
    return mint;
  }

  // The `exp` a JWT's payload states (seconds), read without verifying: the server verifies; the
  // page only avoids sending a token it knows is dead. null when it cannot be read.
  function expiryOf(token) {
    var parts = String(token).split(".");
    if (parts.length !== 3) return null;
    try {
      var text = parts[1].replace(/-/g, "+").replace(/_/g, "/");
      var claims = JSON.parse(atob(text + "===".slice((text.length + 3) % 4)));
      return claims && typeof claims.exp === "number" ? claims.exp : null;
    } catch (e) {
      return null;
    }
  }

  function loginToken(mint) {
    if (mint.login_token) {
      var exp = expiryOf(mint.login_token);
      if (exp !== null && exp * 1000 <= Date.now()) return Promise.reject(refusal(SIGN_IN));
      return Promise.resolve(mint.login_token);
    }
    if (!mint.login_url) return Promise.resolve(null);
    var where;
    try {
      where = new URL(mint.login_url, location.href);
    } catch (e) {
      return Promise.reject(refusal("The page's login URL is not a URL."));
    }
    if (where.origin !== location.origin) {
      // The site's cookies and the learner's token stay on the site.
      return Promise.reject(refusal("The page's login URL must be on this site (" + location.origin + ")."));
    }
    return fetch(where.href, { method: "GET", credentials: "same-origin", cache: "no-store",
                               headers: { Accept: "application/json" } }).then(function (response) {
      if (response.status === 401 || response.status === 403) throw refusal(SIGNED_OUT);
      if (!response.ok) throw new Error("The site's login answered HTTP " + response.status + ".");
      return response.json().then(function (answer) {
        if (!answer || typeof answer.token !== "string" || !answer.token) throw new Error("no token");
        return answer.token;
      }).catch(function (error) {
        throw error && error.final ? error : new Error("The site's login answered no token.");
      });
    }, function () {
      throw new Error("The site's login did not answer; check the connection.");
    });
  }

  // Resolves with the server's answer, rejects with one sentence (final: do not retry).
  function requestUrl(f) {
    var mint = f.mint;
    return loginToken(mint).then(function (token) {
      var body = { course: mint.course, action: mint.action || "view" };
      if (mint.learner) body.learner = mint.learner;
      var headers = { "Content-Type": "application/json" };
      if (token) headers.Authorization = "Bearer " + token;
      return fetch(mint.url, {
        method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin", cache: "no-store",
      }).then(function (response) {
        return response.text().then(function (text) {
          var answer = null;
          try { answer = JSON.parse(text); } catch (e) { answer = null; }
          var reason = answer && typeof answer.error === "string" ? answer.error : "";
          if (response.status === 401) {
            throw refusal(reason ? "Sign in again to continue the course (" + reason.charAt(0).toLowerCase() +
                                   reason.slice(1).replace(/\.$/, "") + ")." : SIGN_IN);
          }
          // Another learner or course than the login's, the builder not allowed, another site:
          // asking again cannot change that.
          if (response.status === 403) throw refusal(reason || "The host's server refused to mint this course (HTTP 403).");
          if (!response.ok) throw new Error(reason || "The embed URL could not be minted (HTTP " + response.status + ").");
          if (!answer || typeof answer.url !== "string") throw new Error("The server's answer held no embed URL.");
          var learner = typeof answer.learner === "string" && answer.learner ? answer.learner : mint.learner;
          if (!learner) throw refusal("The server's answer did not say which learner the course is for.");
          if (f.learner && learner !== f.learner) {
            // data-learner, or the learner of this frame's first session: one frame, one record.
            throw refusal("The course was minted for another learner than this page's; reload the page.");
          }
          f.learner = learner;
          answer.learner = learner;
          return answer;
        });
      }, function () {
        throw new Error("The host's server did not answer the embed-URL request; check the connection.");
      });
    });
  }

  function showMintError(f, sentence) {
    var box = f.container.querySelector(".coursewire-mint-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "coursewire-mint-error";
      box.setAttribute("role", "alert");
      box.style.overflowWrap = "anywhere"; // a server's sentence may hold a long URL or id
      f.container.appendChild(box);
    }
    box.textContent = sentence; // text, never HTML: it comes from a server
    f.container.setAttribute("data-coursewire-mint-error", sentence);
  }

  function mintInto(f) {
    requestUrl(f).then(function (answer) {
      if (frames.indexOf(f) === -1) return; // unmounted meanwhile
      // The query (demo harness parameters) drives the first session only: a re-minted URL is a
      // fresh session, not the same scripted learner again.
      var iframe = makeIframe(withQuery(answer.url, f.iframe ? "" : f.query), f.title);
      if (f.iframe) f.container.replaceChild(iframe, f.iframe);
      else f.container.appendChild(iframe);
      f.iframe = iframe;
      f.win = iframe.contentWindow;
      var box = f.container.querySelector(".coursewire-mint-error");
      if (box) box.parentNode.removeChild(box);
      f.container.removeAttribute("data-coursewire-mint-error");
      enqueue([f.id, "", "minted", JSON.stringify(answer)]);
    }).catch(function (error) {
      if (frames.indexOf(f) === -1) return;
      var sentence = (error && error.message) || String(error);
      showMintError(f, sentence);
      enqueue([f.id, "", error && error.final ? "mint-refused" : "mint-failed", sentence]);
    });
  }

  function register(container, iframe, title, mint, query) {
    var f = { id: nextId++, iframe: iframe, win: iframe ? iframe.contentWindow : null, container: container,
              title: title, mint: mint, query: query || "", learner: mint && mint.learner ? mint.learner : null };
    frames.push(f);
    container.setAttribute("data-coursewire-frame", String(f.id));
    listen(true);
    return f;
  }

  function makeIframe(url, title) {
    // Only web URLs: a javascript: or data: "course" would run in (or spoof) the host page.
    var parsed = new URL(url, location.href);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      throw new Error("Coursewire: refusing to embed a non-web URL (" + parsed.protocol + ")");
    }
    var iframe = document.createElement("iframe");
    iframe.src = url;
    iframe.title = title || "Embedded course";
    iframe.setAttribute("allow", "fullscreen; autoplay; presentation; clipboard-write"); // as Coassemble's embed starter asks
    iframe.className = "coursewire-frame";
    iframe.width = "100%"; // attributes, not inline style: a host's CSS can still size it
    iframe.height = "560";
    return iframe;
  }

  window.coursewireBridge = {
    // Create the iframe in `container` and register it. Returns the frame id.
    mount: function (container, url, title) {
      var iframe = makeIframe(url, title);
      container.appendChild(iframe);
      return register(container, iframe, title, null).id;
    },
    // Ask the host's server for a signed URL as `mintJson` says (the mint request's data, JSON
    // text: see requestOf), then mount it in `container` (with `query` appended to the first URL:
    // the demo harness's parameters). Returns the frame id at once; "minted", "mint-failed" or
    // "mint-refused" follows in the queue.
    mint: function (container, mintJson, title, query) {
      var f = register(container, null, title, JSON.parse(mintJson), query);
      mintInto(f);
      return f.id;
    },
    // The mint request's data an element's attributes say (JSON text), or "" without data-mint-url.
    requestOf: function (el) {
      return el.getAttribute("data-mint-url") ? JSON.stringify(requestOf(el)) : "";
    },
    // Mint a fresh URL for frame `id` with the request it was mounted with (a fresh login token
    // first), and remount it.
    remint: function (id) {
      var f = byId(id);
      if (!f || !f.mint) return false;
      mintInto(f);
      return true;
    },
    // POST `text` to `url`; ["posted", [tag, status, Retry-After, answer text]] follows in the
    // queue (status 0: no answer). Python's outbox decides what the answer means (reply_rule).
    post: function (id, url, text, tag) {
      function posted(status, retryAfter, answer) {
        enqueue([id, "", "posted", JSON.stringify([tag, status, retryAfter || "", answer || ""])]);
      }
      if (hiding) { // answered as "no answer": retried if the page lives on; the beacon carries it now
        posted(0);
        return;
      }
      fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: text,
                   credentials: "same-origin", cache: "no-store", keepalive: text.length < 60000 })
        .then(function (response) {
          var retryAfter = response.headers.get("Retry-After");
          return response.text().then(function (answer) {
            posted(response.status, retryAfter, answer.length <= MAX_ANSWER_CHARS ? answer : "");
          }, function () { posted(response.status, retryAfter); });
        }, function () { posted(0); });
    },
    // The page is going away: hand `text` to the browser to deliver (text/plain: no preflight).
    beacon: function (url, text) {
      try {
        return navigator.sendBeacon(url, new Blob([text], { type: "text/plain;charset=UTF-8" }));
      } catch (e) {
        return false;
      }
    },
    // Call fn() when the page is hidden or left (pagehide, visibilitychange): the last moment to
    // save and to send what is unsent.
    // Messages still queued are handed to Python first: a reload right after a burst loses none.
    onHide: function (fn) {
      function hide() {
        hiding = true; // reports go by sendBeacon now (fn), not by fetch
        try { drainAll(); fn(); } finally { hiding = false; }
      }
      window.addEventListener("pagehide", hide);
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "hidden") hide();
      });
    },
    // A random id for this page's reports (32 hex digits; crypto works on http pages too).
    sessionId: function () {
      var bytes = crypto.getRandomValues(new Uint8Array(16));
      var hex = "";
      for (var i = 0; i < bytes.length; i++) hex += ("0" + bytes[i].toString(16)).slice(-2);
      return hex;
    },
    // The mint request's data frame `id` was mounted with (JSON text), or "" for a plain URL.
    mintOf: function (id) {
      var f = byId(id);
      return f && f.mint ? JSON.stringify(f.mint) : "";
    },
    // The frame id already mounted in `container` (by the page, before Python), or 0.
    mountedIn: function (container) {
      clearRuntimeError(container);
      var id = Number(container.getAttribute("data-coursewire-frame") || 0);
      return byId(id) ? id : 0;
    },
    // Replace the iframe of frame `id` with a fresh one (a new session), keeping its id.
    remount: function (id, url, title) {
      var f = byId(id);
      if (!f) return false;
      var iframe = makeIframe(url, title || f.title);
      if (f.iframe) f.container.replaceChild(iframe, f.iframe);
      else f.container.appendChild(iframe);
      f.iframe = iframe;
      f.win = iframe.contentWindow;
      return true;
    },
    // Remove the iframe and stop listening for it; the last one out removes the listener.
    unmount: function (id) {
      var f = byId(id);
      if (!f) return;
      frames.splice(frames.indexOf(f), 1);
      if (f.iframe && f.iframe.parentNode) f.iframe.parentNode.removeChild(f.iframe);
      f.container.removeAttribute("data-coursewire-frame");
      queue = queue.filter(function (entry) { return entry[0] !== id; });
      if (frames.length === 0) listen(false);
    },
    iframe: function (id) {
      var f = byId(id);
      return f ? f.iframe : null;
    },
    // The URL frame `id` shows ("" while its URL is being minted).
    src: function (id) {
      var f = byId(id);
      return f && f.iframe ? f.iframe.src : "";
    },
    // Python announces itself: everything held so far is handed over in one batch.
    connect: function (fn) {
      consumer = fn;
      listen(true);
      if (queue.length && !scheduled) {
        scheduled = true;
        setTimeout(drain, 0);
      }
    },
    // The first element `selector` matches, null when none does, or "invalid" for a selector the
    // browser cannot read: an answer, never an exception (MicroPython cannot catch a JavaScript
    // one; an invalid data-progress-target once stopped every later embed).
    find: function (selector) {
      try {
        return document.querySelector(selector);
      } catch (e) {
        return "invalid";
      }
    },
    // localStorage, with its exceptions (private mode, quota, sandbox) turned into an answer.
    // "read" answers "v" + the text, "n" (none) or "e" + the error's name: never JSON around
    // the text, since MicroPython's json.loads takes seconds to unescape a megabyte of record.
    storage: function (op, key, value) {
      try {
        var ls = window.localStorage;
        if (op === "read") {
          var text = ls.getItem(key);
          return text === null ? "n" : "v" + text;
        }
        if (op === "set") ls.setItem(key, value);
        else if (op === "remove") ls.removeItem(key);
        return "{}";
      } catch (e) {
        var name = (e && e.name) || String(e);
        return op === "read" ? "e" + name : JSON.stringify({ error: name });
      }
    },
  };

  // The snippet's elements start loading at once, before PyScript and Python (which adopt them):
  // data-src as given, or data-mint-url minted now. Python checks everything again and refuses
  // (and unmounts) what it does not accept; here only web URLs are ever embedded.
  function mountSnippetElements() {
    var nodes = document.querySelectorAll("[data-coursewire]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (el.hasAttribute("data-coursewire-frame") || el.hasAttribute("data-coursewire-defer") ||
          el.hasAttribute("data-coursewire-initialized")) continue;
      var builder = el.getAttribute("data-coursewire") === "builder";
      var title = builder ? "Course builder" : "Course";
      try {
        if (el.getAttribute("data-mint-url")) {
          window.coursewireBridge.mint(el, JSON.stringify(requestOf(el)), title, el.getAttribute("data-embed-query") || "");
        } else if (el.getAttribute("data-src")) {
          window.coursewireBridge.mount(el, el.getAttribute("data-src"), title);
        }
      } catch (e) {
        // A refused URL: Python says why on the element (data-coursewire-error).
      }
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountSnippetElements);
  else mountSnippetElements();

  // PyScript asks for the interpreter only once core.js has loaded and read the config, then for
  // the library's bundle and the snippet's entry one after the other. The snippet's files lie at
  // known places beside automount.py (coursewire/deploy.py lays them out; coursewire/bundle.py
  // names the bundle after the config), so ask for them all now, as the course is: they download
  // while PyScript starts. Only for our own entry and config; anything else is left to PyScript.
  var INTERPRETER_FILES = {
    mpy: ["micropython/micropython.mjs", "micropython/micropython.wasm"],
    py: ["pyodide/pyodide.mjs", "pyodide/pyodide.asm.mjs", "pyodide/pyodide.asm.wasm",
         "pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json"],
  };
  function preloadSnippetFiles() {
    var scripts = document.querySelectorAll("script[type='mpy'][src][config], script[type='py'][src][config]");
    for (var i = 0; i < scripts.length; i++) {
      var entry = scripts[i].src; // (resolved against the page)
      var base = entry.replace(/\/coursewire\/browser\/automount\.py$/, "/");
      var config = new URL(scripts[i].getAttribute("config"), document.baseURI).href;
      var runtime = scripts[i].type;
      var stem = runtime === "mpy" ? "mpy" : "pyscript";
      if (base === entry || config !== base + "coursewire/" + stem + ".toml") continue;
      var files = INTERPRETER_FILES[runtime].map(function (name) { return base + "runtime/" + name; });
      files.push(base + "coursewire/" + stem + "-coursewire.py", entry);
      var links = document.querySelectorAll("link[href]");
      var have = {};
      for (var j = 0; j < links.length; j++) have[links[j].href] = true; // what the host preloads already
      files.forEach(function (url) {
        if (have[url]) return;
        var link = document.createElement("link");
        link.rel = /\.mjs$/.test(url) ? "modulepreload" : "preload";
        if (link.rel === "preload") link.as = "fetch";
        link.crossOrigin = "anonymous"; // as PyScript's fetch() and import() ask: one download each
        link.href = url;
        document.head.appendChild(link);
      });
      return; // one runtime per page
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", preloadSnippetFiles);
  else preloadSnippetFiles();
})();
