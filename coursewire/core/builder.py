"""What the host page knows about one authoring session in an embedded course builder.

A reducer like course.py: `BuilderState.apply(event, now)` returns a change set and reads only the
fields wire.py validated. The persisted form is in records.py.
"""

from coursewire.core import changes as C
from coursewire.core.state import State
from coursewire.core.wire import Event

BUILDER_ERRORS_CAP = 50


class BuilderState(State):
    """One authoring session in the course builder."""

    FRAME_FIELDS = ("session", "expired")

    def __init__(self):
        self.session = "waiting"
        self.expired = False
        self.errors = []
        self.error_count = 0
        self.course_id = None
        self.course_title = None
        self.draft_saved_at = None
        self.revision = 0
        self.back_requested = 0

    @property
    def session_error(self):
        """The latest error's message while the session is in error (as CourseState has it)."""
        if self.session == "error" and self.errors:
            return self.errors[-1]["message"]
        return None

    def apply(self, event, now):
        """Fold one parsed message in. Returns {part: True} for each changed part."""
        if not isinstance(event, Event) or event.name not in self._HANDLERS:
            return {}
        changes = {}
        self._HANDLERS[event.name](self, event.fields, now, changes)
        return changes

    def _session_ready(self, fields, now, changes):
        # Also the remount after an expired URL: the new iframe is ready again.
        self.expired = False
        self._set_session("ready", changes)

    def _session_error(self, fields, now, changes):
        shown = self.session_error
        self.errors.append({"message": fields["message"], "time": now})
        if len(self.errors) > BUILDER_ERRORS_CAP:
            del self.errors[: len(self.errors) - BUILDER_ERRORS_CAP]
        self.error_count += 1
        changes[C.ERRORS] = True
        self._set_session("error", changes)
        if self.session_error != shown:
            changes[C.SESSION] = True  # the pill shows the latest message, even if already in error

    def _session_expired(self, fields, now, changes):
        self.expired = True
        self._set_session("expired", changes)

    def _set_session(self, session, changes):
        if self.session != session:
            self.session = session
            changes[C.SESSION] = True

    def _course_saved(self, fields, now, changes):
        # course:created, course:updated and course:generated all mean the builder saved a draft.
        course_id, title = fields["id"], fields["title"]
        if course_id is not None and course_id != self.course_id:
            self.course_id = course_id
            changes[C.COURSE] = True
        if title is not None and title != self.course_title:
            self.course_title = title
            changes[C.COURSE] = True
        self.revision += 1
        self.draft_saved_at = now
        changes[C.DRAFT] = True

    def _back(self, fields, now, changes):
        self.back_requested += 1
        changes[C.BACK] = True

    _HANDLERS = {
        "session:ready": _session_ready,
        "session:error": _session_error,
        "session:expired": _session_expired,
        "course:created": _course_saved,
        "course:updated": _course_saved,
        "course:generated": _course_saved,
        "back": _back,
    }
