"""The purity line: coursewire/core/ imports nothing but itself and json (no browser, no I/O, no
other layer), so it runs unchanged on CPython, Pyodide and MicroPython and is tested here in
seconds. A test, not a habit. Which layer may import which: tests/tooling/test_layers.py."""

import ast
import os
import re

import pytest

from module_imports import imports, module_name, within
from serving import ROOT

CORE = os.path.join(ROOT, "coursewire", "core")
# By full dotted name: coursewire.core.wire is allowed, coursewire.server.evidence is not.
ALLOWED = ("coursewire.core", "json")
# So the browser (pyscript, js, pyodide, micropython) is refused, and so is the standard library's I/O
# and what MicroPython lacks: the core reads no clock, no file, no network, and stays inside the
# subset the three runtimes share.
BROWSER_NAMES = re.compile(r"\b(window|document|localStorage|navigator|console)\b")


def core_files():
    names = sorted(name for name in os.listdir(CORE) if name.endswith(".py"))
    assert "session.py" in names and "wire.py" in names  # the guard looks where the core is
    return [os.path.join(CORE, name) for name in names]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def impure_imports(source, module, is_package=False, filename="<probe>"):
    """Each import outside the core and json, and each `__import__` call, as one readable line."""
    problems = [
        "%s:%d imports %s" % (filename, line, name)
        for name, line in imports(source, module, is_package, filename)
        if not any(within(name, allowed) for allowed in ALLOWED)
    ]
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            problems.append("%s:%d calls __import__" % (filename, node.lineno))
    return problems


def browser_globals(source, filename="<probe>"):
    """Each use of a browser global in code (a name or an attribute; comments and strings are fine)."""
    problems = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Name) and BROWSER_NAMES.fullmatch(node.id):
            problems.append("%s:%d uses %s" % (filename, node.lineno, node.id))
        if isinstance(node, ast.Attribute) and BROWSER_NAMES.fullmatch(node.attr):
            problems.append("%s:%d uses .%s" % (filename, node.lineno, node.attr))
    return problems


def test_the_core_imports_only_itself_and_json():
    problems = []
    for path in core_files():
        module, is_package = module_name(path)
        problems += impure_imports(read(path), module, is_package, os.path.relpath(path, ROOT))
    assert not problems, problems


def test_the_core_never_names_a_browser_global_in_code():
    problems = []
    for path in core_files():
        problems += browser_globals(read(path), os.path.relpath(path, ROOT))
    assert not problems, problems


@pytest.mark.parametrize(
    "source, refused",
    [
        ("from pyscript import window\n", "pyscript"),
        ("import js\n", "js"),
        ("def f():\n    import pyodide.ffi\n", "pyodide.ffi"),
        ("import time\n", "time"),
        ("from coursewire.server import evidence\n", "coursewire.server"),
        ("import coursewire.browser.embed\n", "coursewire.browser.embed"),
        ("from coursewire import server\n", "coursewire.server"),
        ("from ..server import evidence\n", "coursewire.server"),
        ("def f():\n    from ..browser.embed import Embed\n", "coursewire.browser.embed"),
        ("from app.ui import el\n", "app.ui"),
        ("x = __import__('json')\n", "__import__"),
    ],
)
def test_the_import_guard_refuses_what_leaves_the_core(source, refused):
    problems = impure_imports(source, "coursewire.core.probe")
    assert any(line.endswith(" " + refused) for line in problems), problems


def test_the_import_guard_allows_the_core_and_json():
    source = (
        "import json\nfrom json import loads\nfrom . import wire\nfrom .jsonsafe import parse_json\n"
        "from coursewire.core import changes as C\nimport coursewire.core.rules\n"
    )
    assert impure_imports(source, "coursewire.core.probe") == []


def test_the_name_guard_catches_browser_globals():
    found = browser_globals("from pyscript import window\nx = document.title\ny = a.localStorage\n# window\n")
    assert sorted(found) == ["<probe>:2 uses document", "<probe>:3 uses .localStorage"]
