"""The installable package: the wheel `python -m build` makes, and `pip install <checkout>` into a
fresh virtual environment outside the checkout (tests/installed_package.py), used from a folder
that is not the checkout: the import, the `coursewire` command and its subcommands, the build it
writes, and the routes `coursewire serve` answers. (The static build from the installed package is
played in Chromium by tests/browser/test_static_build.py.)"""

import filecmp
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile

import pytest

from coursewire import deploy

import installed_package
from serving import ROOT, free_port


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    return installed_package.install(tmp_path_factory)


@pytest.fixture
def elsewhere(tmp_path):
    """A working folder that is not the checkout (and not under it)."""
    assert not str(tmp_path).startswith(ROOT + os.sep)
    return str(tmp_path)


def test_import_and_command_come_from_the_installed_package(installed, elsewhere):
    done = installed.run(
        [
            "python",
            "-c",
            "import coursewire, coursewire.server.wsgi, sys; "
            "print(coursewire.__file__); print(coursewire.server.wsgi.application.__module__)",
        ],
        cwd=elsewhere,
    )
    assert done.returncode == 0, done.stderr
    module_file, module = done.stdout.split()
    assert module_file.startswith(installed.venv + os.sep) and module == "coursewire.server.wsgi"
    assert os.path.isfile(installed.command)


def test_importing_the_routes_loads_no_database_driver_and_the_package_nothing(installed, elsewhere):
    # What keeps `import coursewire.server.wsgi` light: PostgreSQL's driver only when a
    # postgresql:// URL is opened; and `import coursewire` (shipped to browsers too) imports nothing.
    done = installed.run(
        [
            "python",
            "-c",
            "import sys; before = set(sys.modules); import coursewire; "
            "print(sorted(set(sys.modules) - before)); import coursewire.server.wsgi; "
            "print('psycopg' in sys.modules)",
        ],
        cwd=elsewhere,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["['coursewire']", "False"]


def test_every_command_has_help_and_python_m_is_the_same_command(installed, elsewhere):
    top = installed.run(["coursewire", "--help"], cwd=elsewhere)
    assert top.returncode == 0 and "build" in top.stdout and "serve" in top.stdout
    assert installed.run(["python", "-m", "coursewire", "--help"], cwd=elsewhere).stdout == top.stdout
    build = installed.run(["coursewire", "build", "--help"], cwd=elsewhere)
    assert build.returncode == 0 and "--base-url" in build.stdout and "--runtime" in build.stdout
    serve = installed.run(["coursewire", "serve", "--help"], cwd=elsewhere)
    assert serve.returncode == 0 and "--port" in serve.stdout
    assert "gunicorn --workers 2 --bind 0.0.0.0:8000 'coursewire.server.wsgi:application()'" in serve.stdout


@pytest.mark.parametrize(
    "args, sentence",
    [
        ([], "coursewire: Name a command: build, serve, reconcile, worker, erase, purge, webhooks (see --help)."),
        (
            ["frob"],
            "coursewire: Argument COMMAND: invalid choice: 'frob' (choose from 'build', 'serve', 'reconcile', "
            "'worker', 'erase', 'purge', 'webhooks') (see --help).",
        ),
        (["build", "out"], "coursewire: The following arguments are required: --base-url (see --help)."),
        (["build", "out", "--base-url", "ftp://cdn.example/"], "coursewire: --base-url must be the http(s) URL"),
        (
            ["build", "out", "--base-url", "https://cdn.example/", "--runtime", "js"],
            "coursewire: Argument --runtime: invalid choice",
        ),
        (["serve", "--port", "70000"], "coursewire: --port must be between 0 and 65535 (see --help)."),
        (["serve", "--port", "x"], "coursewire: Argument --port: invalid int value: 'x' (see --help)."),
        (["reconcile", "--since", "yesterday"], "coursewire: --since must be an ISO 8601 time"),
        (["reconcile", "--course", "<b>"], "coursewire: --course must be at most 128 letters"),
        (["worker", "--poll", "0"], "coursewire: --poll and --lease must be above 0 and --sweep-every 0 or more."),
    ],
)
def test_command_line_mistakes_get_one_sentence(installed, elsewhere, args, sentence):
    done = installed.run(["coursewire"] + args, cwd=elsewhere)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(sentence), done.stderr


def test_build_will_not_write_into_a_folder_of_other_files(installed, elsewhere):
    os.makedirs(os.path.join(elsewhere, "site"))
    with open(os.path.join(elsewhere, "site", "keep.txt"), "w") as f:
        f.write("mine")
    done = installed.run(["coursewire", "build", "site", "--base-url", "https://cdn.example/"], cwd=elsewhere)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "coursewire: site is not empty and holds no earlier Coursewire build; choose a new or empty folder."
    )
    assert os.listdir(os.path.join(elsewhere, "site")) == ["keep.txt"]


