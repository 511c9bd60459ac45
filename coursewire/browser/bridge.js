// Coursewire's only JavaScript on the message path: a listener that exists before Python does.
//
// Why it exists:
//  - The course iframe starts loading at once, long before the Python runtime has booted, so
//    messages must be held until Python is ready (none may be lost in between).
//  - Comparing event.source with an iframe's window from Python costs ~0.7 ms a message on
//    Pyodide (it probes the Window proxy); here it is one `===`.
//  - Python is called once per batch of messages, not once per message.
// What it does NOT do: decide. Every message (trusted or not) is handed to Python with its origin
// and the id of the registered frame it came from (or -1); Python checks the origin, parses,
// validates and rejects with a reason. Python hands back the DOM events to dispatch.
(function () {
  "use strict";
  if (window.coursewireBridge) return; // loaded twice (page script + PyScript js_modules): keep one

  var frames = []; // [{id, iframe, win, container}]
  var nextId = 1;
  var queue = []; // [frameId, origin, form, payload]: form "text" | "json" | "opaque" | "large" (core/session.py)
  var consumer = null; // Python callable(batchJson) -> domEventsJson
  var scheduled = false;
  var listening = false;
  var MAX_TEXT = 65536; // coursewire/core/wire.py MAX_MESSAGE_CHARS
  var SLICE = 100; // messages per Python call (~15-40 ms of work on a 2-core machine)

  function frameIdOf(source) {
    for (var i = 0; i < frames.length; i++) if (frames[i].win === source) return frames[i].id;
    return -1;
  }

  function record(event) {
    var data = event.data;
    var entry = [frameIdOf(event.source), event.origin, "text", data];
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
      // Python refuses it for its size anyway (protocol.MAX_MESSAGE_CHARS), and parsing megabytes
      // of batch JSON takes MicroPython seconds: hand over its length and its start only.
      entry[2] = "large";
      entry[3] = [entry[3].length, entry[3].slice(0, 300)];
    }
    queue.push(entry);
    if (consumer && !scheduled) {
      scheduled = true;
      setTimeout(drain, 0); // one Python call for everything that arrives before this task runs
    }
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

  // MicroPython's JS-to-Python string conversion mangles characters outside the BMP (emoji):
  // hand Python ASCII-only JSON, every other character as a \uXXXX escape, decoded in Python.
  function asciiJson(value) {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, function (c) {
      return "\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4);
    });
  }

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
      var f = { id: nextId++, iframe: iframe, win: iframe.contentWindow, container: container };
      frames.push(f);
      container.setAttribute("data-coursewire-frame", String(f.id));
      listen(true);
      return f.id;
    },
    // The frame id already mounted in `container` (by the page, before Python), or 0.
    mountedIn: function (container) {
      var id = Number(container.getAttribute("data-coursewire-frame") || 0);
      return byId(id) ? id : 0;
    },
    // Replace the iframe of frame `id` with a fresh one (a new session), keeping its id.
    remount: function (id, url, title) {
      var f = byId(id);
      if (!f) return false;
      var iframe = makeIframe(url, title || f.iframe.title);
      f.container.replaceChild(iframe, f.iframe);
      f.iframe = iframe;
      f.win = iframe.contentWindow;
      return true;
    },
    // Remove the iframe and stop listening for it; the last one out removes the listener.
    unmount: function (id) {
      var f = byId(id);
      if (!f) return;
      frames.splice(frames.indexOf(f), 1);
      if (f.iframe.parentNode) f.iframe.parentNode.removeChild(f.iframe);
      f.container.removeAttribute("data-coursewire-frame");
      queue = queue.filter(function (entry) { return entry[0] !== id; });
      if (frames.length === 0) listen(false);
    },
    iframe: function (id) {
      var f = byId(id);
      return f ? f.iframe : null;
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
    // localStorage, with its exceptions (private mode, quota, sandbox) turned into an answer.
    storage: function (op, key, value) {
      try {
        var ls = window.localStorage;
        if (op === "get") return JSON.stringify({ value: ls.getItem(key) });
        if (op === "set") ls.setItem(key, value);
        else if (op === "remove") ls.removeItem(key);
        return "{}";
      } catch (e) {
        return JSON.stringify({ error: (e && e.name) || String(e) });
      }
    },
  };
})();
