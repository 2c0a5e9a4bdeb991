"""Dashboard pages: cohort metrics against national benchmarks, the CSV export, and benchmarks.

The unfiltered overview and "Standards and levels" pages read ``CohortMetrics`` snapshots
(written by ``outcomes.metrics.recompute_metrics``). With filters in the URL
(``outcomes.filters``), and on the trends, teams and coaching pages (which need groupings
the snapshots do not hold), figures are computed live by ``outcomes.metrics`` over the
filtered set, one query per table: the query count never grows with the data.
"""
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from academy.audit import Action, record
from academy.decorators import perm_required
from academy.pages import sort_headers
from academy.exports import CSV_CONTENT_TYPE, write_csv
from academy.numbers import format_percent
from cohorts.models import Standard
from outcomes import runs
from outcomes.benchmarking import load_benchmarks, save_benchmark
from outcomes.forms import NartUploadForm, NationalBenchmarkForm, benchmark_form_for_edit
from outcomes.models import CohortMetrics, NationalBenchmark
from outcomes.nart_import import NartFileError, apply_narts, change_from_dict, change_to_dict, parse_narts

from . import cache as dashboard_cache
from . import groups, pages, readers
from .charts import (
    dashboard_figures,
    forest_figure,
    teams_figure,
)
from .exports import summary_table
from .filters import DashboardFilterForm, DashboardFilters, has_filter_params, parse_filters
from .presentation import (
    ALL_MEASURES,
    MEASURES,
    NO_DM_BENCHMARK,
    benchmark_scope_text,
    dashboard_summary,
    dashboard_tabs,
    format_computed_at,
    rate_chart_sections,
    too_few_text,
    verdict_text,
)

logger = logging.getLogger(__name__)
BENCHMARKS_PER_PAGE = 50
COHORTS_PER_PAGE = 25  # cohort rows (and chart points) per dashboard page
GROUPS_PER_PAGE = 50  # team rows (teams page, ?page=) and coach rows (coaching page, ?coach_page=) per page
#: Each dashboard page's heading (its template is ``outcomes/<url name>.html``).
PAGE_TITLES = {
    "outcomes:dashboard": "Cohort dashboard",
    "outcomes:dashboard_standards": "Standards and levels",
    "outcomes:dashboard_trends": "Trends",
    "outcomes:dashboard_teams": "Teams",
    "outcomes:dashboard_coaching": "Coaching",
}
NART_SESSION_KEY = "outcomes_nart_preview"


def _snapshots():
    """Return every snapshot with its cohort and standard, cohorts by start date then name (one query)."""
    return CohortMetrics.objects.select_related("cohort__standard").order_by(
        F("cohort__start_date").asc(nulls_first=True), "cohort__name", "key"
    )


def _page(request: HttpRequest, current: str) -> dict:
    """Return what every dashboard page shows: filters (validated), tabs carrying them, permissions.

    Invalid filters never raise: the page is unfiltered and the form's errors go to the
    GOV.UK error summary (``outcomes.filters.parse_filters``); ``filter_errors`` says so.
    Without filter parameters the form is unbound and built lazily.
    """
    if has_filter_params(request.GET):
        filters, form = parse_filters(request.GET)
        filter_errors = bool(form.errors)
    else:  # unbound: built (three queries for its choices) only if drawn, not when its HTML is cached
        filters, form, filter_errors = DashboardFilters(), SimpleLazyObject(DashboardFilterForm), False
    return {
        "filters": filters,
        "filter_form": form,
        "filter_errors": filter_errors,
        "filter_lines": filters.descriptions(),
        "querystring": filters.querystring,
        "tabs": dashboard_tabs(current, filters.querystring),
        "current_url": reverse(current),
        "too_few": too_few_text(),
        "small_below": settings.ACADEMY_SMALL_COHORT,
        "no_dm_benchmark": NO_DM_BENCHMARK,
        "definitions": [MEASURES[m] for m in ALL_MEASURES],
        "can_recompute": request.user.has_perm("academy.recompute_metrics"),
        "can_export": request.user.has_perm("academy.export_dashboard"),
        "can_view_benchmarks": request.user.has_perm("academy.view_benchmarks"),
        "run_id": request.GET.get("run", "")[:32],
    }


