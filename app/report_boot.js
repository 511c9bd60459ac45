// report.html start-up, before any Python: pick the runtime (?runtime=mpy for MicroPython), keep
// it across the course form, then load PyScript with the page's Python. (The course pages have
// their own boot.js, which also mounts the course iframe; this page embeds no course.)
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var runtime = params.get("runtime") === "mpy" ? "mpy" : "py";
  document.documentElement.setAttribute("data-runtime", runtime);
  document.getElementById("runtime-field").value = runtime;

  // Ask for the runtime's big files now, beside PyScript's own start chain.
  var files = runtime === "py"
    ? ["pyodide/pyodide.asm.wasm", "pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json",
       "pyodide/pyodide.mjs", "pyodide/pyodide.asm.mjs"]
    : ["micropython/micropython.wasm", "micropython/micropython.mjs"];
  files.forEach(function (name) {
    var link = document.createElement("link");
    link.rel = name.slice(-4) === ".mjs" ? "modulepreload" : "preload";
    if (link.rel === "preload") {
      link.as = "fetch";
      link.crossOrigin = "anonymous";
    }
    link.href = "runtime/" + name;
    document.head.appendChild(link);
  });

  var script = document.createElement("script");
  script.type = runtime;
  script.src = "app/page_report.py";
  script.setAttribute("config", runtime === "mpy" ? "mpy.toml" : "pyscript.toml");
  document.body.appendChild(script);
  var core = document.createElement("script");
  core.type = "module";
  core.src = "runtime/pyscript/core.js";
  document.head.appendChild(core);
})();
