"""The one build step pyproject.toml cannot declare: put the pinned browser runtime into the wheel.

`coursewire build` writes a host's static folder from the installed package alone, so the wheel
carries the runtime files a build copies, as coursewire/_runtime/<pyscript|pyodide|micropython>/
(the layout of their URLs), with each runtime package's package.json and licence beside them.
They come from node_modules: installed by `npm ci` from package-lock.json in a checkout that has
none yet, and carried by the source distribution itself (MANIFEST.in).
"""

import os
import shutil
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from coursewire import deploy  # noqa: E402 (standard library only; says which files a page may fetch)


class BuildPyWithRuntime(build_py):
    def run(self):
        super().run()
        if self.dry_run:
            return
        try:
            deploy.ensure_runtime()
        except deploy.RuntimeMissing as error:
            sys.exit("setup.py: %s" % error)
        target = os.path.join(self.build_lib, "coursewire", "_runtime")
        shutil.rmtree(target, ignore_errors=True)  # an earlier build's files never linger
        for path in deploy.runtime_paths(("py", "mpy")):
            self._copy(deploy.runtime_file(path), os.path.join(target, path[len("runtime/") :]))
        for prefix, package in deploy.RUNTIME.items():
            folder = os.path.join(target, prefix[len("runtime/") : -1])
            for notice in ("package.json", "LICENSE"):
                source = os.path.join(deploy.MODULES, package.split("/dist")[0], notice)
                if os.path.isfile(source):
                    self._copy(source, os.path.join(folder, notice))

    def _copy(self, source, dest):
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(source, dest)


setup(cmdclass={"build_py": BuildPyWithRuntime})
