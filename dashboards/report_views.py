"""The board report: one printable page with the headline figures, charts, impact and definitions.

Charts are ``<img>`` PNGs from ``exports:chart`` (so they print), each followed by its data
table; ``static/css/print.css`` hides the navigation and keeps figures whole on paper.
Leads and heads of data (``academy.export_dashboard``). Honours the dashboard's filters.
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date

from academy.decorators import perm_required
from outcomes.impact import default_hourly_cost, impact_totals, levy_value

from .export_views import CHART_PREFIX, audit_export, dashboard_data, page_exports
from .presentation import MEASURE_ORDER, MEASURES, NO_DM_BENCHMARK, rate_chart_sections, too_few_text


@perm_required("academy.export_dashboard")
def board_report(request: HttpRequest) -> HttpResponse:
    """Show the printable board report for the dashboard's current filters."""
    data = dashboard_data(request)
    summary = data["summary"]
    cohort_rows = summary["cohorts"]
    query = data["filters"].querystring
    figures = dict(data["figures"])
    for page in ("trends", "teams"):  # the overview's charts, then the trends and teams charts
        figures.update(page_exports(page, data["filters"])[1])
    charts = [
        {
            "name": key.removeprefix(CHART_PREFIX),
            "title": _title(figure),
            "table": figure_table(figure),
        }
        for key, figure in figures.items()
    ]
    sections = {section["id"]: section for section in rate_chart_sections(cohort_rows)} if cohort_rows else {}
    for chart in charts:
        chart["section"] = sections.get(CHART_PREFIX + chart["name"])
    today = timezone.localdate()
    audit_export(request, export="board-report", fmt="html", filename="board-report",
                 filters=data["filters"].as_dict() if data["filters"].is_filtered else None)
    return render(
        request,
        "outcomes/board_report.html",
        {
            "summary": summary,
            "overall": summary["overall"],
            "cohort_rows": cohort_rows,
            "charts": charts,
            "query": f"?{query}" if query else "",
            "filter_lines": data["filter_lines"],
            "definitions": [MEASURES[m] for m in MEASURE_ORDER],
            "no_dm_benchmark": NO_DM_BENCHMARK,
            "too_few": too_few_text(),
            "impact": impact_totals(),
            "levy": levy_value(hourly_cost_gbp=default_hourly_cost()),
            "today": f"{today.day} {today:%B %Y}",
        },
    )


def _title(figure: dict) -> str:
    title = (figure.get("layout") or {}).get("title") or ""
    return title.get("text", "") if isinstance(title, dict) else str(title)


def figure_table(figure: dict) -> dict:
    """Return a plotly figure's data as a table: ``{"columns": [trace names], "rows": [(category, [values])]}``.

    Categories are the x values (the y values for horizontal bars), in first-seen order,
    as text: the line breaks plotly draws (``<br>``) become spaces and a date axis's
    days ("2025-03-01") become months ("March 2025"). A value is ``None`` where a trace
    has no point for a category. Used under charts that have no table of their own, so
    every printed chart has its numbers beside it.
    """
    traces = [t for t in figure.get("data") or [] if t.get("type") in ("bar", "scatter")]
    by_month = ((figure.get("layout") or {}).get("xaxis") or {}).get("type") == "date"

    def text(category) -> str:
        value = str(category).replace("<br>", " ")
        if by_month:
            day = parse_date(value[:10])
            return f"{day:%B %Y}" if day else value
        return value

    columns = [text(t.get("name") or f"Series {index}") for index, t in enumerate(traces, start=1)]
    categories: list = []
    values: list[dict] = []
    for trace in traces:
        horizontal = trace.get("orientation") == "h"
        cats = trace.get("y" if horizontal else "x") or []
        nums = trace.get("x" if horizontal else "y") or []
        points = {}
        for category, number in zip(cats, nums):
            key = text(category)
            if key not in categories:
                categories.append(key)
            points[key] = number
        values.append(points)
    rows = [(category, [points.get(category) for points in values]) for category in categories]
    return {"columns": columns, "rows": rows}
