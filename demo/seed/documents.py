"""The demo's training plans and signatures, in every state a user meets.

- Every review the demo made before this step is historical: signed on paper, before
  Academy took signatures (``signatures_expected`` False).
- The apprentice who signs in (learner@): version 1 of the plan signed by all three at the
  start; version 2, changed by the coach ten days before the demo's today, signed by the
  coach and waiting for the apprentice and the line manager (manager@); the latest review
  signed by the coach, waiting for the apprentice and the line manager; the one before
  signed by all three (with a comment from the line manager).
- Other enrolments in learning: three in four have a plan (version 1) signed by the coach,
  and by the line manager where they have an account; the rest have no plan yet.

Plan text is the demo's own wording (no rule or figure is stated in it); dates follow the
enrolments. Signatures are written directly with the times they would have had (no audit
events: nobody signed in). ``seed_documents`` returns counts.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from coaching.models import ProgressReview, Signature, TrainingPlan
from cohorts.models import Enrolment

from .today import DEMO_TODAY

Party = Signature.Party
DELIVERY = ("Day release every other Wednesday with the training provider (online workshops and tutor-led "
            "sessions); monthly one-to-one coaching; project work on the team's own data, planned with the "
            "line manager.")
ROLES = ("The apprentice attends the training, keeps their off-the-job log up to date and builds their portfolio. "
         "The employer (line manager) releases the time for off-the-job training, gives project work that fits "
         "the standard and takes part in progress reviews. The training provider teaches, coaches, reviews "
         "progress with both and prepares the apprentice for assessment.")
CONCERNS = ("Talk to your coach first. If it is not resolved, contact the academy's apprenticeship lead "
            "(lead@example.org), then the training provider's complaints procedure.")


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _plan(enrolment: Enrolment, *, number: int, made: dt.date, by, **changes) -> TrainingPlan:
    standard = enrolment.cohort.standard
    values = {
        "start_date": enrolment.start_date, "planned_end_date": enrolment.planned_end_date,
        "planned_otj_hours": enrolment.planned_otj_hours, "otj_delivery": DELIVERY, "english_maths": "achieved",
        "english_maths_detail": "Level 2 English and maths held (certificates seen at enrolment).",
        "roles_and_responsibilities": ROLES, "concerns": CONCERNS,
    } | changes
    plan = TrainingPlan.objects.create(enrolment=enrolment, number=number, standard_reference=standard.reference,
                                       standard_title=standard.title, created_by=by, **values)
    TrainingPlan.objects.filter(pk=plan.pk).update(created_at=_at(made, 9))
    return plan


def _sign(document, party: str, user, day: dt.date, comment: str = "") -> Signature:
    is_plan = isinstance(document, TrainingPlan)
    return Signature.objects.create(
        training_plan=document if is_plan else None, progress_review=None if is_plan else document,
        document_version=document.number if is_plan else document.version, party=party, signer=user,
        signer_name=user.get_full_name() or user.email, signed_at=_at(day, 11 + len(party) % 5),
        content_sha256=document.content_sha256, comment=comment,
    )


def _expect_signatures(review: ProgressReview) -> ProgressReview:
    ProgressReview.objects.filter(pk=review.pk).update(signatures_expected=True)
    review.signatures_expected = True
    return review


def seed_documents(*, enrolments, apprentice_email: str, today: dt.date = DEMO_TODAY) -> dict[str, int]:
    """Write the demo's plans and signatures for ``enrolments`` (see the module docstring); return counts."""
    ids = [e.pk for e in enrolments]
    ProgressReview.objects.filter(enrolment_id__in=ids).update(signatures_expected=False)
    rows = list(Enrolment.objects.filter(pk__in=ids).exclude(status__in=(Enrolment.Status.COMPLETED,
                                                                           Enrolment.Status.WITHDRAWN))
                .select_related("learner__user", "learner__line_manager", "coach", "cohort__standard")
                .order_by("learner__employee_number"))
    reviews: dict[int, list[ProgressReview]] = {}
    for review in ProgressReview.objects.filter(enrolment_id__in=[e.pk for e in rows]).order_by("date", "id"):
        reviews.setdefault(review.enrolment_id, []).append(review)
    plans = signatures = 0
    apprentice = next((e for e in rows if e.learner.user and e.learner.user.email == apprentice_email), None)
    manager = apprentice.learner.line_manager if apprentice else None
    for index, enrolment in enumerate(rows):
        coach = enrolment.coach
        start = enrolment.start_date
        if enrolment is apprentice:
            first = _plan(enrolment, number=1, made=start - dt.timedelta(days=14), by=coach)
            for party, user, days in ((Party.PROVIDER, coach, 12), (Party.APPRENTICE, enrolment.learner.user, 10),
                                      (Party.EMPLOYER, manager, 9)):
                _sign(first, party, user, start - dt.timedelta(days=days))
            second = _plan(enrolment, number=2, made=today - dt.timedelta(days=10), by=coach,
                           otj_delivery=DELIVERY + " From January 2027, two block weeks on dashboard design "
                                                   "replace four day-release sessions.")
            _sign(second, Party.PROVIDER, coach, today - dt.timedelta(days=9))
            plans, signatures = plans + 2, signatures + 4
            own = reviews.get(enrolment.pk, [])
            if own:
                latest = _expect_signatures(own[-1])
                _sign(latest, Party.PROVIDER, coach, latest.date + dt.timedelta(days=1))
                signatures += 1
            if len(own) > 1:
                earlier = _expect_signatures(own[-2])
                for party, user, days in ((Party.PROVIDER, coach, 1), (Party.APPRENTICE, enrolment.learner.user, 2),
                                          (Party.EMPLOYER, manager, 3)):
                    _sign(earlier, party, user, earlier.date + dt.timedelta(days=days),
                          comment="Agreed; the time for the SQL module is booked." if user == manager else "")
                signatures += 3
            continue
        if index % 4 == 3:
            continue  # no plan yet
        plan = _plan(enrolment, number=1, made=start - dt.timedelta(days=14), by=coach)
        _sign(plan, Party.PROVIDER, coach, start - dt.timedelta(days=12))
        plans, signatures = plans + 1, signatures + 1
        if enrolment.learner.line_manager is not None and index % 4 != 2:
            _sign(plan, Party.EMPLOYER, enrolment.learner.line_manager, start - dt.timedelta(days=8))
            signatures += 1
    return {"plans": plans, "signatures": signatures}
