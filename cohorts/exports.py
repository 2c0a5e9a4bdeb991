"""CSV and XLSX exports of the (filtered) learner and enrolment lists.

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
from dataclasses import dataclass
from decimal import Decimal
from collections.abc import Callable, Iterable

from django.db.models import OuterRef, Prefetch, Subquery


from .models import AssessmentResult, Enrolment

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def safe_cell(value):
    """Return ``value`` ready for a spreadsheet cell: text starting a formula gets a leading apostrophe.

    ``None`` becomes ""; numbers (int, float, Decimal) and dates pass unchanged, so a
    negative number stays a number; everything else becomes text.
    """
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal, dt.date)):
        return value
    text = str(value)
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


# --- What is exported ----------------------------------------------------------------


def _names(objects) -> str:
    return "; ".join(sorted({str(o) for o in objects}))


LEARNER_COLUMNS = [
    Column("First name", lambda l: l.first_name),
    Column("Last name", lambda l: l.last_name),
    Column("Work email", lambda l: l.work_email),
    Column("Employee number", lambda l: l.employee_number),
    Column("ULN", lambda l: l.uln),
    Column("Team", lambda l: l.team.name),
    Column("Directorate", lambda l: l.team.directorate),
    Column("Line manager", lambda l: l.line_manager_name),
    Column("Line manager email", lambda l: l.line_manager_email),
    Column("Cohorts", lambda l: _names(e.cohort for e in l.export_enrolments)),
    Column("Statuses", lambda l: _names(e.get_status_display() for e in l.export_enrolments)),
]


def learner_rows(learners):
    """Return ``learners`` ready for ``LEARNER_COLUMNS``: team joined, enrolments with cohorts prefetched.

    Two queries per chunk of rows (learners with teams; their enrolments with cohorts).
    """
    return learners.select_related("team").prefetch_related(
        Prefetch("enrolments", queryset=Enrolment.objects.select_related("cohort"), to_attr="export_enrolments")
    )


ENROLMENT_COLUMNS = [
    Column("First name", lambda e: e.learner.first_name),
    Column("Last name", lambda e: e.learner.last_name),
    Column("Employee number", lambda e: e.learner.employee_number),
    Column("ULN", lambda e: e.learner.uln),
    Column("Team", lambda e: e.learner.team.name),
    Column("Cohort", lambda e: e.cohort.name),
    Column("Standard reference", lambda e: e.cohort.standard.reference),
    Column("Standard", lambda e: e.cohort.standard.title),
    Column("Level", lambda e: e.cohort.standard.level),
    Column("Coach", lambda e: str(e.coach) if e.coach else ""),
    Column("Status", lambda e: e.get_status_display()),
    Column("Start date", lambda e: e.start_date),
    Column("Planned end date", lambda e: e.planned_end_date),
    Column("Actual end date", lambda e: e.actual_end_date),
    Column("Withdrawal reason", lambda e: e.get_withdrawal_reason_display() if e.withdrawal_reason else ""),
    Column("Planned off-the-job hours", lambda e: e.planned_otj_hours),
    Column("Latest EPA grade", lambda e: dict(AssessmentResult.Grade.choices).get(e.latest_grade, "")),
    Column("Latest EPA date", lambda e: e.latest_result_date),
    Column("Latest EPA attempt", lambda e: e.latest_attempt),
]


def enrolment_rows(enrolments):
    """Return ``enrolments`` ready for ``ENROLMENT_COLUMNS`` in one query (joins plus latest-result subqueries)."""
    latest = AssessmentResult.objects.filter(enrolment=OuterRef("pk")).order_by("-attempt")
    return enrolments.select_related("learner__team", "cohort__standard", "coach").annotate(
        latest_grade=Subquery(latest.values("grade")[:1]),
        latest_result_date=Subquery(latest.values("date")[:1]),
        latest_attempt=Subquery(latest.values("attempt")[:1]),
    )
