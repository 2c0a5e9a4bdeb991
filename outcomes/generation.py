"""The dashboard generation: one number that moves on whenever what the dashboards show may have changed.

The generation (``outcomes.models.DashboardGeneration``, one row) is bumped:

- by the metrics job, in the transaction that writes the snapshots
  (``outcomes.metrics.recompute_metrics``); it runs after every change to enrolments,
  cohorts, results and coaching sessions (``outcomes.signals``) and nightly;
- once the transaction commits, after saving or deleting anything else a dashboard page
  reads (teams, learners, users, standards, national benchmarks, impact records, progress
  reviews, off-the-job activities; receivers below).

The cached dashboard pages (``dashboards.cache``) are keyed on it, so they are never
older than the data. It is read from the database on every request (one query), so any
web process sees a change made by any other process or Celery worker at once.
"""
from __future__ import annotations

import logging

from django.apps import apps
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from academy.changes import is_paused
from academy.transactions import once_per_transaction

from .models import DashboardGeneration

logger = logging.getLogger(__name__)


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


def bump_generation_on_commit() -> None:
    """Add one to the generation once the current transaction commits (at once outside one).

    Called by the receivers of this module. Within one transaction the bump is registered
    once, however many rows are saved; a rolled-back transaction bumps nothing. Failures
    are logged, never raised into the request whose data has been committed: the nightly
    metrics run bumps the generation again.
    """
    if once_per_transaction("dashboard_generation_bump", _Bump) is None:
        _safe_bump()


def _safe_bump() -> None:
    try:
        bump_generation()
    except Exception:  # noqa: BLE001 - the change is committed; a stale page heals at the next run
        logger.exception("Could not bump the dashboard generation")


def _changed(sender, instance=None, update_fields=None, **kwargs) -> None:
    """Receiver: a row a dashboard page reads was saved or deleted; bump the generation on commit.

    A user's sign-in only writes ``last_login`` and changes no page: it is ignored. Inside
    ``academy.changes.metrics_paused()`` (bulk loaders, which run the metrics job, and so
    bump, at the end) nothing is registered.
    """
    if is_paused() or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    bump_generation_on_commit()


def connect_receivers() -> None:
    """Connect ``_changed`` to the models the dashboard pages read but the metrics job is not run for.

    Called from ``OutcomesConfig.ready``.
    """
    for label in (
        "academy.Team",
        "academy.User",
        "learners.Learner",
        "coaching.ProgressReview",
        "coaching.OffTheJobActivity",
        "cohorts.Standard",
        "outcomes.NationalBenchmark",
        "outcomes.ImpactRecord",
    ):
        model = apps.get_model(label)
        uid = f"outcomes_dashboard_generation_{label}"
        post_save.connect(_changed, sender=model, dispatch_uid=uid + "_saved")
        post_delete.connect(_changed, sender=model, dispatch_uid=uid + "_deleted")
