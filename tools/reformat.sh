#!/usr/bin/env bash
# The one mechanical reformat of issue 22: `ruff format` over the whole tree with pyproject.toml's
# [tool.ruff.format] settings (line length 120, quotes as they are). Run it once, on its own, and
# commit the result alone; from then on tests/tooling/test_lint.py also checks the format.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m ruff format .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m ruff check .
.venv/bin/python -m mypy
