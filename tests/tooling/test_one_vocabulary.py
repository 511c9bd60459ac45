"""One owner for the event vocabulary: coursewire/core/vocabulary.py (and the reducer's quiz
bookkeeping in core/course.py). The server imports these; it defines none of them again, under the
same name or another, and the rules the page and the server both apply give one answer.

The guard reads coursewire/server/ with `ast` (nothing is executed) and refuses, in any module:
a top-level name that is a core vocabulary name or a known copied helper (underscores aside); a
module-level constant whose value is one of the vocabulary's; the `isinstance(x, int) and not
isinstance(x, bool)` test (is_int); the progress clamp `max(0, min(100, ...))`; a dict with the
quiz entry's keys. Probes show each refusal can happen."""

import ast
import os
import random

import pytest

from coursewire.core import course, vocabulary, wire
from coursewire.core.outbox import Outbox
from coursewire.core.reconnect import MintRequest
from coursewire.core.roster import course_param
from coursewire.server import evidence, ids, reports
from coursewire.server.http import Refusal
from coursewire.server.store import paging

from serving import ROOT

SERVER = os.path.join(ROOT, "coursewire", "server")

# The core's names the server must import, never define: the vocabulary's own, the wire's field
# readers, the reducer's quiz functions, and the names the server's copies had before (issue 22).
CORE_NAMES = (
    {name for name in dir(vocabulary) if not name.startswith("_")}
    | {name for name in dir(wire) if name.startswith(("as_", "is_"))}
    | {"read_fields", "quiz_attempt", "quiz_entry", "is_number", "is_finite"}
)
KNOWN_COPIES = {
    "text",
    "digits",
    "attempt",
    "is_digits",
    "session_chars",
    "course_chars",
    "is_session",
    "raise_progress_clamp",
    "clamp",
}
# Server functions that wrap a core rule with the server's refusal (the agreement tests below check
# they give the core's answers).
WRAPPERS = {("coursewire/server/ids.py", "course_id")}
VOCABULARY_VALUES = [
    value
    for name, value in vars(vocabulary).items()
    if name.isupper() and isinstance(value, (str, tuple, dict)) and len(value) > 1
]
QUIZ_ENTRY_KEYS = set(course.quiz_entry(1, "answer", None, wire.read_fields("screen:answer", {}), 1, "t"))


def server_files():
    found = []
    for folder, _, names in os.walk(SERVER):
        found += [os.path.join(folder, name) for name in sorted(names) if name.endswith(".py")]
    assert any(path.endswith("evidence.py") for path in found)  # the guard looks where the server is
    return sorted(found)


def _literal(node):
    # A constant's value, also through frozenset("...") / set(...) / tuple(...), or None.
    if (
        isinstance(node, ast.Call)
        and len(node.args) == 1
        and getattr(node.func, "id", None) in ("frozenset", "set", "tuple")
    ):
        node = node.args[0]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _same_value(value, known):
    if isinstance(known, str) and isinstance(value, (set, frozenset)):
        return value == set(known)
    return type(value) is type(known) and value == known


def _is_isinstance(node, type_name):
    return (
        isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "isinstance"
        and len(node.args) == 2
        and getattr(node.args[1], "id", None) == type_name
    )


def _is_int_copy(node):
    # isinstance(x, int) and not isinstance(x, bool); not isinstance(x, int) or isinstance(x, bool)
    if not isinstance(node, ast.BoolOp):
        return False
    values = node.values
    for first, second in zip(values, values[1:], strict=False):
        negated_bool = isinstance(second, ast.UnaryOp) and isinstance(second.op, ast.Not)
        if (
            isinstance(node.op, ast.And)
            and _is_isinstance(first, "int")
            and negated_bool
            and _is_isinstance(second.operand, "bool")
        ):
            return True
        if (
            isinstance(node.op, ast.Or)
            and isinstance(first, ast.UnaryOp)
            and isinstance(first.op, ast.Not)
            and _is_isinstance(first.operand, "int")
            and _is_isinstance(second, "bool")
        ):
            return True
    return False


