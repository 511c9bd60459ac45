"""bench/run.py --quick works end to end: every figure is produced for both runtimes and the JS
floor, and no event is lost. Timings are never asserted (this machine's speed is not a test)."""

import json
import os
import subprocess
import sys

from serving import ROOT  # noqa: E402
FIGURES = ["iframe_requested", "listening", "burst", "screens10", "screens2500", "answers", "latency_p50",
           "latency_p95", "heap_growth", "wasm_growth"]
LOST = ["lost_starting", "lost_burst", "lost_workloads", "lost_stream", "lost_heap"]
PAGES = {"floor", "mpy", "py"}  # every figure
STARTUP_ONLY = {"bare-mpy", "bare-py", "snippet-mpy", "snippet-py", "snippet-mpyc"}  # the runtime's own floor, the snippet


def test_quick_bench_produces_every_figure_and_loses_nothing(tmp_path):
    output = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--quick",
                           "--output", str(output)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(output.read_text())
    assert set(result["figures"]) == PAGES | STARTUP_ONLY
    for target in PAGES:
        figures = result["figures"][target]
        for key in FIGURES:
            assert figures[key] is not None and isinstance(figures[key]["median"], (int, float)), (target, key)
        for key in LOST:
            assert figures[key]["max"] == 0, (target, key, result["raw"][target])
    for target in STARTUP_ONLY:
        assert isinstance(result["figures"][target]["listening"]["median"], (int, float)), target
    assert result["figures"]["snippet-mpy"]["lost_starting"]["max"] == 0
    assert result["figures"]["snippet-py"]["lost_starting"]["max"] == 0
    assert "JS floor" in done.stdout and "MicroPython" in done.stdout and "Pyodide" in done.stdout
    for row in ("2,500 screens / 10 screens", "answers / progress", "bare PyScript", "snippet/bare", "demo/bare",
                "mpy bytecode"):
        assert row in done.stdout, row
    assert not [n for n in result["notes"] if "page error" in n], result["notes"]
