"""Privacy services: subject access, erasure (anonymisation) and retention of learner records.

UK GDPR rights these serve: the right of access (Art. 15: ``subject_access_data``), the
right to erasure (Art. 17: ``anonymise_learner``) and storage limitation (Art. 5(1)(e):
``apply_retention``, run nightly by ``privacy.tasks.apply_retention`` and by
``manage.py apply_retention``).

Anonymising keeps every enrolment, status, date, hour count and end-point assessment
result, so the dashboard's counts and rates are unchanged; it replaces or blanks every
field that identifies the person or describes them in free text, and deletes the
history rows (django-simple-history) that still hold the old values.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from django.db import models, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from academy.audit import Action, record
from academy.changes import records_changed
from academy.models import AuditEvent
from coaching.models import CoachingSession, OffTheJobActivity, ProgressReview, Signature, TrainingPlan
from cohorts.models import AssessmentResult, Enrolment, EnrolmentStatusChange
from learners.models import Learner
from outcomes.models import ImpactRecord

PLACEHOLDER_FIRST_NAME = "Anonymised"


# --- Subject access ----------------------------------------------------------------


def _json_value(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _row(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict:
    """Return every concrete field of ``obj`` as JSON-safe values; a foreign key as its text."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude:
            continue
        if field.is_relation:
            related = getattr(obj, field.name, None)
            data[field.name] = str(related) if related is not None else None
        else:
            value = field.value_from_object(obj)
            if getattr(field, "choices", None) and value not in (None, ""):
                value = getattr(obj, f"get_{field.name}_display", lambda v=value: v)()
            data[field.name] = _json_value(value)
    return data


def _history_rows(queryset) -> list[dict]:
    rows = []
    for entry in queryset.select_related("history_user").order_by("history_date", "history_id"):
        row = _row(entry, exclude=("history_change_reason",))
        row["history_type"] = {"+": "created", "~": "changed", "-": "deleted"}.get(entry.history_type, entry.history_type)
        rows.append(row)
    return rows


def subject_access_data(learner: Learner) -> dict:
    """Return everything Academy holds about ``learner`` as a JSON-safe dict.

    Keys: ``generated_at`` (ISO datetime), ``learner`` (every field, team as text),
    ``account`` (their sign-in user, if any, without the password hash), and lists of
    rows: ``enrolments``, ``status_changes``, ``coaching_sessions`` (with notes),
    ``progress_reviews``, ``otj_activities``, ``training_plans`` (every version),
    ``signatures`` (of those plans and reviews), ``assessment_results``,
    ``impact_records`` (business outcomes crediting them), ``history`` (every past
    version of those rows, from django-simple-history) and ``audit_events`` (who read,
    exported or changed their record). Dates are ISO 8601, amounts are decimal strings.
    """
    enrolments = Enrolment.objects.filter(learner=learner).select_related("cohort__standard", "coach")
    enrolment_ids = list(enrolments.values_list("pk", flat=True))
    sessions = CoachingSession.objects.filter(enrolment_id__in=enrolment_ids).select_related("coach", "enrolment__cohort")
    reviews = ProgressReview.objects.filter(enrolment_id__in=enrolment_ids).select_related("recorded_by", "enrolment__cohort")
    activities = OffTheJobActivity.objects.filter(enrolment_id__in=enrolment_ids).select_related("recorded_by", "enrolment__cohort")
    results = AssessmentResult.objects.filter(enrolment_id__in=enrolment_ids).select_related("enrolment__cohort")
    changes = EnrolmentStatusChange.objects.filter(enrolment_id__in=enrolment_ids).select_related("changed_by", "enrolment__cohort")
    impacts = ImpactRecord.objects.filter(learners=learner).select_related("team", "recorded_by")
    plans = TrainingPlan.objects.filter(enrolment_id__in=enrolment_ids).select_related("created_by", "enrolment__cohort")
    signatures = (Signature.objects.filter(Q(training_plan__enrolment_id__in=enrolment_ids)
                                           | Q(progress_review__enrolment_id__in=enrolment_ids))
                  .select_related("signer").order_by("signed_at", "id"))

    account = None
    if learner.user_id:
        account = _row(learner.user, exclude=("password",))
        account.pop("groups", None)

    history = []
    for label, model, ids in (
        ("learner", Learner, [learner.pk]),
        ("enrolment", Enrolment, enrolment_ids),
        ("coaching session", CoachingSession, list(sessions.values_list("pk", flat=True))),
        ("progress review", ProgressReview, list(reviews.values_list("pk", flat=True))),
        ("off-the-job activity", OffTheJobActivity, list(activities.values_list("pk", flat=True))),
        ("assessment result", AssessmentResult, list(results.values_list("pk", flat=True))),
    ):
        for row in _history_rows(model.history.filter(id__in=ids)):
            history.append({"record": label, **row})

    audit = AuditEvent.objects.filter(object_type=Learner._meta.label_lower, object_id=str(learner.pk)).select_related("user")

    return {
        "generated_at": timezone.now().isoformat(),
        "learner": _row(learner),
        "account": account,
        "enrolments": [_row(e) for e in enrolments],
        "status_changes": [_row(c) for c in changes],
        "coaching_sessions": [_row(s) for s in sessions],
        "progress_reviews": [_row(r) for r in reviews],
        "otj_activities": [_row(a) for a in activities],
        "training_plans": [_row(p) for p in plans],
        "signatures": [_row(s) for s in signatures],
        "assessment_results": [_row(r) for r in results],
        "impact_records": [_row(i) for i in impacts],
        "history": history,
        "audit_events": [_row(a) for a in audit.order_by("at", "id")],
    }


