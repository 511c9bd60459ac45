"""Coursewire: the host side of an embedded Coassemble course."""
