"""Exports of the dashboard and impact pages: every table as CSV and XLSX, every chart as PNG.

URLs (``outcomes/export_urls.py``, app ``exports``, at /dashboard/exports/):

- ``exports:index``: the list of every export;
- ``exports:table`` ``<name>.<csv|xlsx>``: one table (``dashboards.exports.dashboard_tables``
  and ``dashboards.exports.impact_tables`` name them);
- ``exports:chart`` ``chart/<name>.png``: one dashboard chart as PNG (kaleido, or the
  matplotlib fallback, said in the ``X-Chart-Renderer`` and ``X-Chart-Note`` headers).

Dashboard tables and charts honour the dashboard's filters (``dashboards.filters``: the
same query string as the dashboard page). Leads and heads of data only
(``academy.export_dashboard``); every download is written to the audit log.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from academy.audit import Action, record
from academy.decorators import perm_required
from academy.exports import (
    CSV_CONTENT_TYPE,
    DECIMAL,
    INT,
    RATE,
    XLSX_CONTENT_TYPE,
    Column,
    Table,
    write_csv,
    write_xlsx,
)
from outcomes.benchmarking import load_benchmarks
from outcomes.impact import default_hourly_cost

from . import pages, readers
from .chart_images import render_png
from .charts import (
    dashboard_figures,
    forest_figure,
    teams_figure,
)
from .exports import dashboard_tables, impact_tables
from .filters import parse_filters
from .presentation import (
    MEASURE_ORDER,
    MEASURES,
    benchmark_scope_text,
    dashboard_summary,
    verdict_text,
)

FORMATS = {"csv": (write_csv, CSV_CONTENT_TYPE), "xlsx": (write_xlsx, XLSX_CONTENT_TYPE)}
IMPACT_TABLES = ("impact-records", "impact-by-kind", "impact-by-team", "levy-value")
# Chart URL name → the dashboard figure's element id.
CHART_PREFIX = "chart-"


def audit_export(request: HttpRequest, *, export: str, fmt: str, filename: str, rows: int | None = None,
                 filters: dict | None = None) -> None:
    """Write an ``academy.AuditEvent`` (action "export") for one download: what, format, file, row count, filters.

    Uses ``academy.audit.record`` (which adds the IP address).
    """
    detail = {"export": export, "format": fmt, "file": filename}
    if rows is not None:
        detail["rows"] = rows
    if filters:
        detail["filters"] = filters
    record(request=request, action=Action.EXPORT, detail=detail)


def dashboard_data(request: HttpRequest) -> dict:
    """Return what the dashboard's overview shows for ``request.GET``'s filters.

    ``{"summary": presentation.dashboard_summary dict, "figures": {element id: plotly dict},
    "filters": DashboardFilters, "filter_lines": [str]}``. Unfiltered: the snapshots the
    metrics job wrote (one query); filtered: computed live, as the dashboard page does
    (``outcomes.readers.dashboard_snapshots``).
    """
    filters, _form = parse_filters(request.GET)
    snapshots, _source = readers.dashboard_snapshots(filters)
    summary = dashboard_summary(snapshots)
    figures = dashboard_figures(summary["cohorts"]) if summary["cohorts"] else {}
    return {"summary": summary, "figures": figures, "filters": filters, "filter_lines": filters.descriptions()}


# --- The other dashboard pages' tables and charts --------------------------------------
# Each builder takes the filters and returns ``(tables by name, figures by element id)``,
# composed by the same page builders (``dashboards.pages``) as the dashboard pages.


def _group_table(name: str, title: str, first: str, rows: list[dict], *, risk: bool = False) -> Table:
    """Return a table of group rows (``presentation.snapshot_row`` dicts): counts, every rate with n and N, coaching."""
    columns = [Column("group", first), Column("enrolled", "Enrolled", INT), Column("active", "Active", INT),
               Column("withdrawn", "Withdrawn", INT), Column("completed", "Completed", INT),
               Column("epa_completed", "Completed first-attempt EPAs", INT)]
    for measure in MEASURE_ORDER:
        label = MEASURES[measure]["label"]
        columns += [Column(measure, label, RATE), Column(f"{measure}_numerator", f"{label}: numerator", INT),
                    Column(f"{measure}_denominator", f"{label}: denominator", INT)]
    columns += [Column("coaching_sessions", "Coaching sessions attended", INT),
                Column("coaching_hours", "Coaching hours", DECIMAL),
                Column("hours_per_learner", "Coaching hours per learner", DECIMAL)]
    if risk:
        columns += [Column("at_risk", "At risk", INT), Column("in_learning", "In learning", INT)]
    table = Table(name, title, columns, notes=[f"{MEASURES[m]['label']}: {MEASURES[m]['definition']}"
                                               for m in MEASURE_ORDER])
    for row in rows:
        cells = [row["label"], row["enrolled"], row["active"], row["withdrawn"], row["completed"], row["epa_completed"]]
        for measure in MEASURE_ORDER:
            rate = row["rates"][measure]
            cells += [rate.rate if rate.has_results else None, rate.numerator, rate.denominator]
        cells += [row["coaching_sessions"], row["coaching_hours"], row["hours_per_learner"]]
        if risk:
            cell = row.get("risk")
            cells += [cell["at_risk"], cell["in_learning"]] if cell else [None, None]
        table.rows.append(cells)
    return table


def _standards_page(filters) -> tuple[dict, dict]:
    snapshots, _source = readers.dashboard_snapshots(filters)
    totals = readers.standard_totals(snapshots, load_benchmarks())
    cohort_snapshots = [snapshot for snapshot in snapshots if snapshot.cohort_id is not None]
    standards = {snapshot.cohort.standard_id: snapshot.cohort.standard for snapshot in cohort_snapshots}
    ordered = pages.standard_rows(pages.standard_groups(standards, totals, cohort_snapshots))
    table = Table(
        "standards",
        "Standards and levels against the national figure",
        [Column("measure", "Measure"), Column("row", "Standard or cohort"), Column("rate", "Rate", RATE),
         Column("numerator", "Numerator", "int"), Column("denominator", "Denominator", "int"),
         Column("ci_low", "95% interval, low", RATE), Column("ci_high", "95% interval, high", RATE),
         Column("national_rate", "National figure", RATE), Column("national_scope", "National figure used"),
         Column("comparison", "Compared with it")],
    )
    for measure in MEASURE_ORDER:
        for row in ordered:
            rate = row["rates"][measure]
            has = rate.has_results
            table.rows.append([MEASURES[measure]["label"], row["label"], rate.rate if has else None, rate.numerator,
                               rate.denominator, rate.ci_low if has else None, rate.ci_high if has else None,
                               rate.benchmark_rate if has else None, benchmark_scope_text(rate), verdict_text(rate)])
    figures = {f"forest-{m.replace('_', '-')}": forest_figure(ordered, m) for m in MEASURE_ORDER} if ordered else {}
    return {table.name: table}, figures


def _trends_page(filters) -> tuple[dict, dict]:
    live = readers.live_metrics(filters)
    trends, months = pages.monthly_rows(live)
    cohort_rows = dashboard_summary(live["snapshots"])["cohorts"]
    columns = [Column("month", "Month")] + [Column(str(c), str(c).replace("_", " ").capitalize(), INT)
                                             for c in trends.columns]
    table = Table("trends-months", "Intake and first-attempt results by month", columns,
                  [[m["label"]] + [m[str(c)] for c in trends.columns] for m in months])
    return {table.name: table}, pages.trends_figures(months, cohort_rows)


def _teams_page(filters) -> tuple[dict, dict]:
    taking_part = pages.team_groups(filters, readers.live_metrics(filters))["taking_part"]
    table = _group_table("teams", "Enrolments and results by team", "Team", taking_part)
    return {table.name: table}, ({"chart-teams": teams_figure(taking_part)} if taking_part else {})


def _coaching_page(filters) -> tuple[dict, dict]:
    live = readers.live_metrics(filters)
    cohort_rows = dashboard_summary(live["snapshots"])["cohorts"]
    coach_rows = pages.coaching_groups(filters, live, cohort_rows)["coach_rows"]
    tables = {
        "coaching-cohorts": _group_table("coaching-cohorts", "Coaching by cohort", "Cohort", cohort_rows, risk=True),
        "coaching-coaches": _group_table("coaching-coaches", "Coaching by coach", "Coach", coach_rows, risk=True),
    }
    return tables, pages.coaching_figures(cohort_rows, coach_rows)


def _overview_page(filters) -> tuple[dict, dict]:
    snapshots, _source = readers.dashboard_snapshots(filters)
    summary = dashboard_summary(snapshots)
    return dashboard_tables(summary), (dashboard_figures(summary["cohorts"]) if summary["cohorts"] else {})


# Page → builder, in the dashboard's tab order; ``PAGE_TITLES`` for the downloads page.
PAGES = {
    "overview": _overview_page,
    "standards": _standards_page,
    "trends": _trends_page,
    "teams": _teams_page,
    "coaching": _coaching_page,
}
PAGE_TITLES = {"overview": "Overview", "standards": "Standards and levels", "trends": "Trends", "teams": "Teams",
               "coaching": "Coaching"}
# Which page holds a table or chart that is not on the overview.
PAGE_OF = {
    "standards": "standards", "trends-months": "trends", "teams": "teams", "coaching-cohorts": "coaching",
    "coaching-coaches": "coaching", "intake": "trends", "results-month": "trends", "dm-over-time": "trends",
    "coaching-cohort": "coaching", "coaching-coach": "coaching",
}


def page_of(name: str) -> str:
    """Return the dashboard page a table or chart ``name`` belongs to ("overview" unless listed in ``PAGE_OF``)."""
    if name.startswith("forest-"):
        return "standards"
    return PAGE_OF.get(name, "overview")


def page_exports(page: str, filters) -> tuple[dict, dict]:
    """Return ``(tables, figures)`` of one dashboard page for ``filters``; ``Http404`` for an unknown page."""
    builder = PAGES.get(page)
    if builder is None:
        raise Http404("No such dashboard page.")
    return builder(filters)


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _hourly_cost(request: HttpRequest) -> Decimal | None:
    raw = (request.GET.get("hourly_cost") or "").strip()
    if raw:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is not None and value.is_finite() and 0 <= value <= 10000:
            return value
    return default_hourly_cost()


def _filters(request: HttpRequest):
    return parse_filters(request.GET)[0]


def _table(request: HttpRequest, name: str) -> tuple[Table, dict | None]:
    """Return the table ``name`` and the filters it was made with (dashboard tables only); 404 when unknown."""
    if name in IMPACT_TABLES:
        return impact_tables(hourly_cost_gbp=_hourly_cost(request))[name], None
    filters = _filters(request)
    tables, _figures = page_exports(page_of(name), filters)
    if name not in tables:
        raise Http404("No such table.")
    return tables[name], filters.as_dict() if filters.is_filtered else None


def _chart_name(key: str) -> str:
    return key.removeprefix(CHART_PREFIX)


def _figure_title(figure: dict) -> str:
    title = (figure.get("layout") or {}).get("title") or ""
    return title.get("text", "") if isinstance(title, dict) else str(title)


@perm_required("academy.export_dashboard")
def index(request: HttpRequest) -> HttpResponse:
    """List every table (CSV and Excel) and chart (PNG) of each dashboard page and the impact pages."""
    filters = _filters(request)
    sections = []
    for page in PAGES:
        tables, figures = page_exports(page, filters)
        sections.append({
            "title": PAGE_TITLES[page],
            "tables": list(tables.values()),
            "charts": [{"name": _chart_name(key), "title": _figure_title(figure)} for key, figure in figures.items()],
        })
    sections.append({"title": "Business impact and value for the levy", "tables": list(impact_tables().values()),
                     "charts": []})
    return render(
        request,
        "outcomes/exports/index.html",
        {"sections": sections, "filter_lines": filters.descriptions(), "query": filters.querystring},
    )


@perm_required("academy.export_dashboard")
def table(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """Return the table ``name`` as CSV or XLSX (``fmt``), as an attachment; 404 for an unknown name or format."""
    if fmt not in FORMATS:
        raise Http404("No such format.")
    data, filters = _table(request, name)
    writer, content_type = FORMATS[fmt]
    filename = f"academy-{name}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response = _attachment(writer(data), content_type, filename)
    audit_export(request, export=name, fmt=fmt, filename=filename, rows=len(data.rows), filters=filters)
    return response


@perm_required("academy.export_dashboard")
def chart(request: HttpRequest, name: str) -> HttpResponse:
    """Return the dashboard chart ``name`` (e.g. "grades", "teams", "forest-achievement-rate") as PNG.

    404 when there is no such chart, or no data to draw it. Headers: ``X-Chart-Renderer``
    ("kaleido" or "matplotlib") and, for the fallback, ``X-Chart-Note`` saying why
    plotly's static export was not used.
    """
    filters = _filters(request)
    _tables, figures = page_exports(page_of(name), filters)
    figure = figures.get(CHART_PREFIX + name) or figures.get(name)
    if figure is None:
        raise Http404("No such chart.")
    image = render_png(figure)
    filename = f"academy-{name}-{timezone.localdate():%Y-%m-%d}.png"
    response = HttpResponse(image.content, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Chart-Renderer"] = image.renderer
    if image.note:
        response["X-Chart-Note"] = image.note.encode("ascii", "replace").decode()
    audit_export(request, export=f"chart:{name}", fmt="png", filename=filename,
                 filters=filters.as_dict() if filters.is_filtered else None)
    return response
