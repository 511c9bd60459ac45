"""CSV that a spreadsheet opens as text: no cell of it can start a formula.

Learner ids and answers come from outside (a learner types them, a page's console can forge
them); opened in Excel, LibreOffice or Google Sheets, a cell such as `=HYPERLINK(...)` or
`@SUM(1+1)*cmd|' /C calc'!A0` would run. Following OWASP's "CSV Injection" guidance, every cell
is quoted (inner quotes doubled), and an apostrophe (which makes the rest text) goes wherever a
spreadsheet could start a formula:
  - before the cell when it starts with = + - @ | (after any spaces), or with tab, CR, LF or NUL;
  - before every formula sign that starts a cell a spreadsheet may split off *inside* our text:
    after a separator of some locale or import dialog (`,` `;` `|` tab, line ends) or a quote,
    and any spaces. A spreadsheet set to `;` splits `"a","note;=1+1"` at the `;` whatever the
    quotes say, so a leading apostrophe alone would leave `=1+1` to run; `note;'=1+1` cannot.
The one implementation: the quiz log's export (present.quiz_csv) and the report page's learners
CSV (roster.py) both write their cells here.

Pure: runs on CPython, Pyodide and MicroPython alike.
"""

# What makes a spreadsheet read a cell as a formula or a DDE command, with the full-width forms
# some spreadsheets accept too.
FORMULA_SIGNS = "=+-@|\uff1d\uff0b\uff0d\uff20"
# What a cell must not start with at all (OWASP: tab and CR; LF and NUL, which some importers
# strip before they look for a formula, with them).
FORMULA_STARTS = FORMULA_SIGNS + "\t\r\n\x00"
# Where a spreadsheet may start a new cell inside our text: separators of every locale and of
# the import dialogs (comma, semicolon, tab, pipe), line ends, and quotes that end a quoted cell.
CELL_BREAKS = ",;|\t\r\n\"'"


def defused(text):
    """`text` with an apostrophe before every place a spreadsheet could start a formula in it
    (see the module's notes); text with none comes back as it is."""
    lead = text.lstrip(" ")[:1]
    out = ["'"] if lead and lead in FORMULA_STARTS else []
    done = 0  # text[:done] is already in `out`
    at_cell_start = False  # the text's own start is handled above
    for i, char in enumerate(text):
        if at_cell_start and char in FORMULA_SIGNS and i > 0:
            out.append(text[done:i])
            out.append("'")
            done = i
        if at_cell_start and char in " \x00":
            continue
        at_cell_start = char in CELL_BREAKS
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def needs_defusing(text):
    """True when some spreadsheet could read a formula somewhere in `text` (see defused)."""
    return defused(text) != text


def cell(value):
    """One CSV field for `value` (None is an empty cell), quoted, formula-safe."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return '"' + defused(text).replace('"', '""') + '"'


def csv_text(rows):
    """Rows (lists of values) as CSV text: RFC 4180 line ends, every cell through `cell`, and a
    byte-order mark so that Excel reads the UTF-8 as UTF-8."""
    return "\ufeff" + "".join(",".join(cell(value) for value in row) + "\r\n" for row in rows)
