// Runs bench/profile_core.py on MicroPython or Pyodide in Node (the npm packages the pages load),
// with coursewire/ and app/ copied into the interpreter's file system. Prints its JSON line.
//   node bench/profile_core.mjs mpy|py [events=5000] [repeats=3]
// Each repeat is a fresh interpreter; prints the median per stage [min-max] and the JSON.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const [runtime = "mpy", events = "5000", repeats = "3"] = process.argv.slice(2);
if (!["mpy", "py"].includes(runtime) || !(Number(events) > 0) || !(Number(repeats) > 0)) {
  console.error("usage: node bench/profile_core.mjs mpy|py [events] [repeats]");
  process.exit(2);
}

async function load() {
  if (runtime === "mpy") {
    const { loadMicroPython } = await import(join(root, "node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs"));
    return loadMicroPython({ stdout: (line) => out.push(line), stderr: (line) => console.error(line) });
  }
  const { loadPyodide } = await import(join(root, "node_modules/pyodide/pyodide.mjs"));
  const py = await loadPyodide({ stdout: (line) => out.push(line), stderr: (line) => console.error(line) });
  return py;
}

function copy(FS, from, to) {
  FS.mkdir(to);
  for (const name of readdirSync(from)) {
    const path = join(from, name);
    if (statSync(path).isDirectory()) {
      if (name !== "server" && name !== "__pycache__") copy(FS, path, to + "/" + name);
    } else if (name.endsWith(".py")) {
      FS.writeFile(to + "/" + name, readFileSync(path, "utf8"));
    }
  }
}

// A fresh interpreter with the library, the demo's app/ and profile_core.py in its file system.
async function prepared() {
  const interpreter = await load();
  // CPU time, not wall time: other processes on the machine do not count (profile_core.py).
  interpreter.registerJsModule("bench_clock", { cpu_ms: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } });
  interpreter.FS.mkdir("/profile");
  copy(interpreter.FS, join(root, "coursewire"), "/profile/coursewire");
  copy(interpreter.FS, join(root, "app"), "/profile/app"); // the quiz rows' words (app/present.py)
  interpreter.FS.writeFile("/profile/profile_core.py", readFileSync(join(root, "bench", "profile_core.py"), "utf8"));
  return interpreter;
}

const out = [];
const runs = [];
for (let r = 0; r < Number(repeats); r++) {
  out.length = 0;
  const interpreter = await prepared();
  try {
    interpreter.runPython(`import sys\nsys.path.insert(0, "/profile")\nimport profile_core\nprofile_core.main(${Number(events)})`);
  } catch (error) { // a Python error: its message only (the module's source would follow it)
    console.error(String(error.message || error).slice(-2000));
    process.exit(1);
  }
  const run = JSON.parse(out.join("\n"));
  // The page's shape: one call from JavaScript per batch, per record save, per outbox save
  // (profile_core.py's PerCall): what MicroPython's collections between calls cost.
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  for (const kind of run.workloads) {
    for (const stage of ["floor, per call", "pipeline, per call"]) {
      const fresh = await prepared(); // a heap as a page's: nothing else has run in it
      fresh.runPython(`import gc\nimport sys\nsys.path.insert(0, "/profile")\nimport profile_core\n_per_call = profile_core.PerCall("${kind}", ${Number(events)})`);
      const calls = fresh.globals.get("_per_call");
      const texts = JSON.parse(calls.batch_texts());
      fresh.runPython("gc.collect()");
      const start = cpu();
      for (let b = 0; b < texts.length; b++) {
        if (stage.startsWith("floor")) {
          calls.floor_batch(texts[b]);
          continue;
        }
        calls.batch(texts[b]);
        calls.save();
        if ((b + 1) % 10 === 0) calls.outbox_save();
      }
      if (!stage.startsWith("floor")) calls.end();
      run.stages[kind][stage] = cpu() - start;
    }
  }
  run.order.push("floor, per call", "pipeline, per call");
  runs.push(run);
}
// Median per stage over the repeats, with min and max.
const stages = {};
for (const kind of runs[0].workloads) {
  stages[kind] = {};
  for (const stage of runs[0].order) {
    const values = runs.map((run) => run.stages[kind][stage]).sort((a, b) => a - b);
    stages[kind][stage] = { median: values[Math.floor(values.length / 2)], min: values[0], max: values[values.length - 1] };
  }
}
// A table (median [min-max] ms of CPU time), then the JSON on one line.
const kinds = runs[0].workloads;
const pad = (text, n) => String(text).padEnd(n);
console.log(`${runs[0].runtime}, ${Number(events).toLocaleString("en")} events a workload, ${runs.length} fresh interpreters; ms of CPU time`);
console.log(pad("stage", 22) + kinds.map((kind) => pad(kind, 20)).join(""));
for (const stage of runs[0].order) {
  const cell = (s) => s.min === s.max ? s.median.toFixed(0) : `${s.median.toFixed(0)} [${s.min.toFixed(0)}-${s.max.toFixed(0)}]`;
  console.log(pad(stage, 22) + kinds.map((kind) => pad(cell(stages[kind][stage]), 20)).join(""));
}
console.log(JSON.stringify({ runtime: runs[0].runtime, events: Number(events), repeats: runs.length,
                              workloads: runs[0].workloads, order: runs[0].order, stages }));
