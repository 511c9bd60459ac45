"""`coursewire webhooks register URL [--events ...]`, `coursewire webhooks list`, `coursewire webhooks
delete ID`: this server's webhook endpoints at Coassemble.

Coassemble's `POST /api/v1/headless/webhooks {url, events, enabled}` answers the endpoint with its
signing secret, once (coassemble/moodle-mod_coassemble `classes/api/client.php` `create_webhook`;
developers.coassemble.com/webhooks). So `register` prints it once, with how to store it: appended to
COASSEMBLE_WEBHOOK_SECRET, which may list several secrets while a rotation is under way.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coursewire.server.settings import Settings

PATH = "/api/v1/headless/webhooks"
EVENTS = ("course.created", "course.commenced", "course.completed")
MAX_ANSWER_BYTES = 256 * 1024

DESCRIPTION = (
    "This server's webhook endpoints at Coassemble: register one (its secret is shown once), list or delete them."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    register = actions.add_parser(
        "register",
        help="register URL as a webhook endpoint; prints its secret once",
        description="Register URL (your https://.../webhooks/coassemble) with Coassemble. "
        "Coassemble shows the endpoint's signing secret once: it is printed "
        "with how to store it.",
    )
    register.add_argument("url", metavar="URL", help="the receiver, e.g. https://learn.example/webhooks/coassemble")
    register.add_argument(
        "--events",
        nargs="+",
        choices=EVENTS,
        default=list(EVENTS),
        metavar="EVENT",
        help="the events to send (default all: %s)" % ", ".join(EVENTS),
    )
    actions.add_parser("list", help="list the registered endpoints (never their secrets)")
    delete = actions.add_parser("delete", help="delete an endpoint (after its secret was rotated out)")
    delete.add_argument("endpoint", metavar="ID", help="the endpoint's id, as `list` shows it")


def _settings() -> Settings:
    from coursewire.server.command_error import CliError
    from coursewire.server.settings import Settings

    try:
        return Settings.from_env()
    except ValueError as error:
        raise CliError(str(error)) from error


def _call(settings: Settings, method: str, path: str, what: str, body: object = None) -> Any:
    """Coassemble's JSON answer to one call; CliError (one sentence) otherwise."""
    from coursewire.server import coassemble  # here, not at import: `coursewire --help` stays quick
    from coursewire.server.command_error import CliError

    try:
        status, headers, raw, failure = coassemble.api_call(
            settings, method, path, body=body, max_bytes=MAX_ANSWER_BYTES
        )
    except coassemble.NotConfigured as error:
        raise CliError(error.sentence) from error
    if failure is not None:
        raise CliError(failure.sentence)
    if not 200 <= status < 300:
        raise CliError(coassemble.refusal_sentence(status, headers, raw, what, settings.api_key))
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        raise CliError("Coassemble's answer to %s is not JSON." % what) from None


def register(args: argparse.Namespace) -> int:
    from coursewire.server.command_error import CliError

    url = args.url.strip()
    if not url.startswith(("https://", "http://")):
        raise CliError("URL must be the receiver's https:// address, e.g. https://learn.example/webhooks/coassemble.")
    settings = _settings()
    events = sorted(set(args.events), key=EVENTS.index)
    endpoint = _call(
        settings, "POST", PATH, "the webhook registration", {"url": url, "events": events, "enabled": True}
    )
    secret = endpoint.get("secret") if isinstance(endpoint, dict) else None
    if not isinstance(secret, str) or not secret or any(c.isspace() for c in secret):
        raise CliError(
            "Coassemble registered the endpoint but its answer holds no usable signing secret; "
            "delete it (coursewire webhooks list, delete) and register again."
        )
    print(
        "Registered webhook endpoint %s for %s (%s)."
        % (endpoint.get("id"), endpoint.get("url", url), ", ".join(endpoint.get("events") or events))
    )
    print("Its signing secret, which Coassemble shows only this once:\n\n    %s\n" % secret)
    print(
        "Store it where the receiver reads COASSEMBLE_WEBHOOK_SECRET, appended after a space to any secret\n"
        "already there (several are accepted, so nothing is refused during a rotation):\n\n"
        "    COASSEMBLE_WEBHOOK_SECRET=\"<the secrets already there> %s\"\n\n"
        "restart the server, and once the old endpoint is deleted (coursewire webhooks delete ID), remove its\n"
        "secret from the list." % secret
    )
    return 0


def list_endpoints(args: argparse.Namespace) -> int:
    answer = _call(_settings(), "GET", PATH, "the webhook list")
    endpoints = answer.get("endpoints") if isinstance(answer, dict) else answer
    if not isinstance(endpoints, list) or not endpoints:
        print("No webhook endpoint is registered.")
        return 0
    for endpoint in endpoints:
        if not isinstance(endpoint, dict):
            continue
        print(
            "%s  %s  %s  %s"
            % (
                endpoint.get("id"),
                "enabled " if endpoint.get("enabled", True) else "disabled",
                endpoint.get("url"),
                ", ".join(str(e) for e in endpoint.get("events") or ()),
            )
        )
    return 0


def delete(args: argparse.Namespace) -> int:
    from coursewire.server.command_error import CliError

    if not args.endpoint.isdigit():
        raise CliError("ID must be an endpoint's number, as `coursewire webhooks list` shows it.")
    _call(_settings(), "DELETE", "%s/%s" % (PATH, args.endpoint), "deleting the webhook endpoint")
    print("Deleted webhook endpoint %s." % args.endpoint)
    return 0


def main(args: argparse.Namespace) -> int:
    from coursewire.server.command_error import CliError

    actions = {"register": register, "list": list_endpoints, "delete": delete}
    if args.action not in actions:
        raise CliError("Name an action: register, list or delete (see --help).")
    return actions[args.action](args)
