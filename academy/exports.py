"""The one spreadsheet writer of every download: a ``Table`` as CSV or XLSX, one formula-escaping rule.

A ``Table`` is a name, a title, typed ``Column``s, rows and notes. Rows are either
sequences of values in column order (the dashboard's tables) or objects that each
column reads with its ``value`` callable (the list downloads, streamed from a queryset).
Neither writer touches the database.

Column kinds say how a value is written:

======== ============================ ===============================
kind     CSV                          XLSX
======== ============================ ===============================
AUTO     by the value's Python type   by the value's Python type
TEXT     text, formula-guarded        string cell, formula-guarded
INT      ``12``                       integer
DECIMAL  two decimals, trailing 0s    ``#,##0.0``
         dropped (``12.5``)
FLOAT    six significant digits       General
RATE     fraction, four decimals      ``0.0%``
         (``0.9200``)
MONEY    pounds with pence            ``"£"#,##0.00``
DATE     ISO 8601 (``2026-11-29``)    date cell shown 29/11/2026
======== ============================ ===============================

``None`` is always an empty cell (never 0 for "unknown").

Formula injection (OWASP "CSV Injection"): in CSV, any text cell that begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (``guard_text``)
so Excel, LibreOffice and Google Sheets show it as text and never run it (the importer
takes it off again: ``unguard_text``). In XLSX text is always a string cell, never a
formula, and such text carries Excel's "quote prefix" flag instead: the cell shows
``=1+1``, not ``'=1+1``. Numbers and dates are written as numbers and dates, so a negative
number stays a number. CSV files are
UTF-8 with a byte-order mark so Excel reads "£" and accents; ISO dates are read as dates
by spreadsheets and Power BI whatever their locale.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

AUTO, TEXT, INT, DECIMAL, FLOAT, RATE, MONEY, DATE = (
    "auto", "text", "int", "decimal", "float", "rate", "money", "date"
)
XLSX_FORMATS = {
    FLOAT: "General",
    INT: "0",
    DECIMAL: "#,##0.0",
    RATE: "0.0%",
    MONEY: '"£"#,##0.00',
    DATE: "DD/MM/YYYY",
}
# Values written as themselves (numbers and dates), never as text.
PLAIN_TYPES = (bool, int, float, Decimal, dt.date)
# XLSX column widths are worked out from the headings and this many first rows.
WIDTH_SAMPLE = 200


def guard_text(value) -> str:
    """Return ``value`` as text safe from formula injection: "=1+1" → "'=1+1"; ``None`` → "".

    The one formula-escaping rule of every download (OWASP "CSV Injection"): text that
    begins with ``FORMULA_PREFIXES`` gets a leading apostrophe.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def unguard_text(text: str) -> str:
    """Undo ``guard_text`` on text read back from a download: "'=1+1" → "=1+1"; other text unchanged.

    Only an apostrophe followed by one of ``FORMULA_PREFIXES`` is taken off, so importing
    Academy's own CSV keeps the names as they were.
    """
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def safe_cell(value):
    """Return ``value`` ready for a cell of kind ``AUTO``: numbers and dates unchanged, the rest guarded text.

    ``None`` becomes ""; ``bool``, ``int``, ``float``, ``Decimal`` and dates pass unchanged.
    """
    if isinstance(value, PLAIN_TYPES):
        return value
    return guard_text(value)


@dataclass(frozen=True)
class Column:
    """One column: ``key`` (the CSV header), ``label`` (the XLSX heading; the key when empty), ``kind``.

    ``value(row)`` reads the cell from a row object; without it rows are sequences in
    column order.
    """

    key: str
    label: str = ""
    kind: str = AUTO
    value: Callable[[Any], Any] | None = None

    @property
    def heading(self) -> str:
        return self.label or self.key


