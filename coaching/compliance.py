"""What is unsigned: enrolments without a current training plan signed by all three, reviews missing signatures.

Both are querysets filtered in SQL, so pages and the reminder job page through them: a
signature counts when its hash equals the document's stored ``content_sha256``
(``coaching.signing``), and each document needs the three parties. Only enrolments not
yet ended (not completed or withdrawn) of learners not erased are listed. ``waiting_since``
is a date: when the newest plan version was made (without a plan, the enrolment's start or
when it was recorded, whichever is earlier), or when the review was recorded.
"""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, DateTimeField, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Least, TruncDate

from cohorts.models import Enrolment

from .models import ProgressReview, Signature, TrainingPlan
from .signing import PARTIES, Party

ENDED = (Enrolment.Status.COMPLETED, Enrolment.Status.WITHDRAWN)
# A review unsigned this long is a risk reason (coaching.risk); reminders go after REMIND_AFTER_DAYS.
REVIEW_UNSIGNED_RISK_DAYS = 14
REMIND_AFTER_DAYS = 7


def _signed_parties(**document):
    """A subquery: how many parties signed the outer document's current content (0 when none)."""
    (field, outer), = document.items()
    counted = (Signature.objects.filter(**{field: OuterRef(outer)})
               .filter(content_sha256=F(f"{field.removesuffix('_id')}__content_sha256"))
               .order_by().values(field).annotate(n=Count("party", distinct=True)).values("n")[:1])
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def open_enrolments():
    return Enrolment.objects.exclude(status__in=ENDED).filter(learner__anonymised_at__isnull=True)


def plans_unsigned():
    """Return open enrolments whose newest plan is missing a signature, or that have no plan.

    Each row has ``plan_id`` (``None`` without a plan), ``plan_number``, ``plan_signed``
    (parties signed, 0–3) and ``waiting_since`` (a date); oldest wait first.
    """
    newest = TrainingPlan.objects.filter(enrolment=OuterRef("pk")).order_by("-number")
    return (open_enrolments()
            .annotate(plan_id=Subquery(newest.values("pk")[:1]),
                      plan_number=Subquery(newest.values("number")[:1]),
                      plan_made=Subquery(newest.values("created_at")[:1], output_field=DateTimeField()))
            .annotate(plan_signed=_signed_parties(training_plan_id="plan_id"),
                      waiting_since=Coalesce(TruncDate("plan_made"), Least("start_date", TruncDate("created_at"))))
            .filter(Q(plan_id__isnull=True) | Q(plan_signed__lt=len(PARTIES)))
            .order_by("waiting_since", "id"))


def unsigned_reviews():
    """Return every review that expects signatures and lacks one of the three, with ``signed`` (0–3)."""
    return (ProgressReview.objects.filter(signatures_expected=True)
            .annotate(signed=_signed_parties(progress_review_id="pk")).filter(signed__lt=len(PARTIES)))


def reviews_unsigned():
    """Return reviews of open enrolments missing a signature, each with ``signed`` (0–3) and ``waiting_since``.

    Reviews recorded before Academy took signatures (``signatures_expected`` False) are left out.
    """
    return (unsigned_reviews().filter(enrolment__in=open_enrolments())
            .annotate(waiting_since=TruncDate("created_at")).order_by("waiting_since", "id"))


def days_waiting(since: dt.date, today: dt.date) -> int:
    return max((today - since).days, 0)


def _party_enrolments(user) -> tuple[str | None, object]:
    """Return (the party ``user`` signs for, the open enrolments they sign on); (None, none) for others."""
    from academy.rules import is_coach, is_learner, is_line_manager

    if is_learner(user):
        return Party.APPRENTICE, open_enrolments().filter(learner__user=user)
    if is_line_manager(user):
        return Party.EMPLOYER, open_enrolments().filter(learner__line_manager=user)
    if is_coach(user):
        return Party.PROVIDER, open_enrolments().filter(coach=user)
    return None, Enrolment.objects.none()


def waiting_for(user) -> tuple[list[TrainingPlan], list[ProgressReview]]:
    """Return (current plan versions, reviews) of open enrolments that wait for ``user``'s signature.

    Oldest first; each with ``enrolment__learner`` and ``enrolment__cohort`` loaded (two queries).
    """
    party, enrolments = _party_enrolments(user)
    if party is None:
        return [], []
    newest = TrainingPlan.objects.filter(enrolment=OuterRef("enrolment")).order_by("-number").values("number")[:1]
    plans = (TrainingPlan.objects.filter(enrolment__in=enrolments).annotate(newest=Subquery(newest))
             .filter(number=F("newest"))
             .exclude(Exists(Signature.objects.filter(training_plan=OuterRef("pk"), party=party,
                                                      content_sha256=OuterRef("content_sha256"))))
             .select_related("enrolment__learner", "enrolment__cohort").order_by("created_at", "id"))
    reviews = (ProgressReview.objects.filter(enrolment__in=enrolments, signatures_expected=True)
               .exclude(Exists(Signature.objects.filter(progress_review=OuterRef("pk"), party=party,
                                                        content_sha256=OuterRef("content_sha256"))))
               .select_related("enrolment__learner", "enrolment__cohort").order_by("created_at", "id"))
    return list(plans), list(reviews)
