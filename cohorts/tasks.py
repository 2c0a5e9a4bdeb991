"""Celery tasks of the cohorts app: thin adapters over ``cohorts.imports.pipeline``."""
from celery import shared_task
from django.db import OperationalError

from cohorts.imports import pipeline


@shared_task(name="cohorts.tasks.check_import", acks_late=True, autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=3)
def check_import(run_id: int) -> str:
    """Build the preview of ``ImportRun`` ``run_id`` (``pipeline.run_check``); return its status."""
    return pipeline.run_check(run_id).status


@shared_task(name="cohorts.tasks.apply_import", acks_late=True)
def apply_import(run_id: int, user_id: int | None = None) -> str:
    """Import a confirmed ``ImportRun`` in one transaction (``pipeline.run_apply``); return its status.

    Not retried automatically: a failure leaves the run ``failed`` with the reason and
    nothing written, and the user uploads again.
    """
    return pipeline.run_apply(run_id, user_id).status
