// Page start-up, before any Python: pick the runtime, start loading the course at once (the
// bridge holds its messages until Python is ready), then load PyScript with the page's Python.
// Used by index.html (data-page="player") and builder.html (data-page="builder").
(function () {
  "use strict";
  var root = document.documentElement;
  var params = new URLSearchParams(location.search);
  var runtime = params.get("runtime") === "mpy" ? "mpy" : "py";
  var page = root.getAttribute("data-page");
  root.setAttribute("data-runtime", runtime);

  if (runtime === "py") {
    // Pyodide's big files are requested only after PyScript and pyodide.mjs have loaded; ask now.
    ["pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json", "pyodide.asm.mjs"].forEach(function (name) {
      var link = document.createElement("link");
      link.rel = name.slice(-4) === ".mjs" ? "modulepreload" : "preload";
      if (link.rel === "preload") {
        link.as = "fetch";
        link.crossOrigin = "anonymous";
      }
      link.href = "runtime/pyodide/" + name;
      document.head.appendChild(link);
    });
  }

  var container = document.getElementById("course-frame");
  var harness = (window.coursewireConfig || {}).harnessOrigin || "";
  var src = params.get("src");
  if (!src) {
    // The demo harness; the page's other parameters (script=, speed=, burst= ...) drive it.
    var forwarded = new URLSearchParams(location.search);
    ["runtime", "src", "back"].forEach(function (key) { forwarded.delete(key); });
    var query = forwarded.toString();
    src = harness + (page === "builder" ? "/builder.html" : "/player.html") + (query ? "?" + query : "");
  }
  try {
    coursewireBridge.mount(container, src, page === "builder" ? "Course builder" : "Course");
  } catch (error) {
    container.setAttribute("data-mount-error", error.message);
  }

  var script = document.createElement("script");
  script.type = runtime;
  script.src = "app/page_" + page + ".py";
  script.setAttribute("config", runtime === "mpy" ? "mpy.toml" : "pyscript.toml");
  document.body.appendChild(script);
  var core = document.createElement("script");
  core.type = "module";
  core.src = "runtime/pyscript/core.js";
  document.head.appendChild(core);
})();
