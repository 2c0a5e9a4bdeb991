"""Recompute runs asked for from the dashboard, tracked in ``MetricsRun`` status rows.

``queue_run`` records the run and queues the metrics job for it once the request's
transaction commits; the task marks it started, finished or failed (``mark_*``), each in
its own autocommit write so that a status page sees it at once; ``run_state`` reads it.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from academy.changes import queue_recompute

from .metrics import ALL_KEY
from .models import CohortMetrics, MetricsRun


def queue_run(*, user) -> MetricsRun:
    """Record a recompute of every cohort asked for by ``user`` and queue it on commit; return the run."""
    run = MetricsRun.objects.create(requested_by=user if getattr(user, "pk", None) else None)
    queue_recompute(None, run_id=run.pk)
    return run


def mark_started(run_id: int | None) -> None:
    """Note that the job of run ``run_id`` started now (nothing for ``None``)."""
    if run_id is not None:
        MetricsRun.objects.filter(pk=run_id, started_at__isnull=True).update(started_at=timezone.now())


def mark_finished(run_id: int | None, *, cohorts: int) -> None:
    """Note that the job of run ``run_id`` finished now, having written ``cohorts`` snapshot rows."""
    if run_id is not None:
        MetricsRun.objects.filter(pk=run_id).update(finished_at=timezone.now(), cohorts=cohorts, error="")


def mark_failed(run_id: int | None, error: BaseException) -> None:
    """Note that the job of run ``run_id`` failed with ``error`` (its text is kept, cut to 2,000 characters)."""
    if run_id is not None:
        MetricsRun.objects.filter(pk=run_id).update(finished_at=timezone.now(), error=str(error)[:2000] or repr(error))


def run_state(run_id: str) -> dict:
    """Return ``{"status": queued|running|done|failed|unknown, "computed_at": datetime or None}`` for ``run_id``.

    "done" once the run finished, or once the all-cohorts snapshot was computed after the
    run was queued (any later job serves it); "running" once its job started; "unknown"
    for an id that is not a run. Two queries.
    """
    computed_at: dt.datetime | None = (
        CohortMetrics.objects.filter(key=ALL_KEY).values_list("computed_at", flat=True).first()
    )
    run = MetricsRun.objects.filter(pk=int(run_id)).first() if str(run_id).isdigit() else None
    if run is None:
        return {"status": "unknown", "computed_at": computed_at}
    if run.error:
        return {"status": "failed", "computed_at": computed_at, "error": run.error}
    if run.finished_at is not None or (computed_at is not None and computed_at >= run.queued_at):
        return {"status": "done", "computed_at": computed_at}
    if run.started_at is not None:
        return {"status": "running", "computed_at": computed_at}
    return {"status": "queued", "computed_at": computed_at}
