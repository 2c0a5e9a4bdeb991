"""Tables as CSV and XLSX files, and charts as PNG images, for the dashboard's exports.

A ``Table`` is a title, typed columns and rows of plain Python values. The writers here
turn one into bytes; they never touch the database. ``dashboard_tables`` builds the
tables the dashboard shows from ``outcomes.presentation`` rows, and ``impact_tables``
those of the impact pages, so an export always holds what the page holds.

Formula injection (OWASP "CSV Injection"): a text cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is written with a leading apostrophe in both formats,
and XLSX text cells are always written as strings, never as formulas.

Charts: ``render_png`` draws a plotly figure dict with kaleido 1.x (plotly's static
export, which drives a headless Chrome/Chromium: ``BROWSER_PATH`` or
``settings.ACADEMY_CHROME_PATH``, else what choreographer finds, e.g. /usr/bin/chromium).
When kaleido cannot run (no browser), it falls back to a server-side drawing with
matplotlib of the same traces and says so in ``ChartImage.renderer`` and ``note``.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Sequence

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

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
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def guard_text(value: Any) -> str:
    """Return ``value`` as text safe from formula injection: "=1+1" → "'=1+1"; ``None`` → ""."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


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
    from .presentation import CHART_IDS, MEASURE_ORDER, MEASURES, NO_DM_BENCHMARK

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


# --- Charts as PNG --------------------------------------------------------------------

PNG_WIDTH, PNG_HEIGHT = 1000, 560
KALEIDO, MATPLOTLIB = "kaleido", "matplotlib"


@dataclass(frozen=True)
class ChartImage:
    """A chart drawn as PNG: ``content`` (bytes), ``renderer`` ("kaleido" or "matplotlib") and ``note``.

    ``note`` is empty for kaleido; for the fallback it says that plotly's static export
    could not run here and why.
    """

    content: bytes
    renderer: str
    note: str = ""


def _chrome_path() -> str:
    return getattr(settings, "ACADEMY_CHROME_PATH", "") or os.environ.get("BROWSER_PATH", "")


_KALEIDO_LOCK = threading.Lock()


def _render_kaleido(figure: dict, width: int, height: int) -> bytes:
    """Return a PNG from kaleido's process-wide sync server (one headless browser kept open).

    The first image starts the browser (about 3 seconds here); later ones take about 0.2
    seconds. kaleido stops the browser when the process exits. A lock keeps one render at
    a time per process. If the server fails, it is stopped so the next call starts afresh.
    """
    import kaleido

    for name in ("kaleido", "choreographer", "logistro"):  # their INFO logs are per-tab chatter
        logging.getLogger(name).setLevel(logging.WARNING)
    path = _chrome_path()
    if path and not os.environ.get("BROWSER_PATH"):
        os.environ["BROWSER_PATH"] = path  # kaleido 1.x reads it to find the browser
    with _KALEIDO_LOCK:
        try:
            kaleido.start_sync_server(silence_warnings=True)
            return kaleido.calc_fig_sync(figure, opts={"format": "png", "width": width, "height": height})
        except Exception:
            kaleido.stop_sync_server(silence_warnings=True)
            raise


def for_print(figure: dict) -> dict:
    """Return a copy of ``figure`` laid out for a fixed-size image: a legend below the plot (made for
    a browser, where the axis labels have room) moves above it, under the title, so the long
    rotated category labels never run into it."""
    figure = json.loads(json.dumps(figure, default=str))
    layout = figure.setdefault("layout", {})
    legend = layout.get("legend") or {}
    if legend.get("orientation") == "h" and float(legend.get("y", 1)) < 0:
        layout["legend"] = {**legend, "y": 1.0, "yanchor": "bottom", "x": 0, "xanchor": "left"}
        margin = dict(layout.get("margin") or {})
        margin["t"] = max(int(margin.get("t", 60)), 110)
        layout["margin"] = margin
        title = layout.get("title")
        if isinstance(title, dict):
            layout["title"] = {**title, "y": 0.97, "yanchor": "top"}
    return figure


def render_png(figure: dict, *, width: int = PNG_WIDTH, height: int = PNG_HEIGHT) -> ChartImage:
    """Return ``figure`` (a plotly figure dict) drawn as a PNG ``ChartImage``.

    ``settings.ACADEMY_CHART_RENDERER``: "auto" (default: kaleido, then the matplotlib
    fallback if kaleido fails), "kaleido" (errors propagate) or "matplotlib". Results are
    cached for an hour by the figure's content, since kaleido starts a browser for each
    image (about two seconds here).
    """
    mode = getattr(settings, "ACADEMY_CHART_RENDERER", "auto")
    figure = for_print(figure)
    digest = hashlib.sha256(json.dumps(figure, sort_keys=True, default=str).encode()).hexdigest()
    key = f"chart-png:{mode}:{width}x{height}:{digest}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    if mode == MATPLOTLIB:
        image = ChartImage(render_matplotlib(figure, width, height), MATPLOTLIB,
                           "Drawn on the server with matplotlib (ACADEMY_CHART_RENDERER is matplotlib).")
    else:
        try:
            image = ChartImage(_render_kaleido(figure, width, height), KALEIDO)
        except Exception as exc:  # no browser, a crashed browser, a timeout: the fallback still draws
            if mode == KALEIDO:
                raise
            logger.warning("kaleido could not draw a chart, using matplotlib: %s", exc)
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            image = ChartImage(
                render_matplotlib(figure, width, height),
                MATPLOTLIB,
                f"plotly's static export (kaleido) could not run here ({reason}); "
                "drawn on the server with matplotlib instead.",
            )
    cache.set(key, image, 60 * 60)
    return image


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text") or "")
    return str(value or "")


