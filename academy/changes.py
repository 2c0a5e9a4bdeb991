"""Background jobs queued once a change commits: the metrics job, import checks and imports.

Any layer may call ``queue_recompute``: it queues the Celery task by its registered
name (``RECOMPUTE_METRICS_TASK``, defined in ``outcomes.tasks``), so the apps below
``outcomes`` need not import it, as a service puts an event on a named queue. With no
broker configured the task runs in-process (``CELERY_TASK_ALWAYS_EAGER``).

Bulk loaders (imports, the demo) wrap their writes in ``metrics_paused()`` so that the
per-row receivers of ``outcomes.signals`` queue nothing, and call ``queue_recompute()``
once at the end.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from celery import current_app
from django.db import transaction

RECOMPUTE_METRICS_TASK = "outcomes.tasks.recompute_metrics"

_local = threading.local()


@contextmanager
def metrics_paused():
    """Stop the metrics receivers from queueing the job in this thread while the block runs.

    Nestable. The caller queues or runs the job afterwards, e.g.
    ``with metrics_paused(): load(); queue_recompute()``.
    """
    _local.paused = getattr(_local, "paused", 0) + 1
    try:
        yield
    finally:
        _local.paused -= 1


def is_paused() -> bool:
    """Return True inside ``metrics_paused()`` in this thread."""
    return getattr(_local, "paused", 0) > 0


def queue_recompute(cohort_id: int | None = None, *, run_id: int | None = None) -> None:
    """Queue the metrics job for ``cohort_id`` (and the all-cohorts row; every cohort when ``None``) on commit.

    ``run_id`` names the ``outcomes.MetricsRun`` the job reports its progress to, if any.

    Outside a transaction it is queued at once. The callback is robust: a failure to
    queue or compute is logged, never raised into the request whose data has already
    been committed; the nightly run catches up. Raises ``KeyError`` at commit if the
    task is not registered (``OutcomesConfig.ready`` imports ``outcomes.tasks``).
    """
    args = (cohort_id,) if run_id is None else (cohort_id, run_id)
    transaction.on_commit(lambda: current_app.tasks[RECOMPUTE_METRICS_TASK].delay(*args), robust=True)


def queue_task(name: str, *args) -> None:
    """Queue the Celery task registered as ``name`` with ``args`` once the current transaction commits.

    As Celery's ``delay_on_commit``: a failure to queue is raised into the committed
    request. Raises ``KeyError`` at commit if no task has that name (each app's
    ``ready`` imports its ``tasks`` module).
    """
    transaction.on_commit(lambda: current_app.tasks[name].delay(*args))