def _is_clamp_copy(node):
    # max(0, min(100, x)) or min(100, max(0, x)), in either argument order
    if not isinstance(node, ast.Call) or getattr(node.func, "id", None) not in ("max", "min"):
        return False
    bound = 0 if node.func.id == "max" else 100
    inner = "min" if node.func.id == "max" else "max"
    constants = [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
    calls = [arg for arg in node.args if isinstance(arg, ast.Call) and getattr(arg.func, "id", None) == inner]
    return bound in constants and bool(calls)


def copies(source, filename="<probe>"):
    """Each place in `source` (a server module) that holds its own copy of the core's vocabulary."""
    tree = ast.parse(source, filename)
    problems = []
    for node in tree.body:
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            targets = [node.name]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        targets.append(name.id)
            value = _literal(node.value) if node.value is not None else None
            if value is not None and any(_same_value(value, known) for known in VOCABULARY_VALUES):
                problems.append("%s:%d copies a value of core/vocabulary.py" % (filename, node.lineno))
        for name in targets:
            bare = name.lstrip("_")
            if (filename, name) in WRAPPERS:
                continue
            if bare in CORE_NAMES or bare.lower() in KNOWN_COPIES:
                problems.append("%s:%d defines %s, which is the core's" % (filename, node.lineno, name))
    for node in ast.walk(tree):
        if _is_int_copy(node):
            problems.append("%s:%d copies is_int" % (filename, node.lineno))
        if _is_clamp_copy(node):
            problems.append("%s:%d copies the progress clamp" % (filename, node.lineno))
        if isinstance(node, ast.Dict) and QUIZ_ENTRY_KEYS <= {
            key.value for key in node.keys if isinstance(key, ast.Constant)
        }:
            problems.append("%s:%d builds its own quiz entry" % (filename, node.lineno))
    return problems


def test_the_server_defines_none_of_the_cores_vocabulary():
    problems = []
    for path in server_files():
        with open(path, encoding="utf-8") as f:
            problems += copies(f.read(), os.path.relpath(path, ROOT))
    assert problems == []


def test_is_int_is_written_once():
    problems = []
    for folder in ("coursewire", "app"):
        for parent, _, names in os.walk(os.path.join(ROOT, folder)):
            for name in names:
                path = os.path.join(parent, name)
                if name.endswith(".py") and path != vocabulary.__file__:
                    with open(path, encoding="utf-8") as f:
                        tree = ast.parse(f.read(), path)
                    problems += [
                        "%s:%d" % (os.path.relpath(path, ROOT), node.lineno)
                        for node in ast.walk(tree)
                        if _is_int_copy(node)
                    ]
    assert problems == []


def test_the_server_uses_the_cores_own_objects():
    assert evidence.quiz_attempt is course.quiz_attempt and evidence.quiz_entry is course.quiz_entry
    assert evidence.clamp_percent is vocabulary.clamp_percent is course.clamp_percent
    assert evidence.read_fields is wire.read_fields
    assert evidence.QUIZ_EVENTS is vocabulary.QUIZ_EVENTS
    assert paging.STATUSES is vocabulary.STATUSES
    assert (evidence.MAX_ATTEMPT, evidence.MAX_SCREEN_ID_CHARS) == (
        vocabulary.MAX_ATTEMPT,
        vocabulary.MAX_SCREEN_ID_CHARS,
    )
    assert reports.is_session_id is vocabulary.is_session_id and ids.MAX_COURSE_CHARS == vocabulary.MAX_COURSE_CHARS


OLD_COPIES = {  # what coursewire/server held before the core owned its vocabulary
    "a helper under the core's name": "def _as_id(value):\n    return value\n",
    "a helper under its old name": "def _text(value):\n    return value if isinstance(value, str) else None\n",
    "a status string": 'DONE = "completed_verified"\n',
    "the course id's characters": '_C = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")\n',
    "is_int, inline": "def f(seq):\n    return isinstance(seq, int) and not isinstance(seq, bool)\n",
    "is_int, negated": "def f(seq):\n    if not isinstance(seq, int) or isinstance(seq, bool):\n        return 1\n",
    "the progress clamp": "def f(record, p):\n    record['progress'] = max(0, min(100, p))\n",
    "a quiz entry": (
        "def f(e):\n    return {'seq': 1, 'event': 2, 'screen': 3, 'title': 4, 'question': 5,"
        " 'answer': 6, 'correct': 7, 'score': 8, 'attempt': 9, 'time': 10}\n"
    ),
    "the attempt rule": "def _attempt(screen, event):\n    return 1\n",
}


@pytest.mark.parametrize("what", sorted(OLD_COPIES))
def test_the_guard_fails_when_a_copy_is_added_back(what):
    with open(os.path.join(SERVER, "evidence.py"), encoding="utf-8") as f:
        source = f.read()
    assert copies(source) == []
    assert copies(source + "\n\n" + OLD_COPIES[what]) != [], what


# -- the rules both sides apply give one answer --


def _course_ids():
    rng = random.Random(22)
    alphabet = vocabulary.COURSE_CHARS + " /é\u00a0\t<>%"
    samples = [
        0,
        7,
        -1,
        True,
        None,
        1.5,
        "",
        "1",
        "intro-101",
        "a.b:c_d-e",
        "a b",
        "é",
        "x" * 128,
        "x" * 129,
        "y" * 256,
        "~" * 10,
        "\u0661",
        "12\n",
    ]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 140))) for _ in range(200)]
    return samples


