"""What follows a change to the records, called explicitly by the services that make it.

Services (and the admin) say what they changed; the work it causes runs once the change
commits, once per transaction however many rows were saved, and not at all if the
transaction rolls back:

- ``cohorts_changed(*cohort_ids)``: enrolments, results, coaching sessions or a cohort
  itself changed; the metrics job is queued once per distinct cohort (``queue_recompute``).
  The job rewrites the snapshots and moves the dashboard generation on.
- ``records_changed()``: anything else a dashboard page reads changed (teams, learners,
  users, standards, benchmarks, impact records, progress reviews, off-the-job training);
  the dashboard generation (``DashboardGeneration``) moves on, so no cached dashboard page
  older than the change is served.

Jobs are queued by the task's registered name (``RECOMPUTE_METRICS_TASK``, defined in
``outcomes.tasks``; ``queue_task`` for others), so the apps below ``outcomes`` need not
import it, as a service puts an event on a named queue. With no broker configured the
task runs in-process (``CELERY_TASK_ALWAYS_EAGER``). Failures after the commit are logged,
never raised into the request whose data is already saved; the nightly run catches up.
"""
from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import DashboardGeneration
from .transactions import once_per_transaction

logger = logging.getLogger(__name__)

RECOMPUTE_METRICS_TASK = "outcomes.tasks.recompute_metrics"


# --- The metrics job ------------------------------------------------------------------


def queue_recompute(cohort_id: int | None = None, *, run_id: int | None = None) -> None:
    """Queue the metrics job for ``cohort_id`` (and the all-cohorts row; every cohort when ``None``) on commit.

    ``run_id`` names the ``outcomes.MetricsRun`` the job reports its progress to, if any.
    Outside a transaction it is queued at once. Raises ``KeyError`` at commit (logged) if
    the task is not registered (``OutcomesConfig.ready`` imports ``outcomes.tasks``).
    """
    args = (cohort_id,) if run_id is None else (cohort_id, run_id)
    transaction.on_commit(lambda: current_app.tasks[RECOMPUTE_METRICS_TASK].delay(*args), robust=True)


class _ChangedCohorts:
    """The cohorts changed in the current transaction, queued once each on commit."""

    def __init__(self):
        self.cohort_ids: set[int] = set()

    def flush(self) -> None:
        for cohort_id in sorted(self.cohort_ids):
            queue_recompute(cohort_id)  # runs at once: the transaction has committed


def cohorts_changed(*cohort_ids: int | None) -> None:
    """Say that data of these cohorts changed: their metrics are recomputed once the transaction commits.

    ``None`` ids are ignored. Outside a transaction the job is queued at once.
    """
    ids = {int(i) for i in cohort_ids if i is not None}
    if not ids:
        return
    pending = once_per_transaction("changed_cohorts", _ChangedCohorts)
    if pending is None:
        for cohort_id in sorted(ids):
            queue_recompute(cohort_id)
        return
    pending.cohort_ids.update(ids)


# --- The dashboard generation -----------------------------------------------------------


def current_generation() -> int:
    """Return the dashboard generation number (0 when the row is missing), in one query."""
    return int(_generation_row()[0])


def _generation_row() -> tuple[int, str]:
    """Return ``(number, time of the last bump as ISO text)``; ``(0, "")`` when the row is missing. One query."""
    row = DashboardGeneration.objects.filter(pk=1).values_list("number", "changed_at").first()
    return (int(row[0]), row[1].isoformat()) if row else (0, "")


def generation_key() -> str:
    """Return the generation as it goes into cache keys: its number and the time of its bump.

    The time makes a key unique to one bump: a database restored from a backup (or a
    test's rolled-back transaction) that carries an older number again never reads pages
    rendered for that number from other data.
    """
    number, changed_at = _generation_row()
    return f"{number}@{changed_at}"


def bump_generation() -> None:
    """Add one to the dashboard generation now, in the current transaction (creating the row if missing).

    ``UPDATE … SET number = number + 1`` locks the row until the transaction ends, so two
    writers never lose a bump.
    """
    if not DashboardGeneration.objects.filter(pk=1).update(number=F("number") + 1, changed_at=timezone.now()):
        DashboardGeneration.objects.get_or_create(pk=1, defaults={"number": 1})


class _Bump:
    """The dashboard generation's bump owed by the current transaction (``once_per_transaction``)."""

    def flush(self) -> None:
        _safe_bump()


def records_changed() -> None:
    """Say that something a dashboard page reads changed: the generation moves on once the transaction commits.

    Once per transaction however many rows were saved; at once outside a transaction; a
    rolled-back transaction bumps nothing. A failure is logged, never raised into the
    request whose data has been committed: the nightly metrics run bumps it again.
    """
    if once_per_transaction("dashboard_generation_bump", _Bump) is None:
        _safe_bump()


def _safe_bump() -> None:
    try:
        bump_generation()
    except Exception:  # noqa: BLE001 - the change is committed; a stale page heals at the next run
        logger.exception("Could not bump the dashboard generation")


# --- Other jobs --------------------------------------------------------------------------


def queue_task(name: str, *args) -> None:
    """Queue the Celery task registered as ``name`` with ``args`` once the current transaction commits.

    As Celery's ``delay_on_commit``: a failure to queue is raised into the committed
    request. Raises ``KeyError`` at commit if no task has that name (each app's
    ``ready`` imports its ``tasks`` module).
    """
    transaction.on_commit(lambda: current_app.tasks[name].delay(*args))
