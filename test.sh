#!/usr/bin/env bash
# The whole test suite: installs the test dependencies into .venv and the pinned browser runtime
# into node_modules (first run, or when their pins change), then runs pytest.
# Extra arguments go to pytest, e.g. `./test.sh tests/core/test_wire.py -x`.
set -euo pipefail
cd "$(dirname "$0")"

fail() { echo "test.sh: $*" >&2; exit 2; }
command -v npm >/dev/null || fail "npm is missing: install Node.js and npm (sudo apt-get install -y npm) and run this again."
command -v python3 >/dev/null || fail "python3 is missing: install it (sudo apt-get install -y python3 python3-venv)."
if [ ! -x /usr/bin/chromium ] && [ -z "${PLAYWRIGHT_BROWSERS_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Chromium for the browser tests (apt-get install chromium) ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    fail "Chromium is missing: install it (sudo apt-get install -y chromium) and run this again."
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || fail "python3 could not create a virtual environment: install python3-venv."
fi
if ! cmp -s requirements-dev.txt .venv/.installed-requirements; then
  echo "Installing test dependencies into .venv ..."
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
  cp requirements-dev.txt .venv/.installed-requirements
fi
if ! cmp -s package-lock.json node_modules/.coursewire-lock; then
  echo "Installing the pinned PyScript runtime (npm ci) ..."
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.coursewire-lock
fi

exec .venv/bin/python -m pytest "$@"