@dataclass
class Table:
    """A table to download: ``name`` (file names, URLs, the XLSX sheet), ``title``, columns, rows, notes.

    ``rows`` may be any iterable (a queryset's iterator is read once, as it is written).
    ``notes`` are lines written under the table in XLSX (definitions, sources, assumptions).
    """

    name: str
    title: str
    columns: Sequence[Column]
    rows: Iterable[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return [column.key for column in self.columns]

    def values(self) -> Iterator[list[Any]]:
        """Yield each row as a list of raw values in column order (``value`` callables applied)."""
        columns = self.columns
        readers = [column.value for column in columns]
        if not any(readers):
            yield from (list(row) for row in self.rows)
            return
        for row in self.rows:
            yield [reader(row) if reader else value for reader, value in zip(readers, _padded(row, len(columns)))]


def _padded(row, width: int):
    # A row object read by callables only has no values of its own.
    return row if isinstance(row, (list, tuple)) else itertools.repeat(None, width)


def _csv_cell(value: Any, kind: str):
    if value is None:
        return ""
    if kind == AUTO:
        value = safe_cell(value)
        return value.isoformat() if isinstance(value, dt.date) else value
    if kind == DATE:
        return value.isoformat() if isinstance(value, dt.date) else guard_text(value)
    if kind == RATE:
        return f"{float(value):.4f}"
    if kind == MONEY:
        return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
    if kind == INT:
        return str(int(value))
    if kind == FLOAT:
        return f"{float(value):.6g}"
    if kind == DECIMAL:
        return f"{float(value):.2f}".rstrip("0").rstrip(".") if value != 0 else "0"
    return guard_text(value)


def write_csv(table: Table) -> bytes:
    """Return ``table`` as CSV bytes: UTF-8 with a byte-order mark, the column keys first, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    kinds = [column.kind for column in table.columns]
    for values in table.values():
        writer.writerow([_csv_cell(value, kind) for value, kind in zip(values, kinds)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(sheet, value: Any, kind: str):
    # openpyxl loads on first use: most requests write no workbook.
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return WriteOnlyCell(sheet, value=None)
    if kind == AUTO:
        if not isinstance(value, PLAIN_TYPES):
            value = str(value)
        kind = DATE if isinstance(value, dt.date) else TEXT if isinstance(value, str) else AUTO
    elif kind == TEXT or (kind == DATE and not isinstance(value, dt.date)):
        value, kind = str(value), TEXT
    elif kind == INT:
        value = int(value)
    elif kind != DATE:
        value = float(value)
    cell = WriteOnlyCell(sheet, value=value)
    if kind == TEXT:
        # A string cell is never a formula; "quote prefix" (Excel's own leading-apostrophe
        # flag, not part of the text) keeps it text when someone edits the cell too.
        cell.data_type = "s"
        if value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    elif kind in XLSX_FORMATS and kind != INT:
        cell.number_format = XLSX_FORMATS[kind]
    return cell


def _width(value) -> int:
    return len(value.isoformat()) if isinstance(value, dt.date) else len(str(value if value is not None else ""))


def write_xlsx(table: Table) -> bytes:
    """Return ``table`` as an XLSX workbook of one sheet named after it (openpyxl, write-only: memory stays flat).

    Row 1 holds the headings (bold, frozen); data from row 2. Dates are real date cells
    shown as 29/11/2026, rates numbers shown as percentages, money as £ with pence,
    counts as integers; text is always a string cell, guarded as in CSV. ``notes``
    follow the data after one blank row. Column widths fit the headings and the first
    ``WIDTH_SAMPLE`` rows (10 to 60 characters).
    """
    # openpyxl loads on first use: most requests write no workbook.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31] or "data")
    values = table.values()
    sample = list(itertools.islice(values, WIDTH_SAMPLE))
    for index, column in enumerate(table.columns):
        width = max([len(column.heading)] + [_width(row[index]) for row in sample])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(width + 2, 10), 60)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    headings = []
    for column in table.columns:
        cell = _xlsx_cell(sheet, column.heading, TEXT)
        cell.font = bold
        headings.append(cell)
    sheet.append(headings)
    kinds = [column.kind for column in table.columns]
    for row in itertools.chain(sample, values):
        sheet.append([_xlsx_cell(sheet, value, kind) for value, kind in zip(row, kinds)])
    if table.notes:
        sheet.append([])
        for note in table.notes:
            sheet.append([_xlsx_cell(sheet, note, TEXT)])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
