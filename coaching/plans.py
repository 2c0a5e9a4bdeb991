"""Training plans: draft from the enrolment, change a draft in place, make a new version after a signature.

``save_plan`` is the one way a plan is written. Who may: a lead, or the coach of the
enrolment (``PermissionDenied`` otherwise). Refused (``ValidationError`` keyed by field,
each message naming the rule): a planned end before the minimum duration or planned
off-the-job hours below the minimum for the start year (``cohorts.funding_rules``), a
reduction for prior learning without the prior learning it is for, an enrolment that
has ended. A stale draft edit raises ``academy.concurrency.StaleEdit``.
"""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from academy.changes import records_changed
from academy.concurrency import StaleEdit, save_if_current
from cohorts.funding_rules import check_enrolment_plan, otj_minimum
from cohorts.models import Enrolment

from .canonical import PLAN_CONTENT_FIELDS
from .models import TrainingPlan

# The fields a person writes (``number`` and the standard's reference and title are set here).
EDITABLE_FIELDS = tuple(name for name in PLAN_CONTENT_FIELDS if name not in ("number", "standard_reference",
                                                                              "standard_title"))
ENDED = (Enrolment.Status.COMPLETED, Enrolment.Status.WITHDRAWN)


def may_change_plan(user, enrolment: Enrolment) -> bool:
    """Return whether ``user`` may draft or change ``enrolment``'s plan: a lead, or its coach."""
    if getattr(user, "is_lead", False):
        return True
    return bool(getattr(user, "is_coach", False) and enrolment.coach_id == user.pk)


def current_plan(enrolment: Enrolment) -> TrainingPlan | None:
    """Return the newest version of ``enrolment``'s plan, or ``None`` (one query)."""
    return TrainingPlan.objects.filter(enrolment=enrolment).order_by("-number").first()


def initial_values(enrolment: Enrolment, plan: TrainingPlan | None) -> dict:
    """Return the form's starting values: the current version's, else the enrolment's figures."""
    if plan is not None:
        return {name: getattr(plan, name) for name in EDITABLE_FIELDS}
    return {
        "start_date": enrolment.start_date,
        "planned_end_date": enrolment.planned_end_date,
        "planned_otj_hours": enrolment.planned_otj_hours,
        "prior_learning_reduction_hours": enrolment.prior_learning_reduction_hours,
    }


def _validate(enrolment: Enrolment, values: dict) -> None:
    errors: dict[str, list[str]] = {}
    if enrolment.status in ENDED:
        errors["__all__"] = [f"This apprenticeship is {enrolment.get_status_display().lower()}, so its training "
                             "plan cannot be changed."]
    start, end = values.get("start_date"), values.get("planned_end_date")
    if start and end and end <= start:
        errors.setdefault("planned_end_date", []).append("The planned end date must be after the start date.")
    elif start and end:
        standard = enrolment.cohort.standard
        for name, message in check_enrolment_plan(
            start_date=start, planned_end_date=end, planned_otj_hours=values.get("planned_otj_hours"),
            contracted_hours_per_week=enrolment.contracted_hours_per_week,
            standard_minimum_hours=standard.otj_minimum_hours,
            prior_learning_reduction_hours=values.get("prior_learning_reduction_hours") or Decimal(0),
        ).items():
            errors.setdefault(name, []).append(message)
    if values.get("planned_otj_hours") is not None and values["planned_otj_hours"] <= 0:
        errors.setdefault("planned_otj_hours", []).append("Planned off-the-job hours must be more than 0.")
    if (values.get("prior_learning_reduction_hours") or 0) > 0 and not (values.get("prior_learning") or "").strip():
        errors.setdefault("prior_learning", []).append(
            "Describe the prior learning the reduction in off-the-job hours is for.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_plan(*, enrolment: Enrolment, by, values: dict, expected_number: int | None = None,
              expected_version: int | None = None) -> tuple[TrainingPlan, bool]:
    """Write ``values`` (``EDITABLE_FIELDS``) as ``enrolment``'s plan; return (plan, new_version).

    No plan yet: version 1. The newest version not signed by anyone: changed in place
    (``expected_version`` is its ``version`` as the form read it). Signed by anyone: a new
    version (``number + 1``) that needs every signature again. Unchanged values write
    nothing and return the current version with ``new_version`` False.

    ``expected_number`` is the version number the form was based on (0: no plan yet);
    when another version was made since, ``StaleEdit`` carries the newest one.
    """
    if not may_change_plan(by, enrolment):
        raise PermissionDenied("Only a lead or the apprentice's coach can change the training plan.")
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected training plan fields: {', '.join(sorted(unknown))}")
    enrolment = Enrolment.objects.select_for_update().select_related("cohort__standard").get(pk=enrolment.pk)
    _validate(enrolment, values)
    plan = current_plan(enrolment)
    if expected_number is not None and expected_number != (plan.number if plan else 0):
        raise StaleEdit(plan)
    standard = enrolment.cohort.standard
    fixed = {"standard_reference": standard.reference, "standard_title": standard.title}
    if plan is not None and all(getattr(plan, name) == value for name, value in values.items()):
        return plan, False
    if plan is not None and not plan.signatures.exists():
        for name, value in (values | fixed).items():
            setattr(plan, name, value)
        saved = save_if_current(plan, expected_version=plan.version if expected_version is None else expected_version)
        records_changed()
        return saved, False
    number = 1 if plan is None else plan.number + 1
    created = TrainingPlan.objects.create(enrolment=enrolment, number=number, created_by=by, **fixed, **values)
    records_changed()
    return created, True


# Figures the plan and the enrolment (and so the ILR) both record; the plan page says where they differ.
SHARED_WITH_ENROLMENT = (
    ("start_date", "Start date"),
    ("planned_end_date", "Planned end date"),
    ("planned_otj_hours", "Planned off-the-job hours"),
    ("prior_learning_reduction_hours", "Off-the-job hours reduced for prior learning"),
)


def unchecked_minimum(plan: TrainingPlan, enrolment: Enrolment) -> str | None:
    """Return why the plan's off-the-job hours could not be checked against the minimum, or ``None``.

    ``cohorts.funding_rules.otj_minimum`` needs the enrolment's contracted hours a week for
    starts before 1 August 2025; without them there is no minimum to check against.
    """
    minimum = otj_minimum(
        start_date=plan.start_date, planned_end_date=plan.planned_end_date,
        contracted_hours_per_week=enrolment.contracted_hours_per_week,
        standard_minimum_hours=enrolment.cohort.standard.otj_minimum_hours,
        prior_learning_reduction_hours=plan.prior_learning_reduction_hours,
    )
    return minimum.text if minimum.value is None else None


def differences(plan: TrainingPlan, enrolment: Enrolment) -> list[tuple[str, object, object]]:
    """Return (label, the plan's value, the enrolment's value) for each shared figure that differs."""
    return [(label, getattr(plan, name), getattr(enrolment, name)) for name, label in SHARED_WITH_ENROLMENT
            if getattr(plan, name) != getattr(enrolment, name)]
