"""The purity line: coursewire/core/ imports nothing from the browser (and no I/O), so it runs
unchanged on CPython, Pyodide and MicroPython and is tested here in seconds. A test, not a habit."""

import ast
import os
import re

from serving import ROOT

CORE = os.path.join(ROOT, "coursewire", "core")
BROWSER_MODULES = {"pyscript", "js", "pyodide", "micropython"}
# Also the standard library's I/O and what MicroPython lacks: the core reads no clock, no file,
# no network, and stays inside the subset the three runtimes share.
FORBIDDEN_MODULES = BROWSER_MODULES | {"os", "sys", "time", "datetime", "socket", "urllib", "http", "io",
                                       "dataclasses", "typing", "re", "math"}
BROWSER_NAMES = re.compile(r"\b(window|document|localStorage|navigator|console)\b")


def core_files():
    names = sorted(name for name in os.listdir(CORE) if name.endswith(".py"))
    assert "session.py" in names and "wire.py" in names  # the guard looks where the core is
    return [os.path.join(CORE, name) for name in names]


def imported_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom):
            yield (node.module or "").split(".")[0] if node.level == 0 else "coursewire", node.lineno
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            yield "__import__", node.lineno


def test_the_core_imports_only_itself_and_json():
    problems = []
    for path in core_files():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for module, line in imported_modules(tree):
            if module in FORBIDDEN_MODULES or module not in ("coursewire", "json"):
                problems.append("%s:%d imports %s" % (os.path.relpath(path, ROOT), line, module))
    assert not problems, problems


def test_the_core_never_names_a_browser_global_in_code():
    problems = []
    for path in core_files():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and BROWSER_NAMES.fullmatch(node.id):
                problems.append("%s:%d uses %s" % (os.path.relpath(path, ROOT), node.lineno, node.id))
            if isinstance(node, ast.Attribute) and BROWSER_NAMES.fullmatch(node.attr):
                problems.append("%s:%d uses .%s" % (os.path.relpath(path, ROOT), node.lineno, node.attr))
    assert not problems, problems


def test_the_guard_catches_what_it_guards_against(tmp_path):
    # The checks above, applied to a module that breaks each rule, find every break.
    bad = ast.parse("from pyscript import window\nimport js\nimport time\nx = document.title\ny = a.localStorage\n")
    found = {module for module, _ in imported_modules(bad)}
    assert {"pyscript", "js", "time"} <= found
    names = [n.id for n in ast.walk(bad) if isinstance(n, ast.Name) and BROWSER_NAMES.fullmatch(n.id)]
    attrs = [n.attr for n in ast.walk(bad) if isinstance(n, ast.Attribute) and BROWSER_NAMES.fullmatch(n.attr)]
    assert "window" not in names and names == ["document"] and attrs == ["localStorage"]