def render_matplotlib(figure: dict, width: int = PNG_WIDTH, height: int = PNG_HEIGHT) -> bytes:
    """Return a PNG of the bar and scatter traces of a plotly figure dict, drawn with matplotlib.

    Handles what the dashboard's charts use: bar traces (stacked when ``barmode`` is
    "stack"), scatter markers with asymmetric ``error_y`` arrays, and lines; titles, axis
    titles, the y range and legend. Other trace types are skipped.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    layout = figure.get("layout") or {}
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_subplot()
    traces = [t for t in figure.get("data") or [] if t.get("type") in ("bar", "scatter")]
    horizontal = any(t.get("type") == "bar" and t.get("orientation") == "h" for t in traces)

    def cats(trace):  # the category axis: y for horizontal bars, else x
        return trace.get("y" if horizontal else "x") or []

    def nums(trace):
        return trace.get("x" if horizontal else "y") or []

    categories: list[str] = []
    for trace in traces:
        for category in cats(trace):
            if str(category) not in categories:
                categories.append(str(category))
    position = {name: index for index, name in enumerate(categories)}
    stacked = layout.get("barmode") == "stack"
    bottoms = [0.0] * len(categories)
    bar_traces = [t for t in traces if t.get("type") == "bar"]
    bar_width = 0.8 if stacked or len(bar_traces) <= 1 else 0.8 / len(bar_traces)
    draw = ax.barh if horizontal else ax.bar
    for index, trace in enumerate(bar_traces):
        xs = [position[str(x)] for x in cats(trace)]
        ys = [float(y or 0) for y in nums(trace)]
        colour = (trace.get("marker") or {}).get("color")
        colour = colour if isinstance(colour, str) else None
        if stacked:
            base = [bottoms[x] for x in xs]
            if horizontal:
                ax.barh(xs, ys, left=base, color=colour, label=trace.get("name"), height=bar_width)
            else:
                ax.bar(xs, ys, bottom=base, color=colour, label=trace.get("name"), width=bar_width)
            for x, y in zip(xs, ys):
                bottoms[x] += y
        else:
            offset = (index - (len(bar_traces) - 1) / 2) * bar_width if len(bar_traces) > 1 else 0
            draw([x + offset for x in xs], ys, bar_width, color=colour, label=trace.get("name"))
    for trace in traces:
        if trace.get("type") != "scatter" or horizontal:
            continue
        xs = [position[str(x)] for x in trace.get("x") or []]
        ys = [float(y) if y is not None else float("nan") for y in trace.get("y") or []]
        mode = trace.get("mode") or "markers"
        colour = (trace.get("marker") or {}).get("color") or (trace.get("line") or {}).get("color")
        colour = colour if isinstance(colour, str) else None
        if "lines" in mode:
            ax.plot(xs, ys, linestyle="--", color=colour, label=trace.get("name"))
        else:
            error = trace.get("error_y") or {}
            if error.get("array") is not None:
                yerr = [error.get("arrayminus") or error["array"], error["array"]]
                ax.errorbar(xs, ys, yerr=yerr, fmt="o", color=colour, capsize=4, label=trace.get("name"))
            else:
                ax.plot(xs, ys, "_" if "line" in str((trace.get("marker") or {}).get("symbol")) else "o",
                        markersize=14, color=colour, label=trace.get("name"), linestyle="none")
    if horizontal:
        ax.set_yticks(range(len(categories)))
        ax.set_yticklabels(categories, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(_text(layout.get("title")), fontsize=12)
        ax.set_xlabel(_text((layout.get("xaxis") or {}).get("title")))
        if any(t.get("name") for t in traces) and layout.get("showlegend", True):
            ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels(categories, rotation=20, ha="right", fontsize=8)
    ax.set_title(_text(layout.get("title")), fontsize=12)
    ax.set_xlabel(_text((layout.get("xaxis") or {}).get("title")))
    yaxis = layout.get("yaxis") or {}
    ax.set_ylabel(_text(yaxis.get("title")))
    if yaxis.get("range"):
        ax.set_ylim(*yaxis["range"])
    elif yaxis.get("rangemode") == "tozero":
        ax.set_ylim(bottom=0)
    for annotation in layout.get("annotations") or []:
        ax.text(0, 1.01, annotation.get("text", ""), transform=ax.transAxes, fontsize=9, va="bottom")
    if any(t.get("name") for t in traces) and layout.get("showlegend", True):
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def tables_for(names: Iterable[str], tables: dict[str, Table]) -> list[Table]:
    """Return the tables named, in the order given, skipping names not present."""
    return [tables[name] for name in names if name in tables]
