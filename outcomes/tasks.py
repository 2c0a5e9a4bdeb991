"""Celery tasks of the outcomes app: thin adapters that call ``outcomes.metrics``."""
from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from outcomes import metrics


@shared_task(
    name="outcomes.tasks.recompute_metrics",
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


def queue_recompute(cohort_id: int | None = None) -> None:
    """Queue ``recompute_metrics`` for ``cohort_id`` once the current transaction commits.

    Outside a transaction it is queued at once. With no broker configured the task runs
    in-process (settings ``CELERY_TASK_ALWAYS_EAGER``). The callback is robust: a failure
    to queue or compute is logged, never raised into the request whose data has already
    been committed; the nightly run catches up.
    """
    transaction.on_commit(lambda: recompute_metrics.delay(cohort_id), robust=True)
