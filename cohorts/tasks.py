"""Celery tasks of the cohorts app: thin adapters over ``cohorts.imports.runs``."""
from celery import shared_task
from django.db import InterfaceError, OperationalError

from cohorts.imports import runs
from cohorts.imports.runs import APPLY_IMPORT_TASK, CHECK_IMPORT_TASK


@shared_task(name=CHECK_IMPORT_TASK, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, retry_jitter=True, max_retries=3)
def check_import(run_id: int) -> str:
    """Build the preview of ``ImportRun`` ``run_id`` (``runs.run_check``); return its status."""
    return runs.run_check(run_id).status


@shared_task(name=APPLY_IMPORT_TASK, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, retry_jitter=True, max_retries=3)
def apply_import(run_id: int, user_id: int | None = None) -> str:
    """Import a confirmed ``ImportRun`` in one transaction (``runs.run_apply``); return its status.

    A database error while writing leaves the run ``failed`` with the reason and nothing
    written, and the user uploads again. Retried (back-off, jitter) only when the database
    cannot be reached before the write: ``run_apply`` does nothing unless the run is still
    ``importing``, and a rerun after the write finds every row unchanged, so a retry or a
    redelivery after a killed worker never imports twice.
    """
    return runs.run_apply(run_id, user_id).status


@shared_task(name="cohorts.tasks.fail_stalled_imports", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, retry_jitter=True, max_retries=3)
def fail_stalled_imports() -> int:
    """End import runs whose job was lost (``runs.fail_stalled_runs``); return how many. Beat: every 10 minutes.

    Idempotent: a second run finds nothing stalled.
    """
    return runs.fail_stalled_runs()