def _server_course(value):
    try:
        return ids.course_id(value)
    except ValueError:
        return None


def _page_course(value):
    try:
        return MintRequest("/api/embed-url", value).course
    except ValueError:
        return None


def test_the_page_asks_for_exactly_the_course_ids_the_server_accepts():
    accepted = 0
    for value in _course_ids():
        assert _page_course(value) == _server_course(value), repr(value)
        if isinstance(value, str):
            assert course_param(value) == _server_course(value), repr(value)
        accepted += _server_course(value) is not None
    assert 0 < accepted < len(_course_ids())


def test_a_course_id_the_server_refuses_is_refused_by_the_page_before_a_mint():
    for value in ("y" * 256, "x" * 129, "a b", "a/b", -1):
        with pytest.raises(ValueError):
            ids.course_id(value)
        with pytest.raises(ValueError, match="course id"):
            MintRequest("/api/embed-url", value)


def _server_session(value):
    try:
        return reports._session(value)
    except Refusal:
        return None


def _page_session(value):
    try:
        return Outbox(value).session_id
    except ValueError:
        return None


def test_the_page_and_the_server_agree_on_session_ids():
    rng = random.Random(22)
    alphabet = vocabulary.SESSION_CHARS + " .:/é"
    samples = [None, 12345678, "", "a" * 7, "a" * 8, "a" * 64, "a" * 65, "abc_def-12", "abc def12", "abcdéfgh"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 70))) for _ in range(200)]
    for value in samples:
        assert _page_session(value) == _server_session(value), repr(value)


def test_the_server_logs_the_same_quiz_entries_as_the_page():
    messages = [
        {"type": "screen", "event": "start", "data": {"id": "q1", "title": "Check"}},
        {"type": "screen", "event": "answer", "data": {"id": "q1", "answer": ["b"], "correct": False, "score": 0}},
        {"type": "screen", "event": "retry", "data": {"id": "q1"}},
        {"type": "screen", "event": "answer", "data": {"id": "q1", "answer": "a", "correct": True, "score": "9"}},
        {"type": "screen", "event": "failed", "data": {"id": 7, "title": "Numbered", "attempt": 4, "score": 1.5}},
        {"type": "screen", "event": "retry", "data": {"id": 7}},
        {"type": "screen", "event": "answer", "data": {"title": "No id", "question": {"q": 1}, "correct": "yes"}},
        {"type": "course", "event": "progress", "data": {"progress": "140"}},
    ]
    page = course.CourseState()
    record, screens, logged = evidence.new_record("c", "l"), {}, []
    for seq, message in enumerate(messages, 1):
        parsed = wire.parse_message(message)
        page.apply(parsed, "t%d" % seq)
        event = evidence.ReportedEvent(seq, parsed.name, parsed.data, "t%d" % seq, parsed.fields)
        assert evidence.unstorable(screens, event) is None
        entry = evidence.apply_reported(record, screens, event)
        if entry is not None:
            logged.append(entry)
    assert len(logged) == 6
    assert [dict(entry, seq=None) for entry in logged] == [dict(entry, seq=None) for entry in page.quiz]
    assert [entry["attempt"] for entry in logged] == [1, 2, 2, 4, 5, 1]
    assert record["progress"] == page.progress == 100
    assert {screen_id: screen["attempt"] for screen_id, screen in screens.items()} == {"q1": 2, "7": 5}
