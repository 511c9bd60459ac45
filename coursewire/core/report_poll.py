"""The report page's rules: which request goes next, which changes a page shows, what the pill says.

The page (app/page_report.py) reads a course's summary and one page of learners at a time, and
polls `since=<cursor>` for what changed. This holds what decides: the pages visited and how to go
back, one request at a time (a page asked while a poll is out waits for its answer), the summary
read once more when a change came while it was on its way, the page read again when more changed
than one answer holds, a restart from the first page when the server's record went back. It does
no I/O: each step returns the requests to make, as tuples:

    (SUMMARY,)        GET api/records/summary
    (PAGE, token)     GET api/records?limit=...[&page=token]  (token None: the first page)
    (POLL, cursor)    GET api/records?since=cursor&limit=...

Pure (no browser), so it is tested on CPython and runs the same on both runtimes.
"""

SUMMARY = "summary"
PAGE = "page"
POLL = "poll"

# What the live pill says (data-live, text) in each state a staff user can see.
LIVE = ("live", "Live")
LOADING = ("waiting", "Loading…")
CHECKING = ("waiting", "Checking sign-in…")
SIGNED_OUT = ("signed-out", "Signed out")
PAUSED = ("paused", "Paused while hidden")
OFFLINE = ("offline", "Offline, retrying")
TROUBLE = ("error", "Server trouble, retrying")
SIGN_IN_AGAIN = "Your staff session has ended: sign in again."
UNREADABLE = "The server's answer could not be read; retrying."


def sentence(value, fallback):
    """The server's one-sentence `error`, else `fallback`."""
    error = value.get("error") if isinstance(value, dict) else None
    return error if isinstance(error, str) and error else fallback


def records_answer(status, value):
    """What a records answer means for the page: ("ok", None), ("sign-in", sentence) for an ended
    staff session, ("offline", None) when the server cannot be reached, ("error", sentence)."""
    if status == 401:
        return "sign-in", sentence(value, SIGN_IN_AGAIN)
    if status == 0:
        return "offline", None
    if status != 200 or not isinstance(value, dict) or not isinstance(value.get("records"), list):
        return "error", sentence(value, UNREADABLE)
    return "ok", None


def learners_of(value):
    """The records of an answer that name a learner (anything else is not drawn)."""
    return [r for r in value["records"] if isinstance(r, dict) and isinstance(r.get("learner"), str)]


def merge(by_learner, changed):
    """Fold the records of a poll into `by_learner` (learner -> record, changed in place); returns
    the learners whose record changed, in table order (code-point order, as the server sorts)."""
    updated = []
    for record in changed:
        learner = record.get("learner")
        if isinstance(learner, str) and by_learner.get(learner) != record:
            by_learner[learner] = record
            updated.append(learner)
    return sorted(updated)


