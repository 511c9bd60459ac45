"""The layers: which part of the tree may import which, by full dotted module name, for every .py
file in the tree and every import in it (inside functions too, relative ones resolved). Files
outside every layer (tests, bench, serve.py, setup.py) are found and have no rules to keep.

The core runs on three runtimes and is shipped to host sites; the server is CPython only and never
shipped; the browser shell is shipped without the server; the demo app reaches the server only
over HTTP; the harness stands for Coassemble, a second origin that knows nothing of ours."""

import os

import pytest

from module_imports import DYNAMIC, imports, python_files, within
from serving import ROOT

# (layer, what no module in it may import). A module is in a layer when its name is the layer's or
# lies inside it; a module may be in several (coursewire.core.wire is in coursewire.core and in
# coursewire), and keeps the rules of each.
RULES = (
    ("coursewire.core", ("coursewire.browser", "coursewire.server", "app", "harness")),
    ("coursewire.server", ("coursewire.browser", "app", "harness")),
    ("coursewire.browser", ("coursewire.server",)),
    # The package as a whole (the standalone deploy.py and cli.py included) is installed without
    # the demo app or the harness.
    ("coursewire", ("app", "harness")),
    ("app", ("coursewire.server", "harness")),
    ("harness", ("coursewire",)),
)


def layer_breaks(source, module, is_package=False, filename="<probe>"):
    """Each import in source that breaks a rule of module's layers, one readable line per import
    statement and rule (`from a import b` names both a and a.b: one break, not two)."""
    breaks = {}
    rules = [(layer, forbidden) for layer, forbidden in RULES if within(module, layer)]
    found = list(imports(source, module, is_package, filename)) if rules else []  # tests, bench: no rules
    for layer, forbidden in rules:
        for name, line in found:
            for other in forbidden:
                if name == DYNAMIC or within(name, other):
                    breaks.setdefault(
                        (line, layer, other),
                        "%s:%d imports %s (%s must not import %s)" % (filename, line, name, layer, other),
                    )
    return [breaks[key] for key in sorted(breaks)]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_every_module_keeps_to_its_layer():
    files = python_files()
    layers = {layer for layer, _ in RULES}
    # The walk sees every layer (a moved folder would otherwise pass by finding nothing).
    assert all(any(within(module, layer) and module != layer for module, _, _ in files) for layer in layers)
    assert {"coursewire.deploy", "coursewire.cli"} <= {module for module, _, _ in files}
    problems = []
    for module, is_package, path in files:
        problems += layer_breaks(read(path), module, is_package, os.path.relpath(path, ROOT))
    assert not problems, "\n".join(problems)


# Probes: one module per layer, written at its path in a scratch tree and read back by the same
# walk and check as the tree. The package-wide rule is probed on the two standalone tools.
PROBE_MODULES = {
    "coursewire.core": ["coursewire.core.probe"],
    "coursewire.server": ["coursewire.server.store.probe"],  # a subpackage: three dots to reach the browser
    "coursewire.browser": ["coursewire.browser.probe"],
    "coursewire": ["coursewire.deploy", "coursewire.cli"],
    "app": ["app.probe"],
    "harness": ["harness.probe"],
}


def relative_spelling(module, other):
    """How `module` (not a package) names `other` relatively, as (dots, rest), or None when they
    share no top-level package (a relative import cannot reach across; see the test below)."""
    package, target = module.split(".")[:-1], other.split(".")
    common = 0
    while common < min(len(package), len(target)) and package[common] == target[common]:
        common += 1
    if common == 0:
        return None
    return "." * (len(package) - common + 1), ".".join(target[common:])


def probe_sources(module, other):
    """Each way `module` could import the forbidden `other`, by name of the form."""
    parent, _, last = other.rpartition(".")
    sources = {
        "import a.b.c": "import %s.part\n" % other,
        "from a.b import c": "from %s import part\n" % other,
        "in a function": "def later():\n    if True:\n        from %s.part import name\n    return name\n" % other,
    }
    if parent:
        sources["from a import b"] = "from %s import %s\n" % (parent, last)
    relative = relative_spelling(module, other)
    if relative:
        dots, rest = relative
        sources["from ..b import c"] = "from %s%s import part\n" % (dots, rest)
        head, _, tail = rest.rpartition(".")
        sources["from .. import b"] = "from %s%s import %s\n" % (dots, head, tail)
    return sources


