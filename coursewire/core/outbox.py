"""Browser reports: every accepted event, kept until the host's server says it has stored it.

The host's server (POST /api/events) records what the learner's page saw, next to what
Coassemble's signed webhooks prove. Each event carries the page session's id and a sequence
number, so the server applies it once however often a batch is sent again; the outbox is saved
with the record (it survives a reload and an offline spell), sent in batches, retried with a
growing delay, and flushed with navigator.sendBeacon when the page goes away. A batch is bound to
a learner and a course by an opaque report token the server issued with the signed embed URL.
What each answer means is one rule, `reply_rule`: no answer and 5xx are retried with a growing
delay, 401 waits for a fresh token, 429 for the server's Retry-After; any other 4xx sets that
batch aside (said once) and later batches still go; a 2xx may name events the server refused
alone, which are dropped (said once).

Pure: the shell sends what `next_batch` gives and reports the answer with `answered`.
"""

import json

from coursewire.core.jsonsafe import parse_json
from coursewire.core.vocabulary import is_int, is_session_id

# 2: stored in chunks (see save_plan), so a save writes what was added since the last one, not
# the whole pending list. Version 1 (the whole list in one record) is still read.
OUTBOX_VERSION = 2
OUTBOX_CHUNK = 100  # entries per stored chunk
MAX_CHUNK_CHARS = OUTBOX_CHUNK * 140000  # entries of messages up to 64 Ki characters, escaped
MAX_CHUNK_DEPTH = 40  # a message's nesting (32) and the chunk's own levels
MAX_BATCH_EVENTS = 100
MAX_BATCH_CHARS = 256 * 1024  # well under the server's 512 KiB
MAX_PENDING = 10000  # a week offline at a quiz a day is far below this
FIRST_RETRY_MS = 1000
MAX_RETRY_MS = 60000
MAX_RETRY_AFTER_MS = 3600000  # a server's Retry-After is honoured up to an hour
MAX_REASON_CHARS = 200  # of a server's sentence, in a notice

# What the host's server's answer to a batch means: the outbox's one rule (`reply_rule`).
SENT = "sent"  # 2xx: stored, apart from the events it names as refused
RETRY = "retry"  # no answer (0), 5xx, 408 and anything unexpected: again, after a growing delay
WAIT_FOR_TOKEN = "wait for a token"  # 401: the next minted URL brings a fresh report token
WAIT = "wait"  # 429: after the server's Retry-After (or the growing delay without one)
SET_ASIDE = "set aside"  # any other 4xx: this batch never goes as it is; later ones still go


def reply_rule(status):
    """What the server's HTTP `status` (0: no answer at all) means for the batch it answered."""
    if 200 <= status < 300:
        return SENT
    if status == 401:
        return WAIT_FOR_TOKEN
    if status == 429:
        return WAIT
    if 400 <= status < 500 and status != 408:  # 408: the request took too long on its way, not its fault
        return SET_ASIDE
    return RETRY


