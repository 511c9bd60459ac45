"""POST /api/embed-url: the browser asks the host's server for a fresh signed embed URL.

    request   {"course": ID, "learner": ID, "action": "view" | "edit"}   (action optional: view)
    200       {"url": "...", "expires_at": "2026-11-28T14:03:00Z", "report_token": "..."}
              (report_token when the server keeps a learner record: see reports.py)
    400 bad input · 403 edit not enabled, or another site's page · 404 no such course ·
    413 too big · 415 not JSON · 502 Coassemble refused (its reason) or is down ·
    503 not configured, or Coassemble's rate limit (Retry-After) · 504 Coassemble timed out
    — every refusal is {"error": one sentence}.

It is not an open proxy: three known fields, ids checked by `ids`, a small body, only `view`
unless COURSEWIRE_ALLOW_EDIT is on, and only from this site's own pages. A JSON content type is
required so that another site cannot post here without a CORS preflight, which this server never
grants. A real host takes the learner from its own login instead of the body (see README).
"""

import datetime

from coursewire.server import ids
from coursewire.server.coassemble import MintError, RateLimited
from coursewire.server.http import Refusal, refuse_other_sites

PATH = "/api/embed-url"
MAX_BODY_BYTES = 2048  # the longest valid request (128 + 256 chars, JSON-escaped) fits easily
FIELDS = ("course", "learner", "action")


def route(request, context):
    """(200, {"url", "expires_at"}) or a Refusal."""
    # No Origin: not a page (a server-to-server call); nothing to check here, the login decides.
    refuse_other_sites(request, "Embed URLs are minted only for this site's own pages.",
                       context.settings.allowed_origins)
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Refusal(415, "Send the request as JSON (Content-Type: application/json).")
    body = request.json_object(MAX_BODY_BYTES)
    unknown = sorted(name for name in body if name not in FIELDS)
    if unknown:
        raise Refusal(400, "Unknown field %r: only course, learner and action are accepted." % unknown[0][:40])
    for name in ("course", "learner"):
        if name not in body:
            raise Refusal(400, "The request needs a %s." % name)
    try:
        course = ids.course_id(body["course"])
        learner = ids.learner_id(body["learner"])
    except ValueError as error:
        raise Refusal(400, str(error)) from None
    action = body.get("action", "view")
    if action not in ("view", "edit"):
        raise Refusal(400, "action must be \"view\" or \"edit\".")
    if action == "edit" and not context.settings.allow_edit:
        raise Refusal(403, "This server does not open the course builder (COURSEWIRE_ALLOW_EDIT is off).")
    try:
        embed = context.mint(course, learner, action=action, settings=context.settings)
    except MintError as error:
        headers = [("Retry-After", str(error.retry_after))] if isinstance(error, RateLimited) and error.retry_after else []
        refusal = Refusal(error.status, error.sentence, headers)
    else:
        refusal = None
    if refusal is not None:
        raise refusal  # outside the except: no exception chain back to the client's internals
    answer = {"url": embed.url, "expires_at": iso_utc(embed.expires_at)}
    if context.has_store():
        # Lets the page report this learner's events in this course (POST /api/events), and no other.
        answer["report_token"] = context.issue_report_token(course, learner)
    return 200, answer


def iso_utc(moment):
    """ISO-8601 in UTC with a Z, to the second: 2026-11-28T14:03:00Z."""
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
