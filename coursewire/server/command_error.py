"""What a `coursewire` server command raises for a mistake the user can fix (coursewire/cli.py prints
it as one sentence, exit status 2, no traceback). Here, not in cli.py, so the server's commands
never import the layer above them."""

from collections.abc import Callable
from typing import NoReturn


class CliError(Exception):
    """A mistake or missing piece the user can fix: printed as one sentence, no traceback."""


Fail = Callable[[str], NoReturn]  # what the server commands call with their one-sentence mistake