class Outbox:
    def __init__(self, session_id, course=None, learner=None):
        if not is_session_id(session_id):
            raise ValueError("a report session id is 8-64 letters, digits, '_' or '-'")
        self.session_id = session_id  # this page's; entries of earlier pages keep theirs
        self.course = course
        self.learner = learner
        self.token = None  # the newest report token the server issued for this course and learner
        # Oldest first. An entry added by this page is {"session", "seq", "text"}: its event
        # serialised once, for the batch and the stored chunk, and nothing else kept (an entry
        # held the parsed event too: 5,000 unsent answers kept 5,000 payloads alive, and on
        # MicroPython every allocation scans past what is alive). One restored from storage is
        # {"session", "seq", "type", "event", "data", "time"}: its text is made when it is sent.
        self.pending = []
        self.next_seq = 1
        self.dropped = 0  # entries refused for good (a bound reached, a batch the server refuses)
        self.notice = None  # one sentence for the page to show (console and inspector), then None
        self._told = set()  # kinds of refusal already told: each is told once
        self.in_flight = None  # (session, last seq) of the batch being sent
        self.failures = 0
        self.paused = None  # why sending waits for something (a refused token), or None
        # A delay answered() asked for is running: nothing goes until the shell says it is over
        # (wait_over), so new events neither cut a server's Retry-After short nor a backoff.
        self.waiting = False
        # Storage positions: pending[i] is entry number first + i of this outbox's stored sequence.
        self.first = 0
        self._stored_end = 0  # entries before this position are in storage as of the last save
        self._stored_chunks = set()  # chunk numbers in storage

    # -- what the page saw --

    def add(self, event, now):
        """Queue an accepted Event (the page's time `now`). Returns False when the outbox is full."""
        if len(self.pending) >= MAX_PENDING:
            self.dropped += 1
            return False
        text = _event_text(self.next_seq, event.type, event.event, event.data, now)
        self.pending.append({"session": self.session_id, "seq": self.next_seq, "text": text})
        self.next_seq += 1
        return True

    def set_token(self, token):
        """A fresh report token (with each minted URL): it also resumes sending after a refusal."""
        if isinstance(token, str) and token:
            self.token = token
            self.paused = None

    # -- sending --

    def next_batch(self):
        """The text of the next batch to POST (the oldest session's oldest entries), or None when
        there is nothing to send, no token, sending is paused, or a batch is already on its way."""
        if not self.pending or self.token is None or self.paused or self.waiting or self.in_flight is not None:
            return None
        session = self.pending[0]["session"]
        events = []
        size = 0
        for entry in self.pending:
            if entry["session"] != session or len(events) >= MAX_BATCH_EVENTS:
                break
            text = entry.get("text") or _entry_text(entry)  # (restored entries have none)
            if events and size + len(text) > MAX_BATCH_CHARS:
                break
            events.append(text)
            size += len(text)
        last = self.pending[len(events) - 1]["seq"]
        self.in_flight = (session, last)
        head = {"token": self.token, "session": session}
        if self.course is not None:
            head["course"] = self.course
        if self.learner is not None:
            head["learner"] = self.learner
        return json.dumps(head)[:-1] + ', "events": [' + ", ".join(events) + "]}"

    def wait_over(self):
        """The delay answered() gave has passed: sending may go on."""
        self.waiting = False

    def answered(self, status, body=None, retry_after=None):
        """The server's answer to the batch in flight (`reply_rule`): status (0: no answer at
        all), the answer's text, its Retry-After header. Returns the delay in ms before the next
        try (nothing is sent until `wait_over` is called then), 0 to send on at once, or None to
        wait for something else. A refusal the page should show is left in `notice` (each kind
        once)."""
        if self.in_flight is None:
            return None
        session, last = self.in_flight
        self.in_flight = None
        rule = reply_rule(status)
        if rule == SENT:
            self._forget(session, last)
            self.failures = 0
            self._refused_events(body)
            return 0 if self.pending else None
        if rule == WAIT_FOR_TOKEN:
            self.paused = "the server refused the report token"
            return None  # a fresh token (the next minted URL) resumes sending
        if rule == SET_ASIDE:
            # The server will never take this batch as it is: keep the record, drop the report,
            # and send what came after it.
            self.dropped += self._forget(session, last)
            self._tell(
                "batch",
                "The host's server refused a batch of reports (HTTP %d%s); it was set aside "
                "and later reports are still sent." % (status, _reason(body)),
            )
            return 0 if self.pending else None
        self.failures += 1
        delay = min(FIRST_RETRY_MS * (2 ** (self.failures - 1)), MAX_RETRY_MS)
        if rule == WAIT:
            seconds = _seconds(retry_after)
            if seconds is not None:
                delay = min(max(seconds * 1000, FIRST_RETRY_MS), MAX_RETRY_AFTER_MS)
        self.waiting = True
        return delay

    def _refused_events(self, body):
        # A 2xx may name events the server refused alone ({"refused": [{"seq", "error"}]}): they
        # are gone with their batch; the page says so once.
        answer, reason = parse_json(body, 1000000) if isinstance(body, str) else (None, "")
        refused = answer.get("refused") if reason is None and isinstance(answer, dict) else None
        if not isinstance(refused, list) or not refused:
            return
        self.dropped += len(refused)
        first = refused[0] if isinstance(refused[0], dict) else {}
        error = first.get("error")
        self._tell(
            "events",
            "The host's server refused %s report%s (%s); %s dropped."
            % (
                len(refused),
                "" if len(refused) == 1 else "s",
                _clip(error) if isinstance(error, str) else "no reason given",
                "it was" if len(refused) == 1 else "they were",
            ),
        )

    def _tell(self, kind, text):
        if kind not in self._told:
            self._told.add(kind)
            self.notice = text

    def _forget(self, session, last):
        # A batch is always the oldest entries (next_batch): forget a prefix.
        forgotten = 0
        for entry in self.pending:
            if entry["session"] != session or entry["seq"] > last:
                break
            forgotten += 1
        del self.pending[:forgotten]
        self.first += forgotten
        return forgotten

    def final_batches(self):
        """Every pending batch's text, for sendBeacon as the page goes away (the server ignores
        what it already has, so sending one twice is harmless)."""
        texts = []
        saved = list(self.pending), self.in_flight, self.paused, self.first, self.waiting
        self.in_flight, self.paused, self.waiting = None, None, False
        while self.pending and self.token is not None:
            text = self.next_batch()
            texts.append(text)
            session, last = self.in_flight
            self.in_flight = None
            self._forget(session, last)
        self.pending, self.in_flight, self.paused, self.first, self.waiting = saved
        return texts

    # -- persistence: "outbox" (a small head) and "outbox:K" (chunk K), beside the record --

    def save_plan(self):
        """What to store so that storage holds the pending entries: (writes, removes, done).

        writes: [(suffix, text)] in order, the chunks holding entries added since the last save,
        then the head; removes: [suffix], after the writes, chunks whose entries are all forgotten
        (or everything, when nothing is pending); done: call it once all of them succeeded. A save
        writes what was added, so its cost does not grow with the pending list."""
        end = self.first + len(self.pending)
        if not self.pending:
            removes = [PART] + [_chunk(k) for k in sorted(self._stored_chunks)]
            return [], removes, lambda: self._saved(end, set())
        live = set(range(self.first // OUTBOX_CHUNK, (end - 1) // OUTBOX_CHUNK + 1))
        writes = []
        for k in range(max(self._stored_end, self.first) // OUTBOX_CHUNK, (end - 1) // OUTBOX_CHUNK + 1):
            low, high = max(k * OUTBOX_CHUNK, self.first), min((k + 1) * OUTBOX_CHUNK, end)
            entries = self.pending[low - self.first : high - self.first]
            # One text per entry, joined: MicroPython's json.dumps is quadratic on long text.
            writes.append((_chunk(k), "[%d, [%s]]" % (low, ", ".join([_stored_text(e) for e in entries]))))
        writes.append(
            (PART, json.dumps({"version": OUTBOX_VERSION, "token": self.token, "first": self.first, "end": end}))
        )
        removes = [_chunk(k) for k in sorted(self._stored_chunks - live)]
        return writes, removes, lambda: self._saved(end, live)

    def _saved(self, end, chunks):
        self._stored_end = end
        self._stored_chunks = chunks

    def restore(self, record, read_part=None):
        """Take back what an earlier page left unsent: `record` is the parsed head ("outbox"),
        read_part(suffix) the text of a chunk. Returns None, or why the record was unusable."""
        if not isinstance(record, dict) or record.get("version") not in (1, OUTBOX_VERSION):
            return "not an outbox record"
        chunks = set()
        first = 0
        if record["version"] == 1:
            pending = record.get("pending")
            if not isinstance(pending, list) or len(pending) > MAX_PENDING:
                return "the outbox record's pending list is unusable"
        else:
            first, end = record.get("first"), record.get("end")
            if not _is_position(first) or not _is_position(end) or not first <= end <= first + MAX_PENDING:
                return "the outbox record's positions are unusable"
            pending = []
            for k in range(first // OUTBOX_CHUNK, (end + OUTBOX_CHUNK - 1) // OUTBOX_CHUNK):
                low, entries = _read_chunk(read_part(_chunk(k)) if read_part else None)
                if entries is None or not k * OUTBOX_CHUNK <= low <= max(k * OUTBOX_CHUNK, first):
                    return "part %d of the outbox record is missing or unusable" % (k + 1)
                pending.extend(entries[max(0, first - low) : max(0, end - low)])
                chunks.add(k)
            if len(pending) != end - first:
                return "the outbox record's chunks do not hold its entries"
        clean = []
        for entry in pending:
            if not _usable_entry(entry):
                return "an entry of the outbox record is unusable"
            entry.pop("text", None)  # stored text is never trusted as JSON: it is made again
            clean.append(entry)
        self.pending = clean + [e for e in self.pending if e["session"] == self.session_id]
        self.first = first
        # A version 1 record is written again, in chunks, by the next save.
        self._saved(first + len(clean) if record["version"] == OUTBOX_VERSION else first, chunks)
        if self.token is None and isinstance(record.get("token"), str):
            self.token = record["token"]
        return None


PART = "outbox"  # the head's suffix; chunk K is "outbox:K"


def _chunk(k):
    return "%s:%d" % (PART, k)


def _is_position(value):
    return is_int(value) and value >= 0


def _read_chunk(text):
    """(position of its first entry, its entries) from a chunk's text, or (None, None)."""
    if not isinstance(text, str):
        return None, None
    value, reason = parse_json(text, MAX_CHUNK_CHARS, MAX_CHUNK_DEPTH)
    if (
        reason is not None
        or not isinstance(value, list)
        or len(value) != 2
        or not _is_position(value[0])
        or not isinstance(value[1], list)
        or len(value[1]) > OUTBOX_CHUNK
    ):
        return None, None
    return value[0], value[1]


def _seconds(value):
    """Retry-After's delay in whole seconds ("120"), or None (absent, or an HTTP date: the
    growing delay is used then)."""
    if isinstance(value, str):
        value = value.strip()
        if value and len(value) <= 10 and all(c in "0123456789" for c in value):
            return int(value)
    return None


def _clip(text):
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "\u2026"


def _reason(body):
    # The server's own sentence ({"error": ...}), when it gave one.
    answer, reason = parse_json(body, 100000) if isinstance(body, str) else (None, "")
    error = answer.get("error") if reason is None and isinstance(answer, dict) else None
    return ": " + _clip(error) if isinstance(error, str) and error else ""


def _entry_text(entry):
    """The batch text of an entry restored from storage (a stored entry may leave out a null event)."""
    return _event_text(entry["seq"], entry["type"], entry.get("event"), entry["data"], entry["time"])


def _event_text(seq, kind, event, data, time):
    """The JSON text of an event as a batch's "events" hold it, made once per entry."""
    item = {"seq": seq, "type": kind, "data": data, "time": time}
    if event is not None:
        item["event"] = event
    text = json.dumps(item)
    if "\\u0000" in text:
        text = json.dumps(_without_nul(item))  # a database cannot store NUL; the page shows U+FFFD too
    return text


def _stored_text(entry):
    """An entry's text in a stored chunk: its batch text with its session, when it has one
    (an object with the same keys, "event" left out when null, as the batch has it)."""
    text = entry.get("text")
    if text is None:
        return json.dumps(entry)
    # A session id is letters, digits, "_" and "-" (vocabulary.SESSION_CHARS): nothing to escape.
    return '{"session": "' + entry["session"] + '", ' + text[1:]


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _usable_entry(entry):
    if not isinstance(entry, dict):
        return False
    session, seq = entry.get("session"), entry.get("seq")
    return (
        is_session_id(session)
        and is_int(seq)
        and seq >= 1
        and isinstance(entry.get("type"), str)
        and (entry.get("event") is None or isinstance(entry["event"], str))
        and isinstance(entry.get("data"), dict)
        and isinstance(entry.get("time"), str)
    )
