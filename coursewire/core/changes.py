"""What changed after a batch of messages: the parts of the page to redraw and of the record to save.

A change set is a dict keyed by these names. Most parts map to True ("redraw it"); QUIZ and
UNLOCKS map to the list of what is new, so a view can append rows instead of redrawing a long log;
SCREENS_EDITED (never empty) to the screens the record keeper must write again.
"""

# Course player
SESSION = "session"  # the session pill: waiting, ready, error (with its message), expired
PROGRESS = "progress"
STATUS = "status"  # Not started / In progress / Completed
FEEDBACK = "feedback"
SCREENS = "screens"
# [positions in screen_order of screens changed in place]: what a save rewrites (store.py); a new
# screen is not listed, the store finds it by the list's length.
SCREENS_EDITED = "screens_edited"
QUIZ = "quiz"  # [new quiz entries]; [] when the log was cleared
UNLOCKS = "unlocks"  # [ids of steps unlocked now]
# Course builder
ERRORS = "errors"
COURSE = "course"  # the course id or title
DRAFT = "draft"
BACK = "back"
# Either
RESET = "reset"  # the record was forgotten: redraw everything
LOG = "log"  # the inspector's log has new entries
NOTICES = "notices"  # a new sentence for the page (storage refused, a bound reached ...)

LISTED = (QUIZ, UNLOCKS, SCREENS_EDITED)


def merge(pending, changes):
    """Fold `changes` into `pending` (both change sets): lists are concatenated, flags kept."""
    for part, detail in changes.items():
        if part in LISTED:
            if detail:
                pending.setdefault(part, []).extend(detail)
            else:
                pending[part] = []  # a cleared log: the view redraws it
        else:
            pending[part] = detail
    return pending