def _paginate_cohorts(request: HttpRequest, cohort_snapshots) -> Paginator:
    """Return the requested page (``?page=``, 25 cohorts) of cohort snapshots (a queryset or a list), never failing.

    An out-of-range or malformed page number gives the last or first page
    (``Paginator.get_page``); the filters stay in the links (``includes/pagination.html``).
    """
    return Paginator(cohort_snapshots, COHORTS_PER_PAGE).get_page(request.GET.get("page"))


def cohort_page(request: HttpRequest, filters, *, live: dict | None = None) -> dict:
    """Return the headline and one page of cohorts for a dashboard page, newest cohorts first.

    Unfiltered (and without ``live``), reads the stored snapshots: the all-cohorts row and
    one page of cohort rows (3 queries: all row, count, page), so the page does not grow
    with the number of cohorts. Filtered, or given ``live`` (``readers.live_metrics``),
    computes over the filtered set and keeps the requested page.

    Returns ``{"summary": dashboard_summary of the all row and the page's cohorts,
    "page": Paginator page of snapshots, "source": "snapshot" | "live", "cohort_count": int}``.
    """
    if live is None and not filters.is_filtered:
        overall = readers.stored_overall()
        page = _paginate_cohorts(request, readers.stored_cohort_snapshots())
        source = "snapshot"
    else:
        snapshots = (live or readers.live_metrics(filters))["snapshots"]
        overall = next((s for s in snapshots if s.cohort_id is None), None)
        page = _paginate_cohorts(request, readers.newest_first(snapshots))
        source = "live"
    shown = list(page.object_list) + ([overall] if overall is not None else [])
    return {"summary": dashboard_summary(shown), "page": page, "source": source, "cohort_count": page.paginator.count}


def _render_dashboard(request: HttpRequest, view: str, build) -> HttpResponse:
    """Render a dashboard page: the header for this reader, and the body built by ``build`` or from the cache.

    ``view``: the URL name, whose template is ``outcomes/<name>.html`` with the body in
    its ``body`` partial; ``build(request, context) -> dict`` adds the body's context
    (and ``source``: "snapshot" or "live", ``computed_text``, ``has_charts``). Unfiltered
    bodies are cached per dashboard generation (``dashboards.cache``): a live page
    served from the cache says when it was computed instead of "just now".
    """
    context = _page(request, view)
    context["page_title"] = PAGE_TITLES[view]
    # Every permission the bodies (and the impact panel they include) look at.
    flags = {name: context[name] for name in ("can_export", "can_view_benchmarks", "can_recompute")}
    flags["can_view_impact"] = request.user.has_perm("academy.view_impact")
    key = dashboard_cache.cache_key(request, view, filtered=context["filters"].is_filtered, flags=flags)
    template = f"outcomes/{view.split(':')[1]}.html"

    def build_with_empty_form(request: HttpRequest, context: dict) -> dict:
        # A cached page has no filter parameters (``cache_key``), so its form is the empty one,
        # the same for every reader of a generation: kept with the body.
        fields = render_to_string("forms/fields.html", {"form": context["filter_form"]}, request)
        return {**build(request, context), "empty_filter_fields": fields}

    entry = dashboard_cache.cached_body(
        request, context, key=key, template=f"{template}#body", build=build_with_empty_form if key else build,
        keep=("source", "computed_text", "has_charts", "empty_filter_fields"),
    )
    context.update(entry)
    if entry.get("empty_filter_fields"):  # only cached pages, which have no filter parameters
        context["filter_fields_html"] = mark_safe(entry["empty_filter_fields"])  # nosec B703 B308 - our template
    if key is not None and entry["source"] == "live":
        context["source"] = "cached"
        context["computed_text"] = format_computed_at(entry["built_at"])
    return render(request, template, context)


def _overview(request: HttpRequest, context: dict) -> dict:
    """Return the overview's body: headline rates, one page of cohort tables and their charts."""
    shown = cohort_page(request, context["filters"])
    summary = shown["summary"]
    cohort_rows = summary["cohorts"]
    figures = dashboard_figures(cohort_rows, ALL_MEASURES) if cohort_rows else {}
    sections = rate_chart_sections(cohort_rows, ALL_MEASURES)
    return {
        "summary": summary,
        "source": shown["source"],
        "computed_text": summary.get("last_computed_text", ""),
        "page": shown["page"],
        "cohort_count": shown["cohort_count"],
        "overall": summary["overall"],
        "cohort_rows": cohort_rows,
        "figures": figures,
        "has_charts": bool(cohort_rows),
        "rate_sections": sections,
        # Measures some cohort on this page is compared on (its standard's or level's figure),
        # though the all-cohorts row has no figure of its own.
        "cohort_benchmarked": [s["measure"] for s in sections if s["cohorts_benchmarked"]],
    }


