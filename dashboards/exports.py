"""Tables as CSV and XLSX files for the dashboard's exports (charts as PNG: ``dashboards.chart_images``).

A ``Table`` is a title, typed columns and rows of plain Python values. The writers here
turn one into bytes; they never touch the database. ``dashboard_tables`` builds the
tables the dashboard shows from ``dashboards.presentation`` rows, and ``impact_tables``
those of the impact pages, so an export always holds what the page holds.

Formula injection (OWASP "CSV Injection"): text cells go through the one rule of every
download, ``academy.exports.guard_text``, in both formats, and XLSX text cells are always
written as strings, never as formulas.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Sequence

from academy.exports import guard_text
from outcomes.impact import (
    KIND_UNITS,
    NOT_ADDED,
    format_money,
    format_number,
    impact_records_for_list,
    impact_totals,
    levy_value,
)

from .presentation import CHART_IDS, MEASURE_ORDER, MEASURES, NO_DM_BENCHMARK

logger = logging.getLogger(__name__)


# Column kinds: how a value is written. Rates are fractions 0–1; money is in pounds.
# FLOAT keeps six significant digits (p-values); DECIMAL two decimal places (hours).
TEXT, INT, DECIMAL, FLOAT, RATE, MONEY, DATE = "text", "int", "decimal", "float", "rate", "money", "date"
XLSX_FORMATS = {
    FLOAT: "General",
    INT: "0",
    DECIMAL: "#,##0.0",
    RATE: "0.0%",
    MONEY: '"£"#,##0.00',
    DATE: "DD/MM/YYYY",
}


@dataclass(frozen=True)
class Column:
    """One column: ``key`` (machine name, the CSV header), ``label`` (for people) and ``kind``."""

    key: str
    label: str
    kind: str = TEXT


@dataclass
class Table:
    """A table to export: ``name`` (used in file names and URLs), ``title``, columns and rows.

    Each row is a sequence of values in column order: ``str`` for text, ``int``,
    ``float``/``Decimal`` for numbers, fractions 0–1 for rates, pounds for money,
    ``datetime.date`` for dates; ``None`` for an empty cell (never 0 for "unknown").
    ``notes`` are lines written under the table in XLSX (definitions, sources, assumptions).
    """

    name: str
    title: str
    columns: Sequence[Column]
    rows: list[Sequence[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return [column.key for column in self.columns]


def _csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == DATE:
        return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else guard_text(value)
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
    """Return ``table`` as CSV bytes (UTF-8 with a byte-order mark, so Excel reads "£").

    The first line is the column keys; dates are ISO 8601 (2026-11-29), rates fractions
    with four decimals (0.9200), money pounds with two decimals (3500000.00), empty for
    ``None``. Text cells are guarded against formula injection (``guard_text``).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_cell(value, column.kind) for value, column in zip(row, table.columns)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(table: Table) -> bytes:
    """Return ``table`` as an XLSX workbook with one sheet (openpyxl).

    Row 1 holds the column labels (bold); data from row 2. Dates are real date cells
    shown as 29/11/2026, rates numbers shown as percentages, money as £ with pence,
    counts as integers. Text is always a string cell (never a formula) and guarded as in
    CSV. ``notes`` follow the data after one blank row.
    """
    # openpyxl loads on first use: most requests write no workbook.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.name[:31] or "data"
    sheet.append([column.label for column in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([None] * len(table.columns))
        excel_row = sheet.max_row
        for index, (value, column) in enumerate(zip(row, table.columns), start=1):
            cell = sheet.cell(row=excel_row, column=index)
            if value is None:
                continue
            if column.kind == TEXT or (column.kind == DATE and not isinstance(value, (dt.date, dt.datetime))):
                cell.value = guard_text(value)
                cell.data_type = "s"
            elif column.kind == DATE:
                cell.value = value
                cell.number_format = XLSX_FORMATS[DATE]
            elif column.kind == INT:
                cell.value = int(value)
            else:
                cell.value = float(value)
                cell.number_format = XLSX_FORMATS[column.kind]
    if table.notes:
        sheet.append([])
        for note in table.notes:
            sheet.append([None])
            cell = sheet.cell(row=sheet.max_row, column=1)
            cell.value = guard_text(note)
            cell.data_type = "s"
    for index, column in enumerate(table.columns, start=1):
        width = max([len(column.label)] + [len(str(row[index - 1] or "")) for row in table.rows[:200]])
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(max(width + 2, 10), 60)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- The dashboard's tables -----------------------------------------------------------


def _rate_or_none(rate) -> float | None:
    return rate.rate if rate.has_results else None


def _national(rate) -> float | None:
    return rate.benchmark_rate if rate.has_results else None


def _source(rate) -> str:
    if not rate.has_results or not rate.benchmark or rate.benchmark_rate is None:
        return ""
    return f"{rate.benchmark.get('source', '')} ({rate.benchmark_year_text})"


def dashboard_tables(summary: dict) -> dict[str, Table]:
    """Return the dashboard's tables by name, built from ``presentation.dashboard_summary``.

    Names: ``enrolments`` (enrolments by cohort), ``results`` (rates, coaching and
    off-the-job hours by cohort), ``grades`` (first-attempt EPA grades), one per measure
    (``distinction-merit``, ``achievement``, ``first-attempt``: rate, n of N, 95% Wilson
    interval, national figure with year and source, difference and p-value) and
    ``coaching``. Cohort rows come first in the dashboard's order, then "All cohorts"
    where the all-cohorts snapshot exists. Rates are empty (not 0) where the
    denominator is 0.
    """
    rows = list(summary["cohorts"])
    if summary.get("overall") is not None:
        rows.append(summary["overall"])
    definitions = [f"{MEASURES[m]['label']}: {MEASURES[m]['definition']}" for m in MEASURE_ORDER]

    enrolments = Table(
        "enrolments",
        "Enrolments by cohort",
        [
            Column("cohort", "Cohort"),
            Column("standard", "Standard"),
            Column("standard_title", "Standard title"),
            Column("level", "Level", INT),
            Column("enrolled", "Enrolled", INT),
            Column("active", "Active", INT),
            Column("on_break", "On a break", INT),
            Column("at_gateway_or_epa", "At gateway or EPA", INT),
            Column("withdrawn", "Withdrawn", INT),
            Column("completed", "Completed", INT),
        ],
        [
            [r["label"], r["standard"], r["standard_title"], r["level"], r["enrolled"], r["active"], r["on_break"],
             r["at_gateway_or_epa"], r["withdrawn"], r["completed"]]
            for r in rows
        ],
    )
    results_columns = [Column("cohort", "Cohort")]
    for measure in MEASURE_ORDER:
        label = MEASURES[measure]["label"]
        results_columns += [
            Column(f"{measure}", label, RATE),
            Column(f"{measure}_numerator", f"{label}: numerator", INT),
            Column(f"{measure}_denominator", f"{label}: denominator", INT),
        ]
    results_columns += [
        Column("coaching_sessions", "Coaching sessions attended", INT),
        Column("sessions_per_learner", "Coaching sessions per learner", DECIMAL),
        Column("coaching_hours", "Coaching hours", DECIMAL),
        Column("hours_per_learner", "Coaching hours per learner", DECIMAL),
        Column("otj_hours_logged", "Off-the-job hours logged", DECIMAL),
        Column("otj_hours_planned", "Off-the-job hours planned", DECIMAL),
    ]
    results = Table(
        "results",
        "Results and coaching by cohort",
        results_columns,
        [
            [r["label"]]
            + [
                value
                for measure in MEASURE_ORDER
                for value in (
                    _rate_or_none(r["rates"][measure]),
                    r["rates"][measure].numerator,
                    r["rates"][measure].denominator,
                )
            ]
            + [r["coaching_sessions"], r["sessions_per_learner"], r["coaching_hours"], r["hours_per_learner"],
               r["otj_logged"], r["otj_planned"]]
            for r in rows
        ],
        notes=definitions,
    )
    grades = Table(
        "grades",
        "First-attempt end-point assessment grades by cohort",
        [
            Column("cohort", "Cohort"),
            Column("distinction", "Distinction", INT),
            Column("merit", "Merit", INT),
            Column("pass", "Pass", INT),
            Column("fail", "Fail", INT),
            Column("epa_completed", "Completed first-attempt EPAs", INT),
        ],
        [[r["label"], r["distinction"], r["merit"], r["passed"], r["failed"], r["epa_completed"]] for r in rows],
    )
    tables = {t.name: t for t in (enrolments, results, grades)}
    # One table per measure, named as its chart: "distinction-merit", "achievement", "first-attempt", …
    names = {measure: CHART_IDS.get(measure, measure).removeprefix("chart-") for measure in MEASURE_ORDER}
    for measure in MEASURE_ORDER:
        label = MEASURES[measure]["label"]
        table = Table(
            names[measure],
            f"{label} by cohort, with 95% confidence intervals",
            [
                Column("cohort", "Cohort"),
                Column("rate", label, RATE),
                Column("numerator", "Numerator", INT),
                Column("denominator", "Denominator", INT),
                Column("ci_low", "95% interval, low", RATE),
                Column("ci_high", "95% interval, high", RATE),
                Column("national_rate", "National figure", RATE),
                Column("national_source", "National figure: source and year"),
                Column("difference_pp", "Difference (percentage points)", DECIMAL),
                Column("p_value", "p-value (exact binomial test)", FLOAT),
                Column("comparison", "Compared with the national figure"),
            ],
            notes=[f"{label}: {MEASURES[measure]['definition']}"]
            + ([NO_DM_BENCHMARK] if measure == "distinction_merit_share" else []),
        )
        for r in rows:
            rate = r["rates"][measure]
            has = rate.has_results
            table.rows.append([
                r["label"],
                _rate_or_none(rate),
                rate.numerator,
                rate.denominator,
                rate.ci_low if has else None,
                rate.ci_high if has else None,
                _national(rate),
                _source(rate),
                rate.difference_pp,
                rate.p_value if has and rate.benchmark_rate is not None else None,
                rate.significance_text if has else rate.rate_text,
            ])
        tables[table.name] = table
    tables["coaching"] = Table(
        "coaching",
        "Coaching by cohort",
        [
            Column("cohort", "Cohort"),
            Column("enrolled", "Enrolled", INT),
            Column("coaching_sessions", "Sessions attended", INT),
            Column("coaching_hours", "Coaching hours", DECIMAL),
            Column("hours_per_learner", "Hours per learner", DECIMAL),
        ],
        [[r["label"], r["enrolled"], r["coaching_sessions"], r["coaching_hours"], r["hours_per_learner"]]
         for r in rows],
    )
    return tables


def tables_for(names: Iterable[str], tables: dict[str, Table]) -> list[Table]:
    """Return the tables named, in the order given, skipping names not present."""
    return [tables[name] for name in names if name in tables]


def impact_tables(*, hourly_cost_gbp: Decimal | None = None) -> dict:
    """Return the impact pages' tables by name, as ``Table``.

    ``impact-records`` (every record: title, kind, value in its unit, team, learners,
    evidence, link, date, recorded by), ``impact-by-kind``, ``impact-by-team`` (one row
    per team and kind; time reduced has no total, only count and largest) and
    ``levy-value`` (enrolments and funding band by standard, then the totals; an
    unknown band is empty, never 0). Assumptions are written as the tables' notes.
    """
    records = Table(
        "impact-records",
        "Impact records",
        [
            Column("title", "What changed"),
            Column("kind", "Kind"),
            Column("value", "Value", DECIMAL),
            Column("unit", "Unit"),
            Column("team", "Team"),
            Column("learners", "Learners involved", INT),
            Column("evidence", "Evidence"),
            Column("link", "Link"),
            Column("date", "Date", DATE),
            Column("recorded_by", "Recorded by"),
        ],
    )
    for record in impact_records_for_list():
        records.rows.append([
            record.title, record.get_kind_display(), record.value, KIND_UNITS[record.kind],
            record.team.name if record.team else "", record.learner_count, record.evidence, record.link,
            record.date, str(record.recorded_by) if record.recorded_by else "",
        ])
    totals = impact_totals()
    by_kind = Table(
        "impact-by-kind",
        "Impact by kind",
        [Column("kind", "Kind"), Column("records", "Records", INT), Column("total", "Total", DECIMAL),
         Column("largest", "Largest single value", DECIMAL), Column("unit", "Unit")],
        [[t.label, t.count, t.total, t.largest, KIND_UNITS[t.kind]] for t in totals["by_kind"]],
        notes=[NOT_ADDED],
    )
    by_team = Table(
        "impact-by-team",
        "Impact by team",
        [Column("team", "Team"), Column("kind", "Kind"), Column("records", "Records", INT),
         Column("total", "Total", DECIMAL), Column("largest", "Largest single value", DECIMAL),
         Column("unit", "Unit")],
        [
            [team.team, t.label, t.count, t.total, t.largest, KIND_UNITS[t.kind]]
            for team in totals["by_team"]
            for t in team.totals
            if t.count
        ],
        notes=[NOT_ADDED],
    )
    value = levy_value(hourly_cost_gbp=hourly_cost_gbp)
    levy = Table(
        "levy-value",
        "Value for the levy",
        [Column("item", "Item"), Column("standard", "Standard"), Column("enrolments", "Enrolments", INT),
         Column("band", "Funding band (£)", MONEY), Column("value", "Value (£)", MONEY), Column("note", "Note", TEXT)],
        notes=value.assumptions + value.notes,
    )
    for band in value.standards:
        levy.rows.append([
            f"{band.title} (level {band.level})", band.reference, band.enrolments, band.band_gbp, band.value_gbp,
            "" if band.band_gbp is not None else "Funding band unknown: left out",
        ])
    levy.rows.append(["Funding-band value of enrolments", "", value.enrolments_counted, None,
                      value.band_value_gbp, "Each enrolment at its standard's full band"])
    levy.rows.append(["Money recovered or saved (impact records)", "", None, None, value.money_impact_gbp,
                      f"{value.money_records} record" + ("" if value.money_records == 1 else "s")])
    if value.hours_value_gbp is not None:
        levy.rows.append(["Hours saved a year, valued at the hourly cost given", "", None, None,
                          value.hours_value_gbp,
                          f"{format_number(value.hours_per_year)} hours a year at {format_money(value.hourly_cost_gbp)} an hour"])
    else:
        levy.rows.append(["Hours saved a year (not valued in pounds)", "", None, None, None,
                          f"{format_number(value.hours_per_year)} hours a year"])
    return {t.name: t for t in (records, by_kind, by_team, levy)}
