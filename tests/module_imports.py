"""What a Python file imports, by full dotted module name, read with `ast` (nothing is executed).

Shared by the purity guard and the layer test. Every import counts, wherever it is written: at the
top, inside a function or a class, under `if TYPE_CHECKING`, in a `try`. Relative imports are
resolved against the file's own module name, so `from ..server import x` in `coursewire/core/a.py`
reads as `coursewire.server` and `coursewire.server.x`.
"""

import ast
import os

from serving import ROOT

# Folders that hold no project source: tools' caches, installed packages, build output.
SKIPPED_FOLDERS = {"node_modules", "__pycache__", "build", "dist", "var", "test-artifacts"}

# Stands for an import whose name the reader cannot know (`__import__(name)`), so no rule can
# clear it: a guarded module that imports this way breaks its rules.
DYNAMIC = "<dynamic import>"


def module_name(path, root=ROOT):
    """`coursewire/core/wire.py` -> ("coursewire.core.wire", False); a package's `__init__.py`
    names the package itself, and is_package says so (it is where `from . import x` starts)."""
    parts = os.path.relpath(path, root)[: -len(".py")].split(os.sep)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def python_files(root=ROOT):
    """Every .py file of the tree, as (module name, is package, path), sorted."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [
            name
            for name in subfolders
            if not (name.startswith(".") or name in SKIPPED_FOLDERS or name.endswith(".egg-info"))
        ]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                found.append(module_name(path, root) + (path,))
    return sorted(found)


def _absolute(node, module, is_package):
    """The module a `from ... import` names, relative dots resolved; ValueError past the top."""
    if node.level == 0:
        return node.module
    package = module.split(".") if is_package else module.split(".")[:-1]
    if node.level - 1 >= len(package):
        raise ValueError("relative import beyond the top of %s" % module)
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _dynamic_name(node):
    """`__import__("x")` or `importlib.import_module("x")` -> "x"; DYNAMIC when not a literal."""
    func = node.func
    called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if called not in ("__import__", "import_module"):
        return None
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return DYNAMIC


def imports(source, module, is_package=False, filename="<probe>"):
    """Yield (full module name, line) for every import in source, read as the module `module`.

    `import a.b.c` gives a.b.c; `from a.b import c` gives a.b and a.b.c (c may be a submodule, and
    a rule on a.b.c must see it); `from . import x` in package p gives p and p.x. A relative import
    that climbs past the top of the tree gives (DYNAMIC, line): nothing can clear it."""
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            try:
                base = _absolute(node, module, is_package)
            except ValueError:
                yield DYNAMIC, node.lineno
                continue
            yield base, node.lineno
            for alias in node.names:
                if alias.name != "*":
                    yield base + "." + alias.name, node.lineno
        elif isinstance(node, ast.Call):
            name = _dynamic_name(node)
            if name is not None:
                yield name, node.lineno


def within(name, prefix):
    """True when module `name` is `prefix` or lies inside it (coursewire.server.x is inside
    coursewire.server; coursewire.serverless is not)."""
    return name == prefix or name.startswith(prefix + ".")
