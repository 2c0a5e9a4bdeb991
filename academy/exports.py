"""The spreadsheet writer every download uses: CSV and XLSX with one formula-escaping rule.

Safe against spreadsheet formula injection (OWASP "CSV Injection"): any text cell that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with an
apostrophe so Excel, LibreOffice and Google Sheets show it as text and never run it.
Numbers and dates are written as numbers and dates: in XLSX as real date cells shown
29/11/2026; in CSV as ISO dates (2026-11-29), which spreadsheets and Power BI read as
dates whatever their locale.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def safe_cell(value):
    """Return ``value`` ready for a spreadsheet cell: text starting a formula gets a leading apostrophe.

    ``None`` becomes ""; numbers (int, float, Decimal) and dates pass unchanged, so a
    negative number stays a number; everything else becomes text.
    """
    if isinstance(value, (bool, int, float, Decimal, dt.date)):
        return value
    return guard_text(value)


def guard_text(value) -> str:
    """Return ``value`` as text safe from formula injection: "=1+1" → "'=1+1"; ``None`` → "".

    The one formula-escaping rule of every download (OWASP "CSV Injection"): text that
    begins with ``FORMULA_PREFIXES`` gets a leading apostrophe.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


@dataclass(frozen=True)
class Column:
    """One column of an export: its heading and how to read the value from a row object."""

    heading: str
    value: Callable


def write_csv(rows: Iterable, columns: list[Column]) -> bytes:
    """Return the rows as UTF-8 CSV (with a byte-order mark so Excel reads accents), headings first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.heading for c in columns])
    for row in rows:
        cells = []
        for column in columns:
            value = safe_cell(column.value(row))
            cells.append(value.isoformat() if isinstance(value, dt.date) else value)
        writer.writerow(cells)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(rows: Iterable, columns: list[Column], *, title: str) -> bytes:
    """Return the rows as an XLSX workbook of one sheet named ``title``: bold headings, date cells as dates.

    Uses openpyxl's write-only mode (rows are streamed, memory stays flat). Text cells
    never begin with ``=`` after ``safe_cell``, so openpyxl stores them as strings,
    never formulas.
    """
    # openpyxl loads on first use: most requests write no workbook.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    headings = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.heading)
        cell.font = bold
        headings.append(cell)
    sheet.append(headings)
    for row in rows:
        cells = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=safe_cell(column.value(row)))
            if cell.is_date:
                cell.number_format = "DD/MM/YYYY"
            cells.append(cell)
        sheet.append(cells)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
