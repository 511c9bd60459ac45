"""One learner's data, for the host's staff (GDPR Articles 15, 17 and 20).

    DELETE /api/learners/<percent-encoded id>         erase the learner here and at Coassemble
        200 {"learner", "removed": {"records": n, "reported_events": n, "quiz_answers": n,
             "quiz_screens": n, "webhook_deliveries": n}, "coassemble": "erased" | "not found" |
             "failed" | "not configured"[, "error": sentence, when "failed"]}
    GET    /api/learners/<percent-encoded id>/export  200 one JSON document of everything held
                                                      about the learner, as an attachment
    400 a malformed id · 401/503 not staff (records_api.authorise_staff) · 403 another site's page
    404 nothing held about the learner (no rows and no erasure)

A failure at Coassemble does not undo the erasure here: the answer says so, and
`coursewire erase ID` retries it (coursewire/server/erase.py).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from coursewire.server import erase as erasing
from coursewire.server.http import Refusal, refuse_other_sites
from coursewire.server.ids import learner_id
from coursewire.server.records_api import authorise_staff
from coursewire.server.store.erasure import export_document
from coursewire.server.store.errors import StoreUnavailable

if TYPE_CHECKING:
    from coursewire.server.http import Answer, Request
    from coursewire.server.wsgi import Context

# The id is everything after the prefix (greedy): an id holding "/" (sent as %2F, which the WSGI
# server decodes) still names one learner; GET .../export is the export of the id before it.
ERASE_PATTERN = re.compile(r"/api/learners/(?P<learner>.+)")
EXPORT_PATTERN = re.compile(r"/api/learners/(?P<learner>.+)/export")
PREFIX = "/api/learners/"
EXPORT_FILENAME = "coursewire-learner-export.json"

log = logging.getLogger("coursewire.server.learners")


def erase(request: Request, context: Context, learner: str) -> Answer:
    authorise_staff(request, context)
    refuse_other_sites(
        request, "A learner can be erased only from this site's own pages", context.settings.allowed_origins
    )
    learner = _learner(learner)
    try:
        answer = erasing.erase(context.store, context.settings, learner, context.clock())
    except StoreUnavailable as error:
        log.warning("learner not erased: %s", error)
        raise Refusal(503, "The learner record is unavailable; nothing was erased, try again shortly.") from error
    if answer is None:
        raise Refusal(404, "Nothing is held about this learner.")
    if answer["coassemble"] == erasing.FAILED:
        log.warning("learner erased here; Coassemble's erasure failed: %s", answer["error"])
    return 200, answer


def export(request: Request, context: Context, learner: str) -> Answer:
    authorise_staff(request, context)
    learner = _learner(learner)
    try:
        held = context.store.learner_export(learner)
    except StoreUnavailable as error:
        log.warning("learner not exported: %s", error)
        raise Refusal(503, "The learner record is unavailable; try again shortly.") from error
    if held is None:
        raise Refusal(404, "Nothing is held about this learner.")
    return 200, export_document(held), [("Content-Disposition", 'attachment; filename="%s"' % EXPORT_FILENAME)]


def _learner(text: str) -> str:
    """The learner id from a (WSGI-decoded) path segment; Refusal(400) when it is not one."""
    try:
        # PEP 3333: PATH_INFO holds the URL's bytes as latin-1 characters; the id is UTF-8.
        text = text.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        pass  # a server that already gave text
    except UnicodeDecodeError:
        raise Refusal(400, "The learner id in the path must be UTF-8, percent-encoded.") from None
    try:
        return learner_id(text, "The learner id in the path")
    except ValueError as error:
        raise Refusal(400, str(error)) from error


# (method, compiled pattern, route): wsgi.py answers these after its exact paths.
PATTERN_ROUTES = (
    ("GET", EXPORT_PATTERN, export),
    ("DELETE", ERASE_PATTERN, erase),
)
