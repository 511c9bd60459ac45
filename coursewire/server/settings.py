"""The host server's configuration, read once from the environment.

Secrets (the Coassemble API key, the webhook secret, the admin token, the token secret, the login
secret) live
only here and in the objects that need them: `repr` never shows them, and nothing that answers a
request or writes a log line may include them.
"""

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coursewire.server.limits import Limits

COASSEMBLE_API_URL = "https://api.coassemble.com"


def parse_origins(text: str) -> "tuple[str, ...]":
    """COURSEWIRE_ALLOWED_ORIGINS: space-separated page origins, each `scheme://host[:port]`, as
    http.origin_of normalises them (lower case, no default port); ValueError with one sentence."""
    from coursewire.server.http import origin_of

    origins = []
    for word in text.split():
        origin = origin_of(word)
        if origin is None:
            raise ValueError(
                "COURSEWIRE_ALLOWED_ORIGINS must list page origins such as https://learn.example "
                "or http://127.0.0.1:8000 (scheme://host[:port], no path), separated by spaces; "
                "%r is not one." % word[:100]
            )
        origins.append(origin)
    return tuple(origins)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


MAX_RETENTION_DAYS = 100 * 366


def _days(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_RETENTION_DAYS:
        raise ValueError(
            "COURSEWIRE_RETENTION_DAYS must be a whole number of days from 1 to %d, not %r."
            % (MAX_RETENTION_DAYS, value[:40])
        )
    return int(text)


def _limits(text: str) -> "Limits":
    from coursewire.server.limits import Limits

    return Limits.parse(text)


def _login_secret(value: str | None) -> str | None:
    if value is not None:
        from coursewire.server.login import check_secret

        check_secret(value)  # ValueError (one sentence) for a secret too short to be safe
    return value


class Settings:
    """Everything the server routes need to know. Missing values are None (the route that needs
    one answers that it is not configured, in one sentence)."""

    SECRET_FIELDS = ("api_key", "webhook_secret", "admin_token", "token_secret", "login_secret")

    def __init__(
        self,
        workspace_id: str | None = None,
        api_key: str | None = None,
        api_url: str = COASSEMBLE_API_URL,
        webhook_secret: str | None = None,
        admin_token: str | None = None,
        database: str | None = None,
        allow_edit: bool = False,
        mint_timeout_s: float = 10.0,
        token_secret: str | None = None,
        login_secret: str | None = None,
        allowed_origins: Iterable[str] = (),
        retention_days: int | None = None,
        limits: "Limits | None" = None,
    ) -> None:
        self.workspace_id = workspace_id  # COASSEMBLE_WORKSPACE_ID
        self.api_key = api_key  # COASSEMBLE_API_KEY
        self.api_url = (api_url or COASSEMBLE_API_URL).rstrip("/")  # COASSEMBLE_API_URL
        self.webhook_secret = webhook_secret  # COASSEMBLE_WEBHOOK_SECRET
        self.admin_token = admin_token  # COURSEWIRE_ADMIN_TOKEN: GET /api/records
        # DATABASE_URL (postgresql://...) wins over COURSEWIRE_DB (an SQLite file path).
        self.database = database
        self.allow_edit = allow_edit  # COURSEWIRE_ALLOW_EDIT=1: /api/embed-url may mint builder URLs
        self.mint_timeout_s = mint_timeout_s  # COASSEMBLE_TIMEOUT (seconds)
        # COURSEWIRE_SECRET: signs report tokens. None: the store keeps a generated one, so tokens
        # survive a restart.
        self.token_secret = token_secret
        # COURSEWIRE_LOGIN_SECRET: verifies the login tokens (JWT, HS256) the host's backend issues,
        # which say who the learner is (coursewire/server/login.py). None: /api/embed-url answers
        # 503 unless the app was built with identify=.
        self.login_secret = login_secret
        # COURSEWIRE_ALLOWED_ORIGINS: the origins of the pages that may mint and sign staff in
        # ("https://learn.example https://www.learn.example"). Empty: the page's origin must match
        # the request's Host (see http.refuse_other_sites).
        self.allowed_origins = tuple(allowed_origins)
        # COURSEWIRE_RETENTION_DAYS: reported events (and their quiz answers) older than this many
        # days are purged (coursewire/server/retention.py); None keeps them.
        self.retention_days = retention_days
        # COURSEWIRE_LIMITS: the bounds on reports and admin-token guesses (coursewire/server/limits.py).
        if limits is None:
            from coursewire.server.limits import Limits

            limits = Limits()
        self.limits = limits

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        timeout_text = env.get("COASSEMBLE_TIMEOUT")
        try:
            timeout = float(timeout_text) if timeout_text else 10.0
        except ValueError:
            raise ValueError("COASSEMBLE_TIMEOUT must be a number of seconds, not %r" % timeout_text) from None
        return cls(
            workspace_id=env.get("COASSEMBLE_WORKSPACE_ID") or None,
            api_key=env.get("COASSEMBLE_API_KEY") or None,
            api_url=env.get("COASSEMBLE_API_URL") or COASSEMBLE_API_URL,
            webhook_secret=env.get("COASSEMBLE_WEBHOOK_SECRET") or None,
            admin_token=env.get("COURSEWIRE_ADMIN_TOKEN") or None,
            database=env.get("DATABASE_URL") or env.get("COURSEWIRE_DB") or None,
            allow_edit=_flag(env.get("COURSEWIRE_ALLOW_EDIT")),
            mint_timeout_s=timeout,
            token_secret=env.get("COURSEWIRE_SECRET") or None,
            login_secret=_login_secret(env.get("COURSEWIRE_LOGIN_SECRET") or None),
            allowed_origins=parse_origins(env.get("COURSEWIRE_ALLOWED_ORIGINS") or ""),
            retention_days=_days(env.get("COURSEWIRE_RETENTION_DAYS") or None),
            limits=_limits(env.get("COURSEWIRE_LIMITS") or ""),
        )

    def __repr__(self) -> str:
        shown = []
        for name, value in sorted(vars(self).items()):
            if name in self.SECRET_FIELDS:
                value = "<set>" if value else None
            shown.append("%s=%r" % (name, value))
        return "Settings(%s)" % ", ".join(shown)