# --- Erasure -----------------------------------------------------------------------


def placeholders_for(learner_id: int) -> dict:
    """Return the non-identifying values an anonymised learner's fields take.

    Unique per learner (the email and employee number columns are unique): e.g. for id
    123, name "Anonymised learner 123", email ``anonymised-123@invalid`` (the
    ``.invalid`` top-level domain never resolves, RFC 2606), employee number ANON-123.
    """
    return {
        "first_name": PLACEHOLDER_FIRST_NAME,
        "last_name": f"learner {learner_id}",
        "work_email": f"anonymised-{learner_id}@invalid",
        "employee_number": f"ANON-{learner_id}",
        "uln": "",
        "line_manager_name": "",
        "line_manager_email": "",
    }


@transaction.atomic
def anonymise_learner(*, learner: Learner, by=None, reason: str = "erasure") -> Learner:
    """Erase ``learner``'s personal data, keeping their records countable; return the learner.

    Replaces the name, work email, employee number, ULN and line manager with
    ``placeholders_for(learner.pk)``; unlinks their sign-in user; blanks free text that
    describes them (coaching session topics and notes, progress review notes and agreed
    actions, off-the-job descriptions, what they learned, links and return reasons, training
    plans' prior learning and English and maths detail, signature comments, and their
    name on their own signatures; status change reasons); deletes every history row
    of the learner and of those sessions, reviews and activities (they hold the old
    values); sets ``anonymised_at``; records an ``erasure`` (or ``retention``) audit event.

    Enrolments (dates, status, hours, withdrawal reason code), session dates, durations
    and hours, and EPA results are kept, so aggregate metrics are unchanged.
    ``by`` is the user who asked (``None`` for the retention job). Idempotent: a learner
    already anonymised is returned unchanged and nothing is recorded.
    Writes with ``QuerySet.update`` so no new history rows are created.
    """
    learner = Learner.objects.select_for_update().get(pk=learner.pk)
    if learner.anonymised_at is not None:
        return learner
    now = timezone.now()
    enrolment_ids = list(Enrolment.objects.filter(learner=learner).values_list("pk", flat=True))
    session_ids = list(CoachingSession.objects.filter(enrolment_id__in=enrolment_ids).values_list("pk", flat=True))
    review_ids = list(ProgressReview.objects.filter(enrolment_id__in=enrolment_ids).values_list("pk", flat=True))
    activity_ids = list(OffTheJobActivity.objects.filter(enrolment_id__in=enrolment_ids).values_list("pk", flat=True))

    Learner.objects.filter(pk=learner.pk).update(
        **placeholders_for(learner.pk), user=None, anonymised_at=now, version=models.F("version") + 1, updated_at=now
    )
    CoachingSession.objects.filter(pk__in=session_ids).update(topics="", notes="", version=models.F("version") + 1)
    ProgressReview.objects.filter(pk__in=review_ids).update(notes="", agreed_actions="", version=models.F("version") + 1)
    OffTheJobActivity.objects.filter(pk__in=activity_ids).update(description="", learning="", link="", return_reason="")
    # Training plans keep their dates and hours; text that describes the learner goes, and
    # signatures keep party and time but not the apprentice's name or anyone's comment.
    TrainingPlan.objects.filter(enrolment_id__in=enrolment_ids).update(prior_learning="", english_maths_detail="")
    signed = Signature.objects.filter(Q(training_plan__enrolment_id__in=enrolment_ids)
                                      | Q(progress_review__enrolment_id__in=enrolment_ids))
    Signature.objects.filter(pk__in=signed.filter(party=Signature.Party.APPRENTICE).values("pk")).update(
        signer_name=f"{PLACEHOLDER_FIRST_NAME} learner {learner.pk}", signer=None)
    Signature.objects.filter(pk__in=signed.values("pk")).update(comment="")
    EnrolmentStatusChange.objects.filter(enrolment_id__in=enrolment_ids).update(reason="")

    Learner.history.filter(id=learner.pk).delete()
    CoachingSession.history.filter(id__in=session_ids).delete()
    ProgressReview.history.filter(id__in=review_ids).delete()
    OffTheJobActivity.history.filter(id__in=activity_ids).delete()

    action = Action.RETENTION if reason == "retention" else Action.ERASURE
    record(
        user=by,
        action=action,
        obj=learner,
        detail={
            "enrolments_kept": len(enrolment_ids),
            "coaching_sessions_kept": len(session_ids),
            "progress_reviews_kept": len(review_ids),
            "otj_activities_kept": len(activity_ids),
        },
    )
    records_changed()  # no cached page may keep the learner's name
    learner.refresh_from_db()
    return learner


