"""Celery task for the retention job (beat runs it nightly)."""
from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from .services import apply_retention as apply_retention_service


@shared_task(
    name="privacy.tasks.apply_retention",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def apply_retention(dry_run: bool = False) -> int:
    """Anonymise learners past ``ACADEMY_RETENTION_YEARS``; return how many (would be) anonymised.

    Safe to retry or redeliver: anonymising is idempotent (``anonymise_learner``).
    """
    candidates = apply_retention_service(
        years=settings.ACADEMY_RETENTION_YEARS, today=timezone.localdate(), dry_run=dry_run
    )
    return len(candidates)
