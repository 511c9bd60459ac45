"""What a host's backend imports (CPython only; never shipped to the browser)."""
