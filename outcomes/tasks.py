"""Celery tasks of the outcomes app: thin adapters that call ``outcomes.metrics``."""
from celery import shared_task
from django.db import InterfaceError, OperationalError

from academy.changes import RECOMPUTE_METRICS_TASK
from outcomes import metrics


@shared_task(
    name=RECOMPUTE_METRICS_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def recompute_metrics(cohort_id: int | None = None) -> int:
    """Recompute the metrics snapshots of ``cohort_id`` and all cohorts (or every cohort when ``None``).

    Calls ``outcomes.metrics.recompute_metrics``; returns the number of snapshot rows
    written. Retries with exponential back-off and jitter when the database is
    unavailable or locked (``OperationalError``, ``InterfaceError``), at most 5 times.
    Idempotent (an upsert of one snapshot per cohort), so a redelivery after a killed
    worker (``acks_late``, ``reject_on_worker_lost``) writes the same rows again. Also run nightly by Celery beat
    (``CELERY_BEAT_SCHEDULE`` in settings) to repair any missed update.
    """
    return len(metrics.recompute_metrics(cohort_id=cohort_id))
