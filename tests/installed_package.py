"""Coursewire installed as a user installs it: `pip install <checkout>` into a fresh virtual
environment in a temporary folder outside the checkout, made once per test session.

The checkout is copied first (the files git knows, tracked or not yet added, and a link to its
node_modules), so the build's `build/` and `*.egg-info` never land in the checkout and no earlier
build's leftovers can reach the wheel. pip reuses its own cache; `--no-build-isolation` builds with
the fresh venv's setuptools (pinned as in requirements-dev.txt), so nothing but the setuptools pin
and the package's own dependencies is fetched.
"""

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_made = {}  # one install per session, shared by every module that asks


class Installed:
    def __init__(self, venv, source):
        self.venv = venv
        self.source = source  # the copy of the checkout that was installed
        self.python = os.path.join(venv, "bin", "python")
        self.command = os.path.join(venv, "bin", "coursewire")

    def run(self, args, cwd, timeout=300, **kwargs):
        """Run `args` (the first one "coursewire" or "python" means the venv's) in `cwd`, with an
        environment that knows nothing of the checkout."""
        program = {"coursewire": self.command, "python": self.python}.get(args[0], args[0])
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(kwargs.pop("env", {}))
        return subprocess.run(
            [program] + list(args[1:]), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, **kwargs
        )


def pinned(name):
    """The version requirements-dev.txt pins `name` to."""
    with open(os.path.join(ROOT, "requirements-dev.txt"), encoding="utf-8") as f:
        for line in f:
            if line.split("==")[0].strip().lower() == name:
                return line.strip()
    raise LookupError(name)


def checkout_files():
    """Paths (relative to the checkout) of every file a clone would hold, plus files not yet added."""
    if os.path.isdir(os.path.join(ROOT, ".git")) or os.path.isfile(os.path.join(ROOT, ".git")):
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        return [p for p in done.stdout.decode().split("\0") if p and os.path.isfile(os.path.join(ROOT, p))]
    skip = {".venv", "node_modules", ".git", "build", "var", "test-artifacts", "__pycache__", ".pytest_cache"}
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
        found += [os.path.relpath(os.path.join(folder, f), ROOT) for f in files]
    return found


def copy_checkout(dest):
    for path in checkout_files():
        os.makedirs(os.path.join(dest, os.path.dirname(path)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, path), os.path.join(dest, path))
    os.symlink(os.path.join(ROOT, "node_modules"), os.path.join(dest, "node_modules"))


def install(tmp_path_factory):
    """The session's Installed (made on first call)."""
    if "installed" in _made:
        return _made["installed"]
    base = tmp_path_factory.mktemp("installed")
    source, venv = str(base / "checkout"), str(base / "venv")
    copy_checkout(source)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    steps = [
        [sys.executable, "-m", "venv", venv],
        [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q", pinned("setuptools")],
        [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q", "--no-build-isolation", source],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=str(base), env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, "%s failed:\n%s%s" % (step[-1], done.stdout[-3000:], done.stderr[-3000:])
    _made["installed"] = Installed(venv, source)
    return _made["installed"]
