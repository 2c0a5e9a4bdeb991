"""The morning reminder: each coach gets one email listing their overdue progress reviews and learners at risk.

Run daily at 07:00 Europe/London by Celery beat (``coaching.tasks.send_reminders``,
``CELERY_BEAT_SCHEDULE`` in settings) and by hand with ``python manage.py send_reminders``.
Email goes through Django's email backend: the console backend unless ``EMAIL_URL``
configures SMTP (settings).

Never twice in a day: for each coach, a ``ReminderLog`` row (unique coach + date + kind)
is inserted **before** sending, in the same transaction as the send. A second run, or a
second worker at the same moment, fails that insert (``IntegrityError``; on PostgreSQL
the second insert waits for the first transaction, then fails) and sends nothing. If the
send raises, the transaction rolls back, the row goes with it and a later run can send.
Known limit: a send that reaches the mail server but whose commit then fails would be
repeated by a retry; the window is the commit alone.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from academy.models import User
from coaching.models import ReminderLog
from coaching.risk import CURRENT_STATUSES, LearnerRisk, learner_risks
from cohorts.models import Enrolment

logger = logging.getLogger(__name__)

KIND = "daily"


@dataclass
class Digest:
    """What one coach is reminded of: ``overdue`` reviews and ``at_risk`` learners (``LearnerRisk`` rows)."""

    coach: User
    overdue: list[LearnerRisk] = field(default_factory=list)
    at_risk: list[LearnerRisk] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.at_risk)


@dataclass
class ReminderRun:
    """The outcome of one run: coach ids ``sent``, ``already_sent`` today, ``failed`` (send raised)."""

    date: dt.date
    sent: list[int] = field(default_factory=list)
    already_sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def coach_digests(*, today: dt.date) -> list[Digest]:
    """Return a ``Digest`` per active coach with something to report, ordered by coach, with 3 queries.

    Reads every current enrolment with an active coach through ``learner_risks`` (two
    queries whatever the number of learners) plus one for the coaches.
    """
    enrolments = Enrolment.objects.filter(
        status__in=CURRENT_STATUSES, coach__is_active=True, coach__role=User.Role.COACH
    ).order_by("learner__last_name", "learner__first_name", "id")
    by_coach: dict[int, Digest] = {}
    rows = defaultdict(list)
    for risk in learner_risks(enrolments, today=today):
        rows[risk.enrolment.coach_id].append(risk)
    for coach_id, risks in rows.items():
        digest = Digest(
            coach=risks[0].enrolment.coach,
            overdue=sorted((r for r in risks if r.review_overdue), key=lambda r: r.review_due.value),
            at_risk=[r for r in risks if r.at_risk],
        )
        if not digest.empty:
            by_coach[coach_id] = digest
    return [by_coach[key] for key in sorted(by_coach, key=lambda k: (str(by_coach[k].coach), k))]


def build_message(digest: Digest, *, today: dt.date) -> EmailMultiAlternatives:
    """Return the reminder email for ``digest`` (subject, text and HTML bodies from ``templates/emails/``)."""
    base_url = getattr(settings, "ACADEMY_BASE_URL", "").rstrip("/")
    context = {
        "coach": digest.coach,
        "overdue": digest.overdue,
        "at_risk": digest.at_risk,
        "today": today,
        "coach_url": f"{base_url}{reverse('coach:home')}" if base_url else "",
    }
    subject = " ".join(render_to_string("emails/reminder_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/reminder.txt", context),
        to=[digest.coach.email],
    )
    message.attach_alternative(render_to_string("emails/reminder.html", context), "text/html")
    return message


def send_reminders(*, today: dt.date | None = None) -> ReminderRun:
    """Email each coach with overdue reviews or learners at risk, at most once per ``today``; return the run.

    ``today`` defaults to the local date (Europe/London). Safe to run twice, or on two
    workers at once: see the module docstring. A failed send is logged and listed in
    ``failed``; it does not stop the other coaches' reminders.
    """
    today = today or timezone.localdate()
    run = ReminderRun(date=today)
    for digest in coach_digests(today=today):
        coach = digest.coach
        try:
            with transaction.atomic():
                ReminderLog.objects.create(
                    coach=coach, date=today, kind=KIND,
                    detail={
                        "overdue_reviews": [r.enrolment.pk for r in digest.overdue],
                        "at_risk": [r.enrolment.pk for r in digest.at_risk],
                    },
                )
                build_message(digest, today=today).send()
        except IntegrityError:
            run.already_sent.append(coach.pk)
        except Exception:
            logger.exception("Reminder to coach %s on %s was not sent; it will be tried again.", coach.pk, today)
            run.failed.append(coach.pk)
        else:
            run.sent.append(coach.pk)
    return run
