"""POST /api/embed-url: the browser asks the host's server for a fresh signed embed URL.

    Authorization: Bearer <login token>   (or the host's identify(environ); see identity.py)
    request   {"course": ID, "action": "view" | "edit", "learner": ID}   (action optional: view;
              learner optional, and refused unless it is the login's)
    200       {"url": "...", "expires_at": "2026-11-28T14:03:00Z", "learner": "<the login's>",
               "report_token": "..."}   (report_token when the server keeps a learner record: see reports.py)
    400 bad input · 401 no login, or a bad one · 403 edit not allowed, another learner or course than
    the login's, or another site's page · 404 no such course · 413 too big · 415 not JSON ·
    502 Coassemble refused (its reason) or is down · 503 no login configured, Coassemble not
    configured, or Coassemble's rate limit (Retry-After) · 504 Coassemble timed out
    — every refusal is {"error": one sentence}.

The learner is the login's, never the body's: anyone can send a body. It is not an open proxy
either: three known fields, ids checked by `ids`, a small body, `view` only unless
COURSEWIRE_ALLOW_EDIT is on and the login carries the authoring claim, and only from this site's
own pages. A JSON content type is required so that another site cannot post here without a CORS
preflight, which this server never grants. Coassemble is called only once all of that holds.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from coursewire.server import ids
from coursewire.server.coassemble import MintError, RateLimited
from coursewire.server.http import Refusal, refuse_other_sites
from coursewire.server.identity import login_of

if TYPE_CHECKING:
    from coursewire.server.http import Answer, Request
    from coursewire.server.wsgi import Context

PATH = "/api/embed-url"
MAX_BODY_BYTES = 2048  # the longest valid request (128 + 256 chars, JSON-escaped) fits easily
FIELDS = ("course", "learner", "action")


def route(request: Request, context: Context) -> Answer:
    """(200, {"url", "expires_at", "learner"[, "report_token"]}) or a Refusal."""
    # No Origin: not a page (a server-to-server call); nothing to check here, the login decides.
    refuse_other_sites(
        request, "Embed URLs are minted only for this site's own pages.", context.settings.allowed_origins
    )
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Refusal(415, "Send the request as JSON (Content-Type: application/json).")
    login = login_of(request, context)  # 401/503 before the body is even read
    body = request.json_object(MAX_BODY_BYTES)
    unknown = sorted(name for name in body if name not in FIELDS)
    if unknown:
        raise Refusal(400, "Unknown field %r: only course, learner and action are accepted." % unknown[0][:40])
    if "course" not in body:
        raise Refusal(400, "The request needs a course.")
    try:
        course = ids.course_id(body["course"])
        named = ids.learner_id(body["learner"]) if "learner" in body else None
    except ValueError as error:
        raise Refusal(400, str(error)) from None
    action = body.get("action", "view")
    if action not in ("view", "edit"):
        raise Refusal(400, "action must be \"view\" or \"edit\".")
    if named is not None and named != login.learner:
        raise Refusal(403, "This page asks for another learner than the one signed in.")
    if login.course is not None and login.course != course:
        raise Refusal(403, "The login token is for another course.")
    if action == "edit" and not context.settings.allow_edit:
        raise Refusal(403, "This server does not open the course builder (COURSEWIRE_ALLOW_EDIT is off).")
    if action == "edit" and not login.edit:
        raise Refusal(403, "This login may not open the course builder (its token has no coursewire_edit claim).")
    extra = {"name": login.name} if login.name else {}
    refusal: Refusal | None
    try:
        embed = context.mint(course, login.learner, action=action, settings=context.settings, **extra)
    except MintError as error:
        headers = (
            [("Retry-After", str(error.retry_after))] if isinstance(error, RateLimited) and error.retry_after else []
        )
        refusal = Refusal(error.status, error.sentence, headers)
    else:
        refusal = None
    if refusal is not None:
        raise refusal  # outside the except: no exception chain back to the client's internals
    answer = {"url": embed.url, "expires_at": iso_utc(embed.expires_at), "learner": login.learner}
    if context.has_store():
        # Lets the page report this learner's events in this course (POST /api/events), and no other.
        answer["report_token"] = context.issue_report_token(course, login.learner)
    return 200, answer


def iso_utc(moment: datetime.datetime) -> str:
    """ISO-8601 in UTC with a Z, to the second: 2026-11-28T14:03:00Z."""
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
