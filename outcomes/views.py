"""Dashboard pages: cohort metrics against national benchmarks, the CSV export, and benchmarks.

Pages read ``CohortMetrics`` snapshots (written by ``outcomes.metrics.recompute_metrics``)
in one query; they never compute metrics themselves.
"""
import csv
import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from academy.decorators import perm_required

from .charts import dashboard_figures
from .forms import NationalBenchmarkForm
from .models import CohortMetrics, NationalBenchmark
from .presentation import (
    CSV_COLUMNS,
    MEASURE_ORDER,
    MEASURES,
    NO_DM_BENCHMARK,
    csv_rows,
    dashboard_summary,
    format_percent,
    rate_chart_sections,
    too_few_text,
)

logger = logging.getLogger(__name__)
BENCHMARKS_PER_PAGE = 50


def _snapshots():
    """Return every snapshot with its cohort and standard, cohorts by start date then name (one query)."""
    return CohortMetrics.objects.select_related("cohort__standard").order_by(
        F("cohort__start_date").asc(nulls_first=True), "cohort__name", "key"
    )


def _queue_recompute() -> bool:
    """Queue the metrics job after the commit; return False when the job is not available.

    Uses ``outcomes.tasks.queue_recompute`` (written by the metrics work), falling back to
    ``outcomes.tasks.recompute_metrics.delay_on_commit``.
    """
    try:
        from outcomes.tasks import queue_recompute
    except ImportError:
        queue_recompute = None
    try:
        if queue_recompute is not None:
            queue_recompute()
            return True
        from outcomes.tasks import recompute_metrics

        recompute_metrics.delay_on_commit()
        return True
    except ImportError:
        return False
    except Exception:  # a broker outage must not lose the user's saved benchmark
        logger.exception("Could not queue the metrics job")
        return False


@perm_required("academy.view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show the headline rates for all cohorts, the per-cohort table and the charts."""
    summary = dashboard_summary(_snapshots())
    cohort_rows = summary["cohorts"]
    context = {
        "summary": summary,
        "overall": summary["overall"],
        "cohort_rows": cohort_rows,
        "figures": dashboard_figures(cohort_rows) if cohort_rows else {},
        "rate_sections": rate_chart_sections(cohort_rows),
        "definitions": [MEASURES[m] for m in MEASURE_ORDER],
        "no_dm_benchmark": NO_DM_BENCHMARK,
        "too_few": too_few_text(),
        "can_recompute": request.user.has_perm("academy.recompute_metrics"),
        "can_export": request.user.has_perm("academy.export_dashboard"),
        "can_view_benchmarks": request.user.has_perm("academy.view_benchmarks"),
    }
    return render(request, "outcomes/dashboard.html", context)


@perm_required("academy.recompute_metrics")
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    """Queue the metrics job and return to the dashboard with a message."""
    if _queue_recompute():
        messages.success(request, "The metrics are being recomputed. Refresh this page in a minute to see them.")
    else:
        messages.error(request, "The metrics job is not available. Ask an administrator to run recompute_metrics.")
    return redirect("outcomes:dashboard")


@perm_required("academy.export_dashboard")
def export_csv(request: HttpRequest) -> HttpResponse:
    """Return the snapshots as CSV: one row per cohort, then "All cohorts" (columns in ``CSV_COLUMNS``)."""
    summary = dashboard_summary(_snapshots())
    filename = f"academy-dashboard-{timezone.localdate():%Y-%m-%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(summary))
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
        benchmark = form.save()
        queued = _queue_recompute()
        text = f"Benchmark added: {benchmark}."
        if queued:
            text += " The dashboard is being recomputed to compare with it."
        messages.success(request, text)
        return redirect("outcomes:benchmark_list")
    return render(request, "outcomes/benchmark_form.html", {"form": form})