class ReportPoll:
    """One course's report page: its pages, its poll cursor and what is on its way."""

    def __init__(self):
        self.signed_in = False
        self.loading = False  # a page or a poll is on its way: one at a time
        self.summary_loading = False
        self.summary_again = False
        self.pending = None  # "next" / "previous", asked while a poll was on its way
        self.asked_index = 0
        self.forget()

    def forget(self):
        """Nothing read yet: no learner shown, polls start from the first page's snapshot."""
        self.records = {}  # learner -> record, of the page shown only
        self.cursor = 0  # the poll cursor: changes after it are not yet seen
        self.drawn = False
        # The pages visited: the token each was asked with (None: the first page) and the learner
        # before it ("" for the first page), so Previous goes back and a poll knows which changed
        # learners fall on the page shown. page_last: the page's last learner when another page
        # follows (learners after it belong to the next page), else None.
        self.tokens = [None]
        self.afters = [""]
        self.firsts = [1]  # the number of each page's first learner, for "Learners 101–200"
        self.page_last = None
        self.next_page = None

    # -- signing in and out --

    def enter(self):
        """Signed in: the summary and the first page."""
        self.signed_in = True
        return self.ask_summary() + self.ask_page(0)

    def leave(self):
        """Signed out: every record forgotten, no more polls."""
        self.signed_in = False
        self.forget()

    # -- the summary --

    def ask_summary(self):
        if self.summary_loading:
            self.summary_again = True  # a change after the one on its way: read it once more after
            return []
        self.summary_loading = True
        self.summary_again = False
        return [(SUMMARY,)]

    def summary_answered(self):
        """The summary's answer came: whether to use it, and what to ask next."""
        self.summary_loading = False
        if not self.signed_in:
            return False, []
        return True, self.ask_summary() if self.summary_again else []

    # -- pages --

    def first_shown(self):
        return self.firsts[-1]

    def can_go(self, where):
        return self.next_page is not None if where == "next" else len(self.tokens) > 1

    def has_pages(self):
        return len(self.tokens) > 1 or self.next_page is not None

    def in_page(self, learner):
        """Whether `learner` belongs on the page shown (between the page before and the next)."""
        if learner <= self.afters[-1]:
            return False
        return self.page_last is None or learner <= self.page_last

    def ask_page(self, index):
        """Page `index` of the pages visited (0: the first; len: the one after the last)."""
        if not self.signed_in:
            return []
        self.loading = True
        self.asked_index = index
        return [(PAGE, self.tokens[index] if index < len(self.tokens) else self.next_page)]

    def page_failed(self):
        self.loading = False
        return self.settle()

    def page_answered(self, value):
        """A page's records answer: the records to draw. Still loading until page_drawn: polls wait."""
        index = self.asked_index
        if index >= len(self.tokens):  # forward: remember how to come back
            self.tokens.append(self.next_page)
            self.afters.append(self.page_last or "")
            self.firsts.append(self.firsts[-1] + len(self.records))
        else:  # back, or the page shown read again
            del self.tokens[index + 1 :]
            del self.afters[index + 1 :]
            del self.firsts[index + 1 :]
        records = learners_of(value)
        if not self.drawn and isinstance(value.get("cursor"), int):
            self.cursor = value["cursor"]  # the first page's snapshot: polls start from it
        self.next_page = value.get("next_page") if isinstance(value.get("next_page"), str) else None
        self.page_last = records[-1]["learner"] if records and self.next_page else None
        self.records = {}
        for record in records:
            self.records[record["learner"]] = record
        return records

    def page_drawn(self):
        self.loading = False
        self.drawn = True
        return self.settle()

    def go(self, where):
        """Next or previous page; while a poll is on its way, as soon as it has answered."""
        if self.loading:
            self.pending = where
            return []
        self.pending = None
        if where == "next" and self.next_page is not None:
            return self.ask_page(len(self.tokens))
        if where == "previous" and len(self.tokens) > 1:
            return self.ask_page(len(self.tokens) - 2)
        return []

    def settle(self):
        """An answer has been handled: go where the staff asked meanwhile."""
        if self.pending is not None and not self.loading:
            return self.go(self.pending)
        return []

    def erased(self, learner):
        self.records.pop(learner, None)

    # -- polling --

    def ask_poll(self, hidden):
        """The poll to make now, if any: none while signed out, hidden, before the first page is
        drawn or while another answer is on its way."""
        if not self.signed_in or self.loading or not self.drawn or hidden:
            return []
        self.loading = True
        return [(POLL, self.cursor)]

    def poll_answered(self, value):
        """A poll's records answer (None when it was not one): (requests, live, updated).

        live: the pill's new state or None; updated: None when no change was seen, else the learners
        of the page shown whose record changed (in `records` now, in table order; [] for none).
        """
        self.loading = False
        requests, live, updated = self._patch(value)
        return requests + self.settle(), live, updated

    def _patch(self, value):
        if value is None:
            return [], None, None
        cursor = value.get("cursor")
        if not isinstance(cursor, int):
            return [], None, None
        if cursor < self.cursor:
            # The server's record was reset or restored: start again from the first page.
            # (The rows shown stay until the first page's answer replaces them.)
            self.cursor, self.drawn = 0, False
            self.tokens, self.afters, self.firsts = [None], [""], [1]
            return self.ask_summary() + self.ask_page(0), None, None
        changed = learners_of(value)
        self.cursor = cursor
        if not changed:
            return [], LIVE, None
        requests = self.ask_summary()
        if value.get("next_page"):
            # More changed than one answer holds: read the page shown again rather than every change.
            return requests + self.ask_page(len(self.tokens) - 1), LIVE, None
        mine = [r for r in changed if self.in_page(r["learner"])]
        return requests, LIVE, merge(self.records, mine)
