"""Coursewire: the host side of an embedded Coassemble course.

coursewire.core     sans-I/O: wire format, state, rules, session policy (CPython, Pyodide, MicroPython)
coursewire.browser  the thin browser shell: Embed, storage, the snippet's automount, bridge.js
coursewire.server   CPython only: signed embed URLs, webhooks, the learner record (never shipped)
"""