# --- Retention ---------------------------------------------------------------------


class RetentionCandidate(NamedTuple):
    """A learner due for anonymisation: ``learner_id`` and the date their last enrolment ended."""

    learner_id: int
    last_end_date: dt.date


def retention_cutoff(*, years: int, today: dt.date) -> dt.date:
    """Return the date ``years`` years before ``today`` (29 February falls back to 28 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def retention_candidates(*, years: int, today: dt.date) -> list[RetentionCandidate]:
    """Return the learners whose last enrolment ended on or before ``years`` years before ``today``.

    A learner qualifies only when every enrolment has an actual end date (no enrolment
    is still open) and the latest is on or before the cut-off; learners already
    anonymised, and learners with no enrolment, are left out. Ordered by learner id.
    """
    cutoff = retention_cutoff(years=years, today=today)
    rows = (
        Learner.objects.filter(anonymised_at__isnull=True)
        .annotate(
            enrolment_count=Count("enrolments"),
            open_count=Count("enrolments", filter=Q(enrolments__actual_end_date__isnull=True)),
            last_end=Max("enrolments__actual_end_date"),
        )
        .filter(enrolment_count__gt=0, open_count=0, last_end__lte=cutoff)
        .order_by("pk")
        .values_list("pk", "last_end")
    )
    return [RetentionCandidate(pk, last_end) for pk, last_end in rows]


def apply_retention(*, years: int, today: dt.date, dry_run: bool) -> list[RetentionCandidate]:
    """Anonymise every learner ``retention_candidates`` returns; return that list.

    With ``dry_run`` nothing changes (no audit event either): the list says who would be
    anonymised. Otherwise each is anonymised with ``anonymise_learner`` (one transaction
    each, audited as ``retention``), and one ``retention`` event records the run.
    """
    candidates = retention_candidates(years=years, today=today)
    if dry_run:
        return candidates
    for candidate in candidates:
        anonymise_learner(learner=Learner(pk=candidate.learner_id), by=None, reason="retention")
    record(action=Action.RETENTION, detail={"years": years, "today": today.isoformat(), "anonymised": len(candidates)})
    return candidates