PROBES = [
    (module, other, form)
    for layer, forbidden in RULES
    for other in forbidden
    for module in PROBE_MODULES[layer]
    for form in probe_sources(module, other)
]


def write_probe(root, module, source, is_package=False):
    parts = module.split(".") + (["__init__"] if is_package else [])
    path = root.joinpath(*parts[:-1], parts[-1] + ".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    [(read_as, package, found)] = python_files(str(root))
    assert (read_as, package) == (module, is_package)
    return layer_breaks(read(found), read_as, package, os.path.relpath(found, str(root)))


@pytest.mark.parametrize("module, other, form", PROBES, ids=["%s-%s-%s" % p for p in PROBES])
def test_the_layer_test_catches_each_forbidden_import(tmp_path, module, other, form):
    source = probe_sources(module, other)[form]
    breaks = write_probe(tmp_path, module, source)
    assert any(line.endswith("must not import %s)" % other) for line in breaks), (source, breaks)


# Relative imports from a package's __init__.py start at the package itself, not its parent.
PACKAGE_PROBES = [
    ("coursewire.core", "from ..server.ids import course_id\n", "coursewire.server"),
    ("coursewire.core", "from .. import browser\n", "coursewire.browser"),
    ("coursewire.server.store", "def f():\n    from ...browser import embed\n", "coursewire.browser"),
    ("coursewire.browser", "from ..server import wsgi\n", "coursewire.server"),
]


@pytest.mark.parametrize("module, source, other", PACKAGE_PROBES)
def test_relative_imports_in_a_package_init_are_resolved_from_the_package(tmp_path, module, source, other):
    breaks = write_probe(tmp_path, module, source, is_package=True)
    assert any(line.endswith("must not import %s)" % other) for line in breaks), breaks


def test_what_each_layer_may_import_passes():
    allowed = {
        "coursewire.core.probe": "import json\nfrom . import wire\nfrom .jsonsafe import parse_json\n",
        "coursewire.server.store.probe": "import sqlite3\nfrom .. import ids\nfrom ...core.wire import as_id\n",
        "coursewire.browser.probe": "from pyscript import window\nfrom ..core import changes\nfrom . import embed\n",
        "coursewire.cli": "def serve():\n    from coursewire.server.wsgi import make_app\n",
        "app.probe": "from app.ui import by_id\nfrom coursewire.browser.embed import Embed\nfrom . import ui\n",
        "harness.probe": "import hmac\nfrom harness import tokens\nfrom .webhooks import WebhookSender\n",
    }
    for module, source in allowed.items():
        assert layer_breaks(source, module) == [], module
    # A name that only starts like a forbidden one is another module; `from . import server` in
    # the browser shell names coursewire.browser.server, not the server.
    assert layer_breaks("import coursewire.serverless\nimport apps\n", "coursewire.core.probe") == []
    assert layer_breaks("from . import server\n", "coursewire.browser.probe") == []


def test_imports_the_reader_cannot_name_break_every_rule():
    # Past the top of the tree (Python refuses it too), or a name computed at run time: nothing
    # can show them allowed, so a guarded module may not use them.
    assert layer_breaks("from .. import coursewire\n", "app.probe")
    assert layer_breaks("from ...coursewire import core\n", "harness.probe")
    assert layer_breaks("def f(name):\n    return __import__(name)\n", "coursewire.core.probe")
    assert layer_breaks("import importlib\nimportlib.import_module('coursewire.core')\n", "harness.probe")
    assert layer_breaks("import importlib\nimportlib.import_module(NAME)\n", "coursewire.server.probe")


def test_from_dot_import_starts_at_the_module_package_or_the_package_itself():
    def names(source, module, is_package):
        return sorted(name for name, _ in imports(source, module, is_package))

    assert names("from . import x\n", "coursewire.core.wire", False) == ["coursewire.core", "coursewire.core.x"]
    assert names("from . import x\n", "coursewire.core", True) == ["coursewire.core", "coursewire.core.x"]
    assert names("from .. import x\n", "coursewire.core", True) == ["coursewire", "coursewire.x"]
    assert names("from ..server import y\n", "coursewire.core.wire", False) == [
        "coursewire.server",
        "coursewire.server.y",
    ]
