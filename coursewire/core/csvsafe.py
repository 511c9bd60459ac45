"""CSV that a spreadsheet opens as text: no cell of it can start a formula.

Learner ids and answers come from outside (a learner types them, a page's console can forge
them); opened in Excel, LibreOffice or Google Sheets, a cell such as `=HYPERLINK(...)` or
`@SUM(1+1)*cmd|' /C calc'!A0` would run. Following OWASP's "CSV Injection" guidance, every cell
is quoted (inner quotes doubled), and a cell that starts with = + - @ | tab, CR or LF — or has
one of them right after a separator or quote, where a spreadsheet that splits on `;` or tabs
would start a new cell (`a;=1+2`) — gets a leading apostrophe, which makes it text.

Pure: runs on CPython, Pyodide and MicroPython alike.
"""

# Characters that make a spreadsheet read a cell as a formula or a DDE command, with the
# full-width forms some spreadsheets accept too.
FORMULA_STARTS = "=+-@|\t\r\n\uff1d\uff0b\uff0d\uff20"
# Where a spreadsheet may start a new cell inside our text: separators of every locale, and
# quotes that end a quoted cell.
CELL_BREAKS = ",;\t\r\n\"'"


def needs_defusing(text):
    """True when some spreadsheet could read a formula at the start of `text` or of a cell that
    starts inside it (after a separator or quote, and any spaces)."""
    at_cell_start = True
    for char in text:
        if at_cell_start:
            if char in FORMULA_STARTS:
                return True
            if char == " ":
                continue
        at_cell_start = char in CELL_BREAKS
    return False


def cell(value):
    """One CSV field for `value` (None is an empty cell), quoted, formula-safe."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    if needs_defusing(text):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"'


def csv_text(rows):
    """Rows (lists of values) as CSV text: RFC 4180 line ends, every cell through `cell`, and a
    byte-order mark so that Excel reads the UTF-8 as UTF-8."""
    return "\ufeff" + "".join(",".join(cell(value) for value in row) + "\r\n" for row in rows)
