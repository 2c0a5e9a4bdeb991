"""Celery tasks of the outcomes app: thin adapters that call ``outcomes.metrics``."""
from celery import shared_task
from django.db import InterfaceError, OperationalError

from academy.changes import RECOMPUTE_METRICS_TASK
from outcomes import metrics, runs


@shared_task(
    name=RECOMPUTE_METRICS_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def recompute_metrics(cohort_id: int | None = None, run_id: int | None = None) -> int:
    """Recompute the metrics snapshots of ``cohort_id`` and all cohorts (or every cohort when ``None``).

    Calls ``outcomes.metrics.recompute_metrics``; returns the number of snapshot rows
    written. Retries with exponential back-off and jitter when the database is
    unavailable or locked (``OperationalError``, ``InterfaceError``), at most 5 times.
    Idempotent (an upsert of one snapshot per cohort), so a redelivery after a killed
    worker (``acks_late``, ``reject_on_worker_lost``) writes the same rows again. Also run nightly by Celery beat
    (``CELERY_BEAT_SCHEDULE`` in settings) to repair any missed update. With ``run_id``
    (a recompute asked for from the dashboard) it marks that ``MetricsRun`` started, then
    finished or failed (``outcomes.runs``).
    """
    runs.mark_started(run_id)
    try:
        written = len(metrics.recompute_metrics(cohort_id=cohort_id))
    except (OperationalError, InterfaceError):
        raise  # retried (autoretry_for): the run is still running
    except Exception as error:
        runs.mark_failed(run_id, error)
        raise
    runs.mark_finished(run_id, cohorts=written)
    return written
