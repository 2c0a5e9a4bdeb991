"""Celery tasks of the learners app: thin adapters that call ``coaching.reminders``."""
from celery import shared_task
from django.db import InterfaceError, OperationalError

from coaching import reminders


@shared_task(
    name="coaching.tasks.send_reminders",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def send_reminders() -> int:
    """Email each coach their overdue reviews and learners at risk, and everyone what waits for their signature.

    Returns how many emails were sent.

    Calls ``coaching.reminders.send_reminders`` for today's date (Europe/London). Run
    each morning at 07:00 by Celery beat (``CELERY_BEAT_SCHEDULE``); safe to run twice,
    or on two workers at once: a coach gets at most one reminder a day (``ReminderLog``).
    """
    return len(reminders.send_reminders().sent) + len(reminders.send_signature_reminders().sent)
