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


def _send_once(run: ReminderRun, *, user: User, today: dt.date, kind: str, detail: dict, message) -> None:
    """Send ``message()`` to ``user`` unless a ``kind`` reminder went to them on ``today``; record it in ``run``."""
    try:
        with transaction.atomic():
            ReminderLog.objects.create(coach=user, date=today, kind=kind, detail=detail)
            message().send()
    except IntegrityError:
        run.already_sent.append(user.pk)
    except Exception:
        logger.exception("%s reminder to user %s on %s was not sent; it will be tried again.", kind, user.pk, today)
        run.failed.append(user.pk)
    else:
        run.sent.append(user.pk)


def send_reminders(*, today: dt.date | None = None) -> ReminderRun:
    """Email each coach with overdue reviews or learners at risk, at most once per ``today``; return the run.

    ``today`` defaults to the local date (Europe/London). Safe to run twice, or on two
    workers at once: see the module docstring. A failed send is logged and listed in
    ``failed``; it does not stop the other coaches' reminders.
    """
    today = today or timezone.localdate()
    run = ReminderRun(date=today)
    for digest in coach_digests(today=today):
        _send_once(run, user=digest.coach, today=today, kind=KIND, detail={
            "overdue_reviews": [r.enrolment.pk for r in digest.overdue],
            "at_risk": [r.enrolment.pk for r in digest.at_risk],
        }, message=lambda digest=digest: build_message(digest, today=today))
    return run


# Signatures ---------------------------------------------------------------------------
SIGNATURES_KIND = "signatures"


@dataclass
class SignatureDigest:
    """What one person is reminded to sign: ``plans`` and ``reviews``, each waiting more than 7 days."""

    user: User
    plans: list = field(default_factory=list)
    reviews: list = field(default_factory=list)


def _signer(party: str, enrolment: Enrolment) -> User | None:
    """The account that signs for ``party`` on ``enrolment`` (active), or ``None``."""
    from coaching.signing import Party

    user = {Party.APPRENTICE: enrolment.learner.user, Party.EMPLOYER: enrolment.learner.line_manager,
            Party.PROVIDER: enrolment.coach}[party]
    return user if user is not None and user.is_active else None


def signature_digests(*, today: dt.date) -> list[SignatureDigest]:
    """Return a ``SignatureDigest`` per person with a plan or review waiting for them more than 7 days.

    Reads the compliance lists (``coaching.compliance``) in pages of 500 with their
    signatures; ordered by person. Documents wait from when they were made.
    """
    from django.core.paginator import Paginator
    from django.db.models import Prefetch

    from coaching import compliance
    from coaching.models import Signature, TrainingPlan
    from coaching.signing import state_of

    cutoff = today - dt.timedelta(days=compliance.REMIND_AFTER_DAYS)
    digests: dict[int, SignatureDigest] = {}

    def add(document, enrolment, kind: str) -> None:
        for party in state_of(document, document.signatures.all()).missing:
            user = _signer(party, enrolment)
            if user is not None:
                getattr(digests.setdefault(user.pk, SignatureDigest(user)), kind).append(document)

    related = ("learner__user", "learner__line_manager", "coach", "cohort")
    signatures = Prefetch("signatures", queryset=Signature.objects.order_by("signed_at", "id"))
    enrolments = compliance.plans_unsigned().filter(waiting_since__lt=cutoff, plan_id__isnull=False)
    for page in Paginator(enrolments.select_related(*related), 500):
        rows = list(page.object_list)
        by_pk = TrainingPlan.objects.prefetch_related(signatures).in_bulk([row.plan_id for row in rows])
        for enrolment in rows:
            plan = by_pk[enrolment.plan_id]
            plan.enrolment = enrolment
            add(plan, enrolment, "plans")
    reviews = (compliance.reviews_unsigned().filter(waiting_since__lt=cutoff)
               .select_related(*(f"enrolment__{name}" for name in related)).prefetch_related(signatures))
    for page in Paginator(reviews, 500):
        for review in page.object_list:
            add(review, review.enrolment, "reviews")
    return sorted(digests.values(), key=lambda digest: (str(digest.user), digest.user.pk))


def build_signature_message(digest: SignatureDigest, *, today: dt.date) -> EmailMultiAlternatives:
    """Return the signature reminder for ``digest`` (``templates/emails/signatures*.txt``)."""
    base_url = getattr(settings, "ACADEMY_BASE_URL", "").rstrip("/")
    context = {"user": digest.user, "plans": digest.plans, "reviews": digest.reviews, "today": today,
               "base_url": base_url, "count": len(digest.plans) + len(digest.reviews)}
    subject = " ".join(render_to_string("emails/signatures_subject.txt", context).split())
    return EmailMultiAlternatives(subject=subject, body=render_to_string("emails/signatures.txt", context),
                                  to=[digest.user.email])


def send_signature_reminders(*, today: dt.date | None = None) -> ReminderRun:
    """Email each person with a plan or review waiting for their signature more than 7 days, once a day at most.

    Same guarantees as ``send_reminders`` (a ``ReminderLog`` of kind ``"signatures"``).
    """
    today = today or timezone.localdate()
    run = ReminderRun(date=today)
    for digest in signature_digests(today=today):
        _send_once(run, user=digest.user, today=today, kind=SIGNATURES_KIND, detail={
            "plans": [plan.pk for plan in digest.plans], "reviews": [review.pk for review in digest.reviews],
        }, message=lambda digest=digest: build_signature_message(digest, today=today))
    return run
