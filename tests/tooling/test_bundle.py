"""The library in one fetch (coursewire/bundle.py): a served or built config loads one bundle per
package, and importing the package writes exactly the modules the source config lists."""

import os
import subprocess
import sys
import urllib.request

import pytest

from coursewire import bundle, deploy

from serving import ROOT

CONFIGS = ("pyscript.toml", "mpy.toml") + tuple(deploy.LIBRARY_CONFIGS.values())


def listed(config):
    """What the source config's [files] lists: destination -> project-relative source."""
    return {dest: source for source, dest in bundle._files(config).items()}


def unpack(tmp_path, config):
    """Each of the config's bundles run as its package's __init__.py by CPython, as PyScript runs it
    (a fresh interpreter, the page's folder as working directory): the files it leaves behind."""
    for init, members in bundle.bundles(config).values():
        target = tmp_path / init
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(bundle.bundle_text(members), encoding="utf-8")
        package = init.split("/")[1]
        done = subprocess.run([sys.executable, "-c", "import %s" % package], cwd=tmp_path, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
    return {
        "./" + os.path.relpath(os.path.join(d, f), tmp_path).replace(os.sep, "/")
        for d, _, fs in os.walk(tmp_path)
        for f in fs
        if "__pycache__" not in d
    }


@pytest.mark.parametrize("config", CONFIGS)
def test_a_bundle_writes_every_listed_module_byte_for_byte_and_nothing_else(tmp_path, config):
    written = unpack(tmp_path, config)
    sources = listed(config)
    assert written == set(sources)
    for dest, source in sources.items():
        if dest.endswith("/__init__.py"):
            continue  # the bundle itself, which runs the original __init__.py's code after unpacking
        with open(os.path.join(ROOT, source), "rb") as original:
            assert (tmp_path / dest).read_bytes() == original.read(), dest


def test_the_bundled_package_imports_and_keeps_its_own_init(tmp_path):
    unpack(tmp_path, "mpy.toml")
    probe = (
        "import coursewire, app\n"
        "from coursewire.core import session\n"  # (the browser shell needs pyscript: a browser)
        "from app.present import text_of\n"
        "print(coursewire.__file__, session.__file__)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        str(tmp_path / "coursewire/__init__.py"),
        str(tmp_path / "coursewire/core/session.py"),
    ]
    assert "_unpack" not in vars(__import__("coursewire"))  # (this process's own package is untouched)


def test_text_that_is_not_ascii_survives_the_bundle(tmp_path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    text = '"""Ünïcode — quotes \' " and a backslash \\\\ and a tab\t."""\nX = "\\u2028 \U0001f600"\n'
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "src" / "pkg" / "m.py").write_text(text, encoding="utf-8")
    members = {"__init__.py": str(tmp_path / "src/pkg/__init__.py"), "m.py": str(tmp_path / "src/pkg/m.py")}
    (tmp_path / "page" / "pkg").mkdir(parents=True)
    (tmp_path / "page" / "pkg" / "__init__.py").write_text(bundle.bundle_text(members), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", "import pkg.m"], cwd=tmp_path / "page", capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    assert (tmp_path / "page" / "pkg" / "m.py").read_text(encoding="utf-8") == text


@pytest.mark.parametrize("config", CONFIGS)
def test_the_served_config_lists_its_bundles_in_place_of_the_modules(servers, config):
    with urllib.request.urlopen("%s/%s" % (servers.app, config), timeout=10) as answer:
        served = answer.read().decode()
    files = served.split("[files]\n", 1)[1]
    packages = sorted({dest.split("/")[1] for dest in listed(config)})
    stem = os.path.basename(config).rsplit(".", 1)[0]
    assert sorted(files.splitlines()) == ['"./%s-%s.py" = "./%s/__init__.py"' % (stem, p, p) for p in packages]
    site = "//" + servers.app.split("//", 1)[1]  # (serve.py makes the interpreter scheme-relative)
    before = deploy.config_text(config, "%s/%s" % (site, config)).split("[files]\n", 1)[0]
    assert served.split("[files]\n", 1)[0] == before  # the rest as config_text makes it
    for package in packages:
        path = "%s/%s-%s.py" % (os.path.dirname(config), stem, package)
        with urllib.request.urlopen("%s/%s" % (servers.app, path.lstrip("/")), timeout=10) as answer:
            assert answer.read().decode() == bundle.bundle_text(bundle.bundles(config)[path.lstrip("/")][1])


def test_a_config_that_ships_a_loose_file_is_refused_in_one_sentence(tmp_path, monkeypatch):
    (tmp_path / "odd.toml").write_text('[files]\n"./x.py" = "./x.py"\n', encoding="utf-8")
    monkeypatch.setattr(bundle, "ROOT", str(tmp_path))
    with pytest.raises(ValueError, match=r"^odd.toml: ./x.py is not a module inside a package folder$"):
        bundle.bundles("odd.toml")


def test_the_build_writes_the_bundles_its_configs_name(tmp_path):
    written = deploy.build(str(tmp_path / "out"), "https://cdn.example/cw/", runtimes=("py", "mpy"))
    assert "coursewire/mpy-coursewire.py" in written and "coursewire/pyscript-coursewire.py" in written
    for stem in ("mpy", "pyscript"):
        config = (tmp_path / "out" / "coursewire" / ("%s.toml" % stem)).read_text(encoding="utf-8")
        assert config.endswith('[files]\n"./%s-coursewire.py" = "./coursewire/__init__.py"\n' % stem)
        assert (tmp_path / "out" / "coursewire" / ("%s-coursewire.py" % stem)).read_text(
            encoding="utf-8"
        ) == bundle.bundle_text(bundle.bundles("coursewire/%s.toml" % stem)["coursewire/%s-coursewire.py" % stem][1])
