"""The two PyScript configs must ship the same Python files, and every module the app imports."""

import os
import re

from conftest import ROOT


def files_of(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        text = f.read()
    return re.findall(r'^"\./(app/[a-z_]+\.py)" = "\./\1"$', text, re.M), text


def test_both_runtimes_get_the_same_files_and_only_the_interpreter_differs():
    py_files, py_text = files_of("pyscript.toml")
    mpy_files, mpy_text = files_of("mpy.toml")
    assert py_files == mpy_files
    assert 'interpreter = "./runtime/pyodide/pyodide.mjs"' in py_text
    assert 'interpreter = "./runtime/micropython/micropython.mjs"' in mpy_text


def test_every_imported_app_module_is_shipped():
    shipped = set(files_of("pyscript.toml")[0])
    imported = set()
    for name in os.listdir(os.path.join(ROOT, "app")):
        if name.endswith(".py"):
            with open(os.path.join(ROOT, "app", name), encoding="utf-8") as f:
                for module in re.findall(r"^\s*(?:from app\.|from \.|from app import )([a-z_]+)", f.read(), re.M):
                    imported.add("app/%s.py" % module)
    assert imported <= shipped, imported - shipped


def test_serve_makes_the_interpreter_absolute_for_host_sites(servers):
    import urllib.request

    with urllib.request.urlopen(servers.app + "/mpy.toml") as response:
        text = response.read().decode()
    assert 'interpreter = "%s/runtime/micropython/micropython.mjs"' % servers.app in text