def test_the_installed_build_is_the_checkouts_build(installed, elsewhere, tmp_path_factory):
    # Built from the installed package alone (the runtime it ships), with no checkout and no npm on
    # PATH, file for file what serve.py writes from the checkout and node_modules.
    bare_path = os.path.dirname(installed.python)
    done = installed.run(
        ["coursewire", "build", "dist", "--base-url", "https://cdn.example/lms/"],
        cwd=elsewhere,
        env={"PATH": bare_path},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Wrote ") and "https://cdn.example/lms/coursewire/mpy.toml" in done.stdout
    reference = str(tmp_path_factory.mktemp("checkout-build"))
    made = subprocess.run(
        [sys.executable, os.path.join(ROOT, "serve.py"), "build", reference, "--base-url", "https://cdn.example/lms/"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    ours = os.path.join(elsewhere, "dist")
    files = sorted(os.path.relpath(os.path.join(d, f), ours) for d, _, fs in os.walk(ours) for f in fs)
    theirs = sorted(os.path.relpath(os.path.join(d, f), reference) for d, _, fs in os.walk(reference) for f in fs)
    assert files == theirs
    match, mismatch, errors = filecmp.cmpfiles(ours, reference, files, shallow=False)
    assert not mismatch and not errors
    assert "runtime/pyodide/pyodide.asm.wasm" in files and "coursewire/browser/bridge.js" in files


def test_the_wheel_holds_the_library_and_the_runtime_and_nothing_of_the_demo(installed, tmp_path):
    # `python -m build`: the sdist, then the wheel built from that sdist (as a package index gets them).
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), installed.source],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    wheel = [name for name in os.listdir(tmp_path) if name.endswith(".whl")]
    assert wheel == ["coursewire-0.1.0-py3-none-any.whl"]
    names = set(zipfile.ZipFile(os.path.join(tmp_path, wheel[0])).namelist())
    for path in deploy.library_paths():  # everything a static build needs from the library
        assert path in names, path
    for path in deploy.runtime_paths(("py", "mpy")):
        assert "coursewire/_runtime/" + path[len("runtime/") :] in names, path
    assert {
        "coursewire/cli.py",
        "coursewire/__main__.py",
        "coursewire/deploy.py",
        "coursewire/server/wsgi.py",
        "coursewire/py.typed",
        "coursewire/_runtime/pyodide/package.json",
        "coursewire/_runtime/pyscript/LICENSE",
    } <= names
    assert not [
        n for n in names if n.startswith(("app/", "harness/", "tests/", "bench/", "examples/", "node_modules/"))
    ]
    assert not [n for n in names if n.endswith(".map") or "codemirror" in n or "xterm" in n]
    with zipfile.ZipFile(os.path.join(tmp_path, wheel[0])) as z:
        entry_points = z.read("coursewire-0.1.0.dist-info/entry_points.txt").decode()
        metadata = z.read("coursewire-0.1.0.dist-info/METADATA").decode()
    assert "coursewire = coursewire.cli:main" in entry_points
    assert "Provides-Extra: postgres" in metadata and "extra == \"postgres\"" in metadata


def answer(url, body=None, headers=None):
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_coursewire_serve_answers_the_routes_and_stops_cleanly(installed, elsewhere):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COASSEMBLE_", "COURSEWIRE_", "DATABASE_URL"))}
    env.pop("PYTHONPATH", None)
    env["COURSEWIRE_ADMIN_TOKEN"] = "serve-test-admin-token"
    log_path = os.path.join(elsewhere, "serve.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [installed.command, "serve", "--port", str(port)],
            cwd=elsewhere,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    origin = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + 60
        while True:  # until it answers (or has exited, which fails below)
            try:
                status, payload = answer(origin + "/api/records?course=101")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, open(log_path).read()
                time.sleep(0.1)
        assert status == 401 and "error" in payload
        status, payload = answer(
            origin + "/api/records?course=101", headers={"Authorization": "Bearer serve-test-admin-token"}
        )
        assert status == 200 and payload["records"] == []
        status, payload = answer(origin + "/api/events", b"{}", {"Content-Type": "application/json"})
        assert status == 401 and payload == {"error": "The batch has no report token."}
        status, payload = answer(origin + "/webhooks/coassemble", b"{}", {"Content-Type": "application/json"})
        assert status == 503 and "error" in payload  # no webhook secret configured: says so
    finally:
        proc.terminate()
        proc.wait(30)
    output = open(log_path).read()
    assert proc.returncode == 0 and "Traceback" not in output and "Stopping." in output
    assert "Learner record: SQLite database %s" % os.path.join(elsewhere, "coursewire.sqlite3") in output
    assert os.path.isfile(os.path.join(elsewhere, "coursewire.sqlite3"))
