"""A secret kept in a file only its owner can read: made once, read on every later start.

serve.py keeps the demo's admin token this way when COURSEWIRE_ADMIN_TOKEN is unset, so a staff
member can sign in to the report page with it, and the token never appears in a log line or on
the terminal (only the file's path does).
"""

import os
import secrets
from collections.abc import Callable

MAX_SECRET_CHARS = 1024


class SecretFileError(Exception):
    """A secret file that cannot be made or used; str() is one sentence."""


def read_or_create(path: str, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """The secret in `path`, made with `make()` and written with mode 0600 when the file does not
    exist yet. Two processes starting at once agree on one secret: the file appears whole (a
    hard link of a finished temporary file) or not at all."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, ".%s.%s.tmp" % (os.path.basename(path), secrets.token_hex(6)))
    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, (make() + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    except OSError as error:
        raise SecretFileError("Cannot write the secret file %s: %s." % (path, error.strerror or error)) from error
    finally:
        try:
            os.unlink(temporary)
        except OSError:
            pass
    return _read(path)


def _read(path: str) -> str:
    try:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            raise SecretFileError(
                "The secret file %s can be read by other users (mode %o): run chmod 600 on it." % (path, mode & 0o777)
            )
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_SECRET_CHARS + 2)
    except (FileNotFoundError, SecretFileError):
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise SecretFileError(
            "Cannot read the secret file %s: %s." % (path, getattr(error, "strerror", None) or error)
        ) from error
    secret = text.strip()
    if not secret or len(secret) > MAX_SECRET_CHARS or any(c.isspace() for c in secret):
        raise SecretFileError(
            "The secret file %s does not hold one secret (one line, no spaces): remove it to make a new one." % path
        )
    return secret
