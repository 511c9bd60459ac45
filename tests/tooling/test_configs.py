"""The PyScript configs: host sites load the library and nothing else; the demo pages add the demo
app; both runtimes get the same files; every module a page imports is shipped."""

import os
import re
import tomllib
import urllib.request

from coursewire import deploy

from serving import ROOT


def files_of(config):
    """The project-relative paths a config's [files] loads, and its parsed TOML."""
    with open(os.path.join(ROOT, config), "rb") as f:
        parsed = tomllib.load(f)
    base = os.path.dirname(config)
    return sorted(os.path.normpath(os.path.join(base, source)) for source in parsed["files"]), parsed


def import_closure(module):
    """Project modules `module` imports, transitively (as project-relative .py paths)."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        path = name.replace(".", "/") + ".py"
        if path in seen or not os.path.exists(os.path.join(ROOT, path)):
            continue
        seen.add(path)
        package = name.rsplit(".", 1)[0]
        while "." in package or package in ("coursewire", "app"):
            seen.add(package.replace(".", "/") + "/__init__.py")
            if "." not in package:
                break
            package = package.rsplit(".", 1)[0]
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            text = f.read()
        for base, names in re.findall(r"^\s*from ((?:coursewire|app)[\w.]*) import ([\w, ]+)", text, re.M):
            todo.append(base)
            todo.extend(base + "." + n.split(" as ")[0].strip() for n in names.split(","))
    return seen


def test_host_site_configs_ship_exactly_what_the_snippet_imports():
    needed = import_closure("coursewire.browser.automount") - {deploy.SNIPPET_ENTRY}
    for config in deploy.LIBRARY_CONFIGS.values():
        shipped, parsed = files_of(config)
        assert set(shipped) == needed, (config, set(shipped) ^ needed)
        assert not [path for path in shipped if path.startswith(("app/", "coursewire/server/"))]
        assert list(parsed["js_modules"]["main"]) == ["./browser/bridge.js"]


def test_demo_configs_add_the_demo_app_to_the_library():
    library = set(files_of(deploy.LIBRARY_CONFIGS["py"])[0])
    pages = ("app.page_player", "app.page_builder", "app.page_report")
    needed = set().union(*(import_closure(page) for page in pages))
    needed -= {page.replace(".", "/") + ".py" for page in pages}  # page scripts run as <script src>
    for config in ("pyscript.toml", "mpy.toml"):
        shipped = set(files_of(config)[0])
        assert library <= shipped and shipped == needed | library, (config, shipped ^ (needed | library))


def test_both_runtimes_get_the_same_files_and_only_the_interpreter_differs():
    for py, mpy in (("pyscript.toml", "mpy.toml"), (deploy.LIBRARY_CONFIGS["py"], deploy.LIBRARY_CONFIGS["mpy"])):
        (py_files, py_parsed), (mpy_files, mpy_parsed) = files_of(py), files_of(mpy)
        assert py_files == mpy_files
        assert py_parsed["interpreter"].endswith("runtime/pyodide/pyodide.mjs")
        assert mpy_parsed["interpreter"].endswith("runtime/micropython/micropython.mjs")


def test_every_interpreter_path_is_relative_to_its_config_and_exists_once_installed():
    for config in ("pyscript.toml", "mpy.toml") + tuple(deploy.LIBRARY_CONFIGS.values()):
        interpreter = files_of(config)[1]["interpreter"]
        served = os.path.normpath(os.path.join(os.path.dirname(config), interpreter))
        assert deploy.runtime_file(served) is not None, (config, interpreter)


def test_serve_makes_the_interpreter_absolute_and_scheme_relative(servers):
    host = servers.app.split("//", 1)[1]
    for path, runtime in (
        ("/mpy.toml", "micropython/micropython.mjs"),
        ("/coursewire/pyscript.toml", "pyodide/pyodide.mjs"),
    ):
        with urllib.request.urlopen(servers.app + path) as response:
            text = response.read().decode()
        # Scheme-relative: a page behind an HTTPS proxy asks for HTTPS, never mixed content.
        assert 'interpreter = "//%s/runtime/%s"' % (host, runtime) in text, text[:400]


def test_config_text_resolves_against_the_url_the_config_comes_from():
    text = deploy.config_text("coursewire/mpy.toml", "https://cdn.example/cw/coursewire/mpy.toml")
    assert 'interpreter = "https://cdn.example/cw/runtime/micropython/micropython.mjs"' in text
    assert '"./core/wire.py" = "./coursewire/core/wire.py"' in text  # the rest untouched
