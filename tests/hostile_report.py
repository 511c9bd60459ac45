"""Figures from the hostile suite (tests/browser/test_hostile.py): one row per attack class and runtime.

Tests add rows through the session-scoped `hostile_figures` fixture; at the end of the run the
table is printed in pytest's terminal summary and written to test-artifacts/hostile-figures.json.
Registered by importing the hook and fixture into tests/conftest.py (a clearly marked section).
"""

import datetime
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGURES_PATH = os.path.join(ROOT, "test-artifacts", "hostile-figures.json")
COLUMNS = ("tried", "accepted", "page_errors", "answers_lost")


class HostileFigures:
    def __init__(self):
        self.rows = []  # {"class", "runtime", "tried", "accepted", "page_errors", "answers_lost", "notes": {}}

    def add(self, attack, runtime, tried, accepted, page_errors=0, answers_lost=0, **notes):
        self.rows.append(
            {
                "class": attack,
                "runtime": runtime,
                "tried": tried,
                "accepted": accepted,
                "page_errors": page_errors,
                "answers_lost": answers_lost,
                "notes": notes,
            }
        )

    def table(self):
        lines = ["%-22s %-4s %9s %9s %11s %12s  %s" % (("class", "rt") + COLUMNS + ("notes",))]
        for row in self.rows:
            notes = ", ".join("%s=%s" % (k, _short(v)) for k, v in row["notes"].items())
            lines.append(
                "%-22s %-4s %9s %9s %11s %12s  %s"
                % (
                    row["class"],
                    row["runtime"],
                    row["tried"],
                    row["accepted"],
                    row["page_errors"],
                    row["answers_lost"],
                    notes,
                )
            )
        return lines

    def write(self, full):
        os.makedirs(os.path.dirname(FIGURES_PATH), exist_ok=True)
        document = {
            "written": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "full": full,
            "totals": {key: sum(r[key] for r in self.rows if isinstance(r[key], int)) for key in COLUMNS},
            "rows": self.rows,
        }
        with open(FIGURES_PATH, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=2)


def _short(value):
    if isinstance(value, float):
        return "%.1f" % value
    return str(value)


_FIGURES = HostileFigures()


@pytest.fixture(scope="session")
def hostile_figures():
    return _FIGURES


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _FIGURES.rows:
        return
    full = os.environ.get("COURSEWIRE_FULL") == "1"
    _FIGURES.write(full)
    terminalreporter.section("hostile figures (%s size)" % ("full" if full else "reduced"))
    for line in _FIGURES.table():
        terminalreporter.write_line(line)
    terminalreporter.write_line("written to %s" % os.path.relpath(FIGURES_PATH, ROOT))