@perm_required("academy.view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show the headline rates (all cohorts, or the filtered set), one page of cohort tables and their charts."""
    return _render_dashboard(request, "outcomes:dashboard", _overview)


@perm_required("academy.view_dashboard")
def dashboard_standards(request: HttpRequest) -> HttpResponse:
    """Compare each standard and one page of cohorts with the national figures (``_standards``)."""
    return _render_dashboard(request, "outcomes:dashboard_standards", _standards)


def _standards(request: HttpRequest, context: dict) -> dict:
    """Compare each standard (all its cohorts) and one page of cohorts with the national figure for the standard.

    Unfiltered, the standard totals are one ``GROUP BY`` over the stored snapshots and
    the cohorts one page of them (``readers.stored_standard_totals``, ``cohort_page``);
    filtered, both come from the live figures. The cohort rows and the forest plots show
    the current page of cohorts (25, newest first), so the page does not grow with the
    number of cohorts.
    """
    filters = context["filters"]
    benchmarks = load_benchmarks()
    if filters.is_filtered:
        live = readers.live_metrics(filters)
        shown = cohort_page(request, filters, live=live)
        totals = readers.standard_totals(live["snapshots"], benchmarks)
        standards = {c.standard_id: c.standard for c in live["cohorts"].values()}
    else:
        shown = cohort_page(request, filters)
        totals = readers.stored_standard_totals(benchmarks)
        standards = {st.pk: st for st in Standard.objects.filter(pk__in=list(totals))}
    source, page = shown["source"], shown["page"]
    groups = pages.standard_groups(standards, totals, page.object_list)
    ordered = pages.standard_rows(groups)
    sections = []
    for measure in ALL_MEASURES:
        table = []
        for group in groups:
            for row, is_total in [(group["total"], True)] + [(r, False) for r in group["cohorts"]]:
                rate = row["rates"][measure]
                table.append(
                    {
                        "label": row["label"],
                        "is_total": is_total,
                        "rate": rate,
                        "scope_text": benchmark_scope_text(rate),
                        "verdict": verdict_text(rate),
                    }
                )
        sections.append(
            {"id": f"forest-{measure.replace('_', '-')}", "measure": measure, "meta": MEASURES[measure], "rows": table}
        )
    return {
        "source": source,
        "computed_text": shown["summary"].get("last_computed_text", ""),
        "summary": shown["summary"],
        "page": page,
        "cohort_count": page.paginator.count,
        "groups": groups,
        "sections": sections,
        "figures": {s["id"]: forest_figure(ordered, s["measure"]) for s in sections} if ordered else {},
        "has_charts": bool(ordered),
    }


@perm_required("academy.view_dashboard")
def dashboard_trends(request: HttpRequest) -> HttpResponse:
    """Show intake and results by month and by cohort, and each cohort's distinction and merit share over time."""
    return _render_dashboard(request, "outcomes:dashboard_trends", _trends)


def _trends(request: HttpRequest, context: dict) -> dict:
    """Return the trends page's body: months, one page of cohorts and three charts (computed live)."""
    live = readers.live_metrics(context["filters"])
    _trends_frame, months = pages.monthly_rows(live)
    shown = cohort_page(request, context["filters"], live=live)
    summary = shown["summary"]
    cohort_rows = summary["cohorts"]
    return {
        "source": "live",
        "months": months,
        "page": shown["page"],
        "cohort_count": shown["cohort_count"],
        "cohort_rows": cohort_rows,
        "summary": summary,
        "figures": pages.trends_figures(months, sorted(cohort_rows, key=lambda row: row["cohort"].start_date)),
        "has_charts": bool(months or cohort_rows),
    }


@perm_required("academy.view_dashboard")
def dashboard_teams(request: HttpRequest) -> HttpResponse:
    """Show enrolments, completions and results by team, listing teams with no enrolments (not yet taking part)."""
    return _render_dashboard(request, "outcomes:dashboard_teams", _teams)


def _teams(request: HttpRequest, context: dict) -> dict:
    """Return the teams page's body: 50 teams taking part a page (``?page=``), the others by name, and the chart (live)."""
    filters = context["filters"]
    teams = pages.team_groups(filters, readers.live_metrics(filters))
    rows, taking_part, not_taking_part = teams["rows"], teams["taking_part"], teams["not_taking_part"]
    sort, descending = groups.parse_group_sort(request.GET.get("sort"))
    taking_part = groups.sort_groups(taking_part, sort, descending)
    page = Paginator(taking_part, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    for row in shown:  # the table's three rate columns, in order
        row["group_rates"] = [row["rates"][m] for m in ("distinction_merit_share", "achievement_rate", "pass_rate")]
    return {
        "source": "live",
        "team_rows": shown,
        "team_page": page,
        "taking_part_count": len(taking_part),
        "not_taking_part": not_taking_part,
        "team_count": len(rows),
        "sort_headers": sort_headers(request, sort, descending, TEAM_COLUMNS, descending_first=TEAM_NUMERIC),
        "national": groups.national_figures(taking_part, ("distinction_merit_share", "achievement_rate", "pass_rate")),
        "figures": {"chart-teams": teams_figure(shown)} if shown else {},
        "has_charts": bool(shown),
    }


# The teams table's columns: (sort key, heading); all but the name are numbers, which sort
# biggest first on a first click.
TEAM_COLUMNS = (
    ("name", "Team"),
    ("enrolled", "Enrolled"),
    ("in-learning", "In learning"),
    ("completed", "Completed"),
    ("withdrawn", "Withdrawn"),
    ("distinction-merit", "Distinction and merit share"),
    ("achievement", "Achievement rate"),
    ("pass", "Pass rate"),
)
TEAM_NUMERIC = {key for key, _ in TEAM_COLUMNS} - {"name"}


@perm_required("academy.view_dashboard")
def dashboard_coaching(request: HttpRequest) -> HttpResponse:
    """Show attended coaching sessions and hours per learner by cohort and by coach, and the share at risk."""
    return _render_dashboard(request, "outcomes:dashboard_coaching", _coaching)


def _coaching(request: HttpRequest, context: dict) -> dict:
    """Return the coaching page's body: per cohort (25 a page) and per coach (50 a page, ``?coach_page=``), with the share at risk today (live)."""
    filters = context["filters"]
    live = readers.live_metrics(filters)
    shown = cohort_page(request, filters, live=live)
    summary = shown["summary"]
    cohort_rows = summary["cohorts"]
    coaching = pages.coaching_groups(filters, live, cohort_rows)
    coach_rows = coaching["coach_rows"]
    coach_page = Paginator(coach_rows, GROUPS_PER_PAGE).get_page(request.GET.get("coach_page"))
    coach_count, coach_rows = len(coach_rows), list(coach_page.object_list)
    overall = summary["overall"]
    if overall is not None:
        overall["risk"] = coaching["overall_risk"]
    return {
        "source": "live",
        "overall": overall,
        "cohort_rows": cohort_rows,
        "page": shown["page"],
        "cohort_count": shown["cohort_count"],
        "coach_rows": coach_rows,
        "coach_page": coach_page,
        "coach_count": coach_count,
        "figures": pages.coaching_figures(cohort_rows, coach_rows),
        "has_charts": bool(cohort_rows or coach_rows),
    }


@perm_required("academy.recompute_metrics")
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    """Queue the metrics job and return to the dashboard page it came from, which then shows its progress.

    The run is an ``outcomes.MetricsRun`` status row (``outcomes.runs.queue_run``);
    ``recompute_status`` reads it.
    """
    run_id = str(runs.queue_run(user=request.user).pk)
    messages.success(request, "The metrics are being recomputed. The status below updates by itself.")
    filters, _form = parse_filters(request.POST)
    params = filters.params()
    if run_id:
        params["run"] = run_id
    return redirect(reverse("outcomes:dashboard") + ("?" + urlencode(params) if params else ""))


@perm_required("academy.recompute_metrics")
def recompute_status(request: HttpRequest, run_id: str) -> HttpResponse:
    """Return the small status of a recompute (queued / running / done), polled by htmx until done."""
    state = runs.run_state(run_id)
    return render(
        request,
        "outcomes/_recompute_status.html",
        {"run_id": run_id, "state": state, "computed_text": format_computed_at(state["computed_at"])},
    )


@perm_required("academy.export_dashboard")
def export_csv(request: HttpRequest) -> HttpResponse:
    """Return the dashboard as CSV: one row per cohort, then "All cohorts" (``dashboards.exports.summary_table``).

    Honours the dashboard's filters (same GET parameters as the page): filtered, the rows
    are computed live over the filtered set, so the file matches what the page shows;
    invalid filters give the unfiltered file, as the page does. Unfiltered, the stored
    snapshots are exported.
    """
    filters, _form = parse_filters(request.GET)
    if filters.is_filtered:
        summary = dashboard_summary(readers.dashboard_snapshots(filters)[0])
    else:
        summary = dashboard_summary(_snapshots())
    filename = f"academy-dashboard-{timezone.localdate():%Y-%m-%d}.csv"
    response = HttpResponse(write_csv(summary_table(summary)), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    record(
        request=request,
        action=Action.EXPORT,
        detail={"export": "dashboard", "format": "csv", "file": filename, "filters": filters.querystring},
    )
    return response


@perm_required("academy.view_benchmarks")
def benchmark_list(request: HttpRequest) -> HttpResponse:
    """List national benchmarks by measure, scope and year (newest first), 50 a page."""
    benchmarks = NationalBenchmark.objects.select_related("standard").order_by(
        "measure", "scope", "standard__reference", "level", "-academic_year", "id"
    )
    page = Paginator(benchmarks, BENCHMARKS_PER_PAGE).get_page(request.GET.get("page"))
    for benchmark in page.object_list:
        benchmark.rate_percent = format_percent(benchmark.rate)
    return render(
        request,
        "outcomes/benchmark_list.html",
        {"page": page, "can_add": request.user.has_perm("academy.manage_benchmarks")},
    )


@perm_required("academy.manage_benchmarks")
def benchmark_create(request: HttpRequest) -> HttpResponse:
    """Add a national benchmark, then queue a recompute so the dashboard compares with it."""
    form = NationalBenchmarkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        benchmark = save_benchmark(form.save(commit=False), by=request.user)
        text = f"Benchmark added: {benchmark}. The dashboard is being recomputed to compare with it."
        messages.success(request, text)
        return redirect("outcomes:benchmark_list")
    return render(request, "outcomes/benchmark_form.html", {"form": form})


@perm_required("academy.manage_benchmarks")
def benchmark_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit one national benchmark (measure, scope, year, rate, source), show its history, then recompute."""
    benchmark = get_object_or_404(NationalBenchmark.objects.select_related("standard"), pk=pk)
    form = benchmark_form_for_edit(benchmark, request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = save_benchmark(form.save(commit=False), by=request.user)
        text = f"Benchmark saved: {saved}. The dashboard is being recomputed to compare with it."
        messages.success(request, text)
        return redirect("outcomes:benchmark_list")
    history = list(benchmark.history.select_related("history_user").order_by("-history_date", "-history_id")[:20])
    for record in history:
        record.rate_percent = format_percent(record.rate) if record.rate is not None else "Suppressed"
    return render(request, "outcomes/benchmark_form.html", {"form": form, "benchmark": benchmark, "history": history})


@perm_required("academy.manage_benchmarks")
def benchmark_import(request: HttpRequest) -> HttpResponse:
    """Upload a NARTs CSV and show what it would change (nothing is written until the lead confirms)."""
    form = NartUploadForm(request.POST or None, request.FILES or None)
    preview = None
    file_error = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            preview = parse_narts(upload, filename=upload.name)
        except NartFileError as exc:
            file_error = str(exc)
            form.add_error("file", file_error)
        else:
            request.session[NART_SESSION_KEY] = {
                "filename": upload.name,
                "changes": [change_to_dict(c) for c in preview.changes if c.action != "unchanged"],
            } if preview.can_import else None
    return render(request, "outcomes/benchmark_import.html", {"form": form, "preview": preview})


@perm_required("academy.manage_benchmarks")
@require_POST
def benchmark_import_confirm(request: HttpRequest) -> HttpResponse:
    """Write the previewed NARTs benchmarks in one transaction, then queue a recompute."""
    pending = request.session.pop(NART_SESSION_KEY, None)
    if not pending:
        messages.error(request, "There is nothing to import. Upload the file again.")
        return redirect("outcomes:benchmark_import")
    result = apply_narts(changes=[change_from_dict(c) for c in pending["changes"]], filename=pending["filename"])
    messages.success(
        request,
        f"Imported {pending['filename']}: {result['created']} benchmarks added, {result['updated']} updated, "
        f"{result['unchanged']} unchanged. The dashboard is being recomputed.",
    )
    return redirect("outcomes:benchmark_list")
