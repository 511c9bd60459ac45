// Page start-up, before any Python: pick the runtime, start loading the course at once (the
// bridge holds its messages until Python is ready), then load PyScript with the page's Python.
// Used by index.html (data-page="player"), builder.html (data-page="builder") and report.html
// (data-page="report", which embeds no course).
// The demo pages' calls into the DOM that would cost Python one call per node (or that Python
// cannot make the same way on both runtimes); defined here, before any Python runs, so no page
// fetches another file for them. Text goes in through textContent only, never as markup.
(function () {
  "use strict";
  var two = function (n) { return (n < 10 ? "0" : "") + n; };
  window.coursewirePage = {
    // Saves text as a file through a Blob URL (a data: URL is capped at 2 MB by Chromium),
    // revoked once the download has had time to start.
    save: function (filename, mime, text) {
      var url = URL.createObjectURL(new Blob([text], {type: mime + ";charset=utf-8"}));
      var link = document.createElement("a");
      link.href = url;
      link.download = filename;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    },
    // Adds a batch's new rows to the course page's quiz table in one call: built cell by cell from
    // Python, a row took ~50 calls between Python and JavaScript, which made an answer cost ~4
    // times any other event (bench/run.py, "quiz answers"). rows: [seq, event, result, cells].
    addQuizRows: function (body, rowsJson, labels, max, below) {
      var rows = JSON.parse(rowsJson), names = JSON.parse(labels), fragment = document.createDocumentFragment();
      for (var i = 0; i < rows.length; i++) {
        var row = document.createElement("tr"), cells = rows[i][3];
        row.setAttribute("data-quiz-entry", String(rows[i][0]));
        row.setAttribute("data-event", rows[i][1]);
        row.setAttribute("data-result", rows[i][2]);
        var date = cells[0] ? new Date(cells[0]) : null;  // the viewer's local time
        cells[0] = date && !isNaN(date) ? two(date.getHours()) + ":" + two(date.getMinutes()) + ":" +
          two(date.getSeconds()) : "\u2014";
        for (var j = 0; j < cells.length; j++) {
          var cell = document.createElement("td");
          cell.textContent = cells[j];
          cell.className = names[j].toLowerCase();
          cell.setAttribute("data-label", names[j]);  // the column name, shown on narrow screens
          row.appendChild(cell);
        }
        fragment.appendChild(row);
      }
      if (below) body.append(fragment); else body.prepend(fragment);
      while (body.childElementCount > max) body.lastElementChild.remove();
    },
    // fn when the page is next idle, or after ms at the latest (Safari has no requestIdleCallback).
    whenIdle: function (fn, ms) {
      if (window.requestIdleCallback) window.requestIdleCallback(function () { fn(); }, {timeout: ms});
      else window.setTimeout(function () { fn(); }, ms);
    }
  };
})();

(function () {
  "use strict";
  var root = document.documentElement;
  var params = new URLSearchParams(location.search);
  var runtime = params.get("runtime") === "mpy" ? "mpy" : "py";
  var page = root.getAttribute("data-page");
  var DEMO_COURSE = "101"; // the harness's course, "Secure Passwords 101"
  var DEMO_LEARNER = "ada";
  root.setAttribute("data-runtime", runtime);
  var runtimeField = document.getElementById("runtime-field"); // report.html's form keeps it
  if (runtimeField) runtimeField.value = runtime;

  if (page !== "report") mountCourse();

  // ?src= is for trying a course by hand: anyone can make a link with it, so the page says plainly,
  // above the course, that this course is not one this site's server minted and that the page
  // trusts its messages all the same (none of them reach the server's learner record).
  function markUntrusted(slot, url) {
    var origin = new URL(url, location.href).origin;
    var note = document.createElement("p");
    note.id = "untrusted-source";
    note.className = "untrusted-source";
    note.setAttribute("data-origin", origin);
    var strong = document.createElement("strong");
    strong.textContent = "Untrusted demo source: ";
    note.appendChild(strong);
    note.appendChild(document.createTextNode(
      "this course comes from the link's ?src= (" + origin + "), not from this site's server. " +
      "The page believes what it posts; nothing it sends reaches the learner record."));
    slot.parentNode.insertBefore(note, slot);
  }

  // The runtime's files are requested only once PyScript (and, for Pyodide, pyodide.mjs) has
  // loaded and read its config; ask for them now, after the course, so both download together.
  var files = runtime === "py"
    ? ["pyodide/pyodide.asm.wasm", "pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json",
       "pyodide/pyodide.mjs", "pyodide/pyodide.asm.mjs"]
    : ["micropython/micropython.wasm", "micropython/micropython.mjs"];
  files = files.map(function (name) { return "runtime/" + name; });
  // And what PyScript fetches next, one after the other once the interpreter is up: the config's
  // bundles (coursewire/bundle.py names them after the config) and the page's script.
  var stem = runtime === "mpy" ? "mpy" : "pyscript";
  files.push(stem + "-coursewire.py", stem + "-app.py", "app/page_" + page + ".py");
  files.forEach(function (path) {
    var link = document.createElement("link");
    link.rel = path.slice(-4) === ".mjs" ? "modulepreload" : "preload";
    if (link.rel === "preload") {
      link.as = "fetch";
      link.crossOrigin = "anonymous";
    }
    link.href = path;
    document.head.appendChild(link);
  });

  var script = document.createElement("script");
  script.type = runtime;
  script.src = "app/page_" + page + ".py";
  script.setAttribute("config", runtime === "mpy" ? "mpy.toml" : "pyscript.toml");
  document.body.appendChild(script);
  var core = document.createElement("script");
  core.type = "module";
  core.src = "runtime/pyscript/core.js";
  document.head.appendChild(core);

  function mountCourse() {
    // The course first: it must not wait for anything of ours. The page asks this site's server
    // for a signed embed URL (POST /api/embed-url, as a host's page would) with a login for the
    // learner picked in the header; ?src=URL embeds a URL as given instead.
    var container = document.getElementById("course-frame");
    var title = page === "builder" ? "Course builder" : "Course";
    var learner = params.get("learner") || DEMO_LEARNER;
    root.setAttribute("data-learner", learner);
    var src = params.get("src");
    try {
      if (src) {
        coursewireBridge.mount(container, src, title);
        markUntrusted(container, src);
      } else {
        // The page's other parameters (script=, speed=, burst= ...) drive the demo harness.
        var forwarded = new URLSearchParams(location.search);
        ["runtime", "src", "back", "learner"].forEach(function (key) { forwarded.delete(key); });
        // The learner signs in through serve.py's demo login (a real host's page points
        // login_url at its own login); bridge.js asks it for a fresh token before every mint.
        var builder = page === "builder";
        coursewireBridge.mint(container, JSON.stringify({
          url: "api/embed-url", course: DEMO_COURSE, learner: learner, action: builder ? "edit" : "view",
          login_url: "demo/login?learner=" + encodeURIComponent(learner) + (builder ? "&edit=1" : ""),
        }), title, forwarded.toString());
      }
    } catch (error) {
      container.setAttribute("data-mount-error", error.message);
    }
  }
})();
