"""Tests of coursewire.server (CPython only; no browser): a package, so its conftest never shadows tests/conftest.py."""
