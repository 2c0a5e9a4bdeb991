"""Files to rows: sniff what an upload is, decode it, and read its cells.

Accepts what real HR exports contain: CSV in UTF-8 with or without a
byte-order mark, or in Windows-1252; Excel workbooks (``.xlsx``, first sheet) with
date cells and numbers; blank rows (skipped, wherever they are). ILR files are XML
and are read by ``cohorts.imports.ilr``.

Row numbers are the ones a person sees in Excel or a text editor: the header is
row 1, so the first data row is row 2.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from academy.exports import unguard_text

CSV = "csv"
XLSX = "xlsx"
XML = "xml"

NOT_A_SPREADSHEET = "This file is not a CSV or Excel spreadsheet"


class ImportFileError(Exception):
    """The file as a whole cannot be read (wrong type, too big, no header, no rows).

    ``str(error)`` is a sentence for the user.
    """


@dataclass
class Table:
    """A spreadsheet read into memory: ``headers`` (as written) and ``rows``.

    ``rows`` is a list of ``(row_number, cells)``: ``cells`` has one raw value per
    header (``str``, ``int``, ``float``, ``datetime`` from Excel, or ``None``).
    """

    headers: list[str]
    rows: list[tuple[int, list]]


def sniff(content: bytes) -> str:
    """Return ``"xlsx"``, ``"xml"`` or ``"csv"`` for ``content``, judged by its bytes, not its name.

    Raises ``ImportFileError`` with ``NOT_A_SPREADSHEET`` (or a sentence naming an old
    ``.xls`` workbook) for anything else: images, PDFs, other zip files, binary data.
    """
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return XLSX
        except zipfile.BadZipFile:
            pass
        raise ImportFileError(f"{NOT_A_SPREADSHEET}.")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            f"{NOT_A_SPREADSHEET}: it looks like an old Excel 97-2003 (.xls) workbook. "
            "Save it as an Excel workbook (.xlsx) or CSV and upload that."
        )
    head = content[:2048].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<?xml") or head.startswith(b"<Message"):
        return XML
    if not content.strip() or b"\x00" in content[:8192]:
        raise ImportFileError(f"{NOT_A_SPREADSHEET}." if content.strip() else "The file is empty.")
    try:
        decode_text(content)
    except UnicodeDecodeError:
        raise ImportFileError(f"{NOT_A_SPREADSHEET}.") from None
    return CSV


def decode_text(content: bytes) -> str:
    """Return ``content`` as text: UTF-8 (a byte-order mark is dropped), else Windows-1252.

    Windows-1252 is what Excel on Windows writes for "CSV" (not "CSV UTF-8"); it is
    tried only when the bytes are not valid UTF-8. Raises ``UnicodeDecodeError`` when
    neither fits (cp1252 leaves five bytes undefined).
    """
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252")


def _is_blank(cells) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def read_table(content: bytes, kind: str) -> Table:
    """Read a CSV or XLSX file into a ``Table``; blank rows are left out.

    CSV: the delimiter (comma, semicolon or tab) is sniffed from the header line.
    XLSX: the first worksheet, read-only with cached values (``data_only``), so a
    formula gives its last computed value. Raises ``ImportFileError`` when the file
    cannot be parsed or has no header row.
    """
    if kind == CSV:
        text = decode_text(content)
        first_line = text.split("\n", 1)[0]
        delimiter = max((",", ";", "\t"), key=first_line.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            raw = [(number, row) for number, row in enumerate(reader, start=1)]
        except csv.Error as error:
            raise ImportFileError(f"{NOT_A_SPREADSHEET}: {error}.") from None
    elif kind == XLSX:
        from openpyxl import load_workbook  # loaded on first use: most requests read no workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many types for a damaged workbook
            raise ImportFileError(f"{NOT_A_SPREADSHEET}: the Excel workbook could not be opened.") from None
        try:
            sheet = workbook.worksheets[0]
            raw = [(number, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
        finally:
            workbook.close()
    else:
        raise ImportFileError(f"{NOT_A_SPREADSHEET}.")
    raw = [(number, cells) for number, cells in raw if not _is_blank(cells)]
    if not raw:
        raise ImportFileError("The file has no header row and no data rows.")
    header_number, header_cells = raw[0]
    headers = [cell_text(cell) for cell in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    rows = []
    for number, cells in raw[1:]:
        cells = list(cells[:width]) + [None] * (width - len(cells))
        if not _is_blank(cells):
            rows.append((number, cells))
    return Table(headers=headers, rows=rows)


def normalise_header(text: str) -> str:
    """Return a header for matching: lower case, punctuation and runs of spaces as one space.

    ``"  Employee No. "`` → ``"employee no"``; ``"Planned Off-the-job hours"`` →
    ``"planned off the job hours"``.
    """
    return " ".join(re.sub(r"[^0-9a-z]+", " ", (text or "").lower()).split())


def cell_text(value) -> str:
    """Return a cell as trimmed text; a whole number stored as a number loses its ``.0``.

    Excel stores ULNs and employee numbers typed as numbers as floats: 9900000705.0 →
    ``"9900000705"``. Dates become ``dd/mm/yyyy``. ``None`` → ``""``. Text Academy's own
    download guarded against formulas ("'=1+1") comes back as it was ("=1+1").
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return unguard_text(str(value).strip())


# Excel's day 1 is 1 January 1900, with the 1900 leap-year bug: serial 60 is the
# non-existent 29 February 1900, so serials count from 30 December 1899.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y")
DATE_HINT = "Enter a date as dd/mm/yyyy, like 27/03/2026"
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\Z")


def parse_date(value) -> dt.date | None:
    """Return a UK date from a cell, or ``None`` for a blank cell.

    Accepts Excel date cells (``datetime``), Excel serial numbers (a date column
    formatted as a number, 1–2958465), and text as dd/mm/yyyy, dd/mm/yy, dd-mm-yyyy,
    yyyy-mm-dd or "29 November 2026". US order (11/29/2026) is refused, never
    swapped. Raises ``ValueError`` with ``DATE_HINT``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value <= 2958465:
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise ValueError(DATE_HINT)
    text = str(value).strip()
    uk = _UK_DATE.match(text)
    if uk:  # the common dd/mm/yyyy, without strptime (imports parse tens of thousands of dates)
        try:
            return dt.date(int(uk[3]), int(uk[2]), int(uk[1]))
        except ValueError:
            pass  # not a real date: the formats below refuse it with the message
    text = re.sub(r"\s+00:00(:00)?$", "", text)  # "27/03/2026 00:00" from a date-time export
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date. {DATE_HINT}")


def parse_decimal(value) -> Decimal | None:
    """Return a number cell as ``Decimal`` (``None`` when blank); raise ``ValueError`` naming the text."""
    text = cell_text(value).replace(",", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number") from None
    if not number.is_finite():
        raise ValueError(f"'{text}' is not a number")
    return number
