"""The library in one fetch: each package a config ships, as one Python file.

PyScript fetches every `[files]` entry of a config before it runs any Python, and a page of ours
lists 19 (snippet) to 35 (demo) files: over HTTP/1.1 that is six at a time, after the interpreter
has started, on every cold load. A bundle is one generated file per package (`coursewire`, and
`app` on the demo pages) that the served config loads as that package's `__init__.py`; importing
the package writes its modules beside it, from string literals, and the original `__init__.py`
runs after. Host code does not change: `from coursewire.browser.embed import Embed` imports the
package first, as ever. Both runtimes take the same bundle (plain files and `open`).

Measured (bench/README.md, "Start-up in one fetch"): PyScript's own archive route (a `.zip`
entry with a `/*` destination) fetches earlier but listens later on MicroPython, since it loads
zip.js (160 KB) and inflates entry by entry.

The source configs keep listing every file (what ships, checked against what the pages import by
tests/tooling/test_configs.py); `bundled_config` rewrites a config's `[files]` table when it is
served (serve.py) or built (`coursewire build`). The bytecode build keeps one `.mpy` per module.
"""

import os
import posixpath
import re
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs first in each bundle, in the Python MicroPython and CPython share. Files are written as
# bytes (MicroPython's text `open` takes no encoding); a folder made twice is fine.
_UNPACK = '''def _unpack(sources):
    import os

    here = __file__.rsplit("/", 1)[0]
    made = set()
    for path, text in sources.items():
        folder = path.rsplit("/", 1)[0]
        if "/" in path and folder not in made:
            try:
                os.mkdir(here + "/" + folder)
            except OSError:
                pass
            made.add(folder)
        with open(here + "/" + path, "wb") as f:
            f.write(text.encode())


'''


def _files(config_path: str) -> dict[str, str]:
    """A config's `[files]`: project-relative source path -> destination (relative to the page)."""
    with open(os.path.join(ROOT, config_path), "rb") as f:
        parsed = tomllib.load(f)
    base = posixpath.dirname(config_path)
    return {posixpath.normpath(posixpath.join(base, source)): dest for source, dest in parsed.get("files", {}).items()}


def bundle_path(config_path: str, package: str) -> str:
    """Where the bundle of `package` for a config is served: beside the config, named after both
    ("coursewire/mpy.toml", "coursewire" -> "coursewire/mpy-coursewire.py")."""
    folder, name = posixpath.split(config_path)
    return posixpath.join(folder, "%s-%s.py" % (name.rsplit(".", 1)[0], package))


def config_of(path: str) -> str | None:
    """The config a bundle path belongs to, by its name ("coursewire/mpy-coursewire.py" ->
    "coursewire/mpy.toml"), or None when the path cannot name a bundle."""
    folder, name = posixpath.split(path)
    if not name.endswith(".py") or "-" not in name:
        return None
    return posixpath.join(folder, name.split("-", 1)[0] + ".toml")


def bundles(config_path: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The bundles a config is served with: bundle path -> (the package's `__init__.py`
    destination, {path inside the package: project-relative source path})."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for source, dest in _files(config_path).items():
        match = re.match(r"^\./([A-Za-z_]\w*)/(.+)$", dest)
        if not match or not source.endswith(".py"):
            raise ValueError("%s: %s is not a module inside a package folder" % (config_path, dest))
        package, inner = match.groups()
        path = bundle_path(config_path, package)
        found.setdefault(path, ("./%s/__init__.py" % package, {}))[1][inner] = source
    for path, (init, members) in found.items():
        if "__init__.py" not in members:
            raise ValueError("%s: %s ships no %s" % (config_path, path, init))
    return found


def bundle_text(members: dict[str, str]) -> str:
    """One bundle's Python: write every module but `__init__.py`, then run `__init__.py`'s own code."""
    sources = {}
    for inner, source in sorted(members.items()):
        with open(os.path.join(ROOT, source), encoding="utf-8") as f:
            sources[inner] = f.read()
    init = sources.pop("__init__.py")
    literal = "{\n%s}" % "".join("    %r: %r,\n" % item for item in sources.items())
    return "%s_unpack(%s)\ndel _unpack\n\n%s" % (_UNPACK, literal, init)


def bundled_config(config_text: str, config_path: str) -> str:
    """The config's text with its `[files]` table replaced by its bundles, one per package."""
    entries = "".join(
        '"./%s" = "%s"\n' % (posixpath.basename(path), init) for path, (init, _) in bundles(config_path).items()
    )
    table = re.compile(r"^\[files\]\n(?:(?!\[).*\n?)*", re.M)
    replaced, count = table.subn(lambda _: "[files]\n" + entries, config_text)
    if count != 1:
        raise ValueError("%s: expected one [files] table, found %d" % (config_path, count))
    return replaced
