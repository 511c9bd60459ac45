"""serve.py: two origins, the right types and headers, only what should be served, clear errors."""

import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request

from conftest import ROOT
from serving import free_port


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, b""


def test_runtime_files_have_the_types_browsers_require(servers):
    status, headers, _ = fetch(servers.app + "/runtime/pyodide/pyodide.mjs")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    status, headers, _ = fetch(servers.app + "/runtime/micropython/micropython.wasm")
    assert status == 200 and headers["Content-Type"] == "application/wasm"
    status, headers, _ = fetch(servers.app + "/runtime/pyscript/core.js")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"


def test_only_run_time_files_and_the_app_are_served(servers):
    for path in ("/node_modules/pyodide/package.json", "/runtime/pyodide/package.json",
                 "/runtime/pyscript/core.js.map", "/tests/conftest.py", "/.git/config",
                 "/serve.py", "/runtime/pyodide/../../package.json", "/app/../serve.py"):
        assert fetch(servers.app + path)[0] == 404, path
    for path in ("/", "/builder.html", "/app/embed.py", "/pyscript.toml", "/examples/host-site.html"):
        assert fetch(servers.app + path)[0] == 200, path


def test_the_harness_is_on_a_second_origin_with_its_own_files(servers):
    assert servers.harness.split(":")[1] != servers.app.split(":")[1]  # another host name
    assert fetch(servers.harness + "/player.html")[0] == 200
    assert fetch(servers.harness + "/index.html")[0] == 200
    assert fetch(servers.harness + "/app/embed.py")[0] == 404
    status, _, body = fetch(servers.app + "/config.js")
    assert status == 200 and servers.harness.encode() in body


def run_serve(args, env=None, script=os.path.join(ROOT, "serve.py")):
    return subprocess.run([sys.executable, script] + args, capture_output=True, text=True,
                          timeout=30, env=env)


def test_a_port_in_use_gets_one_sentence_not_a_traceback():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_serve(["--port", str(port), "--harness-port", str(free_port())])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "serve.py: Port %d on 127.0.0.1 is already in use: stop the program using it or pick "
        "another port with --port / --harness-port." % port)


def test_same_host_for_both_origins_is_refused():
    result = run_serve(["--host", "localhost", "--harness-host", "localhost"])
    assert result.returncode == 2 and "must differ" in result.stderr and "Traceback" not in result.stderr


def test_missing_runtime_without_npm_says_what_to_install(tmp_path):
    # A copy of serve.py with no node_modules beside it, on a PATH with no npm.
    shutil.copy(os.path.join(ROOT, "serve.py"), tmp_path / "serve.py")
    env = dict(os.environ, PATH=str(tmp_path))
    result = run_serve([], env=env, script=str(tmp_path / "serve.py"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "npm was not found" in result.stderr and "apt-get install -y npm" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ctrl_c_stops_both_servers_cleanly():
    app_port, harness_port = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "serve.py"), "--port", str(app_port),
                             "--harness-port", str(harness_port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert "Coursewire:" in line
    proc.send_signal(subprocess.signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err
    for port in (app_port, harness_port):
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # free again
