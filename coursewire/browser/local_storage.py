"""The browser's localStorage as a Store backend (coursewire/core/store.py), through bridge.js.

bridge.js turns every storage exception (private mode, quota, a sandboxed frame) into an answer
in JavaScript: some JS errors escape MicroPython's try/except, so none may reach Python.
"""

import json

from pyscript import window


class LocalStorage:
    def _call(self, op, key, text=""):
        return json.loads(window.coursewireBridge.storage(op, key, text))

    def get(self, key):
        answer = window.coursewireBridge.storage("read", key, "")
        if answer.startswith("v"):
            return answer[1:], None
        return None, (answer[1:] or "an unknown error") if answer.startswith("e") else None

    def set(self, key, text):
        return self._call("set", key, text).get("error")

    def remove(self, key):
        return self._call("remove", key).get("error")
