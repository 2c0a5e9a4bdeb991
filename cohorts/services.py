"""Enrolment workflows: enrol a learner and move an enrolment through its status lifecycle.

The lifecycle (docs/rules.md, "Enrolment lifecycle"):

    active → (break_in_learning ↔ active) → gateway → end_point_assessment → completed
    any status before completed → withdrawn (with an ILR WithdrawReason)

Every function here is keyword-only, runs in one ``transaction.atomic`` block, locks the
enrolment row with ``select_for_update`` (a no-op lock on SQLite, whose writes are
serialised anyway), checks the transition, saves with ``save()`` (so simple-history records it; never
``QuerySet.update``), raises the enrolment's ``version`` (so an edit form read before the
change is refused as stale), writes one ``EnrolmentStatusChange`` row (who, when, from,
to and why) and says the cohort changed (``academy.changes.cohorts_changed``: its metrics
are recomputed after the commit).

A refused change raises ``TransitionError`` with a message for the user; ``field`` names
the form field it is about (or ``None`` for the whole change).

Rules decided here (and why):

- Dates: an effective date cannot be in the future (a status says what is true today),
  before the enrolment's start, or before the latest recorded change (the history stays
  in date order).
- A break in learning starts only from ``active``; after gateway it is refused
  (docs/rules.md, "End-point assessment"). On return the planned end date moves by the
  length of the break in days (docs/rules.md, "Progress reviews, duration, breaks"; ESFA
  funding rules: the planned end date is re-planned by the length of the break).
- Gateway only from ``active`` (return from a break first); end-point assessment only
  from ``gateway``.
- An EPA result only while in ``end_point_assessment``; attempts go 1, 2, 3… with no
  gaps; none after a passing attempt; its date neither in the future nor before the
  start or the previous attempt (cohorts.models.AssessmentResult docstring; docs/rules.md).
- Completion needs a result: the latest attempt passed (achieved, ILR Outcome 1), or it
  failed and no resit will be taken (a "final fail", ILR Outcome 3). The actual end date
  is the end of learning (ILR LearnActEndDate), which is the gateway date unless given.
- Withdrawal from any status except completed/withdrawn, with a reason from
  ``Enrolment.WithdrawalReason`` (ILR WithdrawReason), and never once a result is
  recorded (a database trigger enforces the same; outcomes migration 0002).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from academy.changes import cohorts_changed
from academy.dates import add_months, uk_date

from .models import AssessmentResult, Cohort, Enrolment, EnrolmentStatusChange

Status = Enrolment.Status

# Breaks shorter than this are leave or absence, not a break in learning (ESFA funding rules).
SHORT_BREAK_DAYS = 28


class TransitionError(Exception):
    """A status change or enrolment that the rules refuse; ``str(error)`` is the message for the user.

    ``field`` is the form field the message is about (e.g. ``"on"``), or ``None``.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- Helpers ------------------------------------------------------------------------


def suggested_planned_end(*, standard, start_date: dt.date) -> dt.date | None:
    """Return ``start_date`` plus the standard's typical duration (months), or ``None`` when unknown."""
    if not standard.typical_duration_months:
        return None
    return add_months(start_date, standard.typical_duration_months)


def _today() -> dt.date:
    return timezone.localdate()


def _lock(enrolment: Enrolment, expected_version: int | None) -> Enrolment:
    # of=("self",): lock the enrolment row only, not its cohort (PostgreSQL would lock joined rows too).
    locked = Enrolment.objects.select_for_update(of=("self",)).select_related("cohort").get(pk=enrolment.pk)
    if expected_version is not None and locked.version != expected_version:
        raise TransitionError(
            "Someone else changed this enrolment while you were on this page. Check its status below and try again."
        )
    return locked


def _last_change(enrolment: Enrolment) -> EnrolmentStatusChange | None:
    return enrolment.status_changes.order_by("-effective_date", "-changed_at", "-id").first()


def _check_date(enrolment: Enrolment, on: dt.date | None, *, field: str = "on", label: str = "The date") -> None:
    """Refuse a missing, future, pre-start or out-of-order effective date (messages name ``field``)."""
    if on is None:
        raise TransitionError(f"Enter {label.lower()}.", field=field)
    if on > _today():
        raise TransitionError(f"{label} cannot be in the future.", field=field)
    if on < enrolment.start_date:
        raise TransitionError(
            f"{label} cannot be before the enrolment started on {uk_date(enrolment.start_date)}.", field=field
        )
    last = _last_change(enrolment)
    if last is not None and on < last.effective_date:
        raise TransitionError(
            f"{label} cannot be before the last recorded change ({last.get_to_status_display().lower()} "
            f"on {uk_date(last.effective_date)}).",
            field=field,
        )


def _change(
    enrolment: Enrolment, *, to: str, on: dt.date, reason: str, by, update_fields: set[str]
) -> EnrolmentStatusChange:
    """Save ``enrolment`` (its status set to ``to``) with a raised version and record the change."""
    from_status = enrolment.status
    enrolment.status = to
    enrolment.version += 1
    enrolment.save(update_fields={*update_fields, "status", "version", "updated_at"})
    cohorts_changed(enrolment.cohort_id)
    return EnrolmentStatusChange.objects.create(
        enrolment=enrolment,
        from_status=from_status,
        to_status=to,
        effective_date=on,
        reason=reason.strip(),
        changed_by=by,
    )


# --- Checks for the page: which actions may be offered ------------------------------

ACTIONS = ("start_break", "end_break", "move_to_gateway", "start_epa", "record_result", "complete", "withdraw")


def refusal(enrolment: Enrolment, action: str, *, results: list | None = None) -> str | None:
    """Return why ``action`` cannot be taken on ``enrolment`` now, or ``None`` when it can.

    ``action`` is one of ``ACTIONS``. ``results`` (the enrolment's results, by attempt)
    may be passed to save a query. Dates are checked only when the action is taken.
    """
    status = enrolment.status
    now = enrolment.get_status_display().lower()
    if action == "start_break":
        if status in (Status.GATEWAY, Status.END_POINT_ASSESSMENT, Status.COMPLETED):
            return "A break in learning cannot be recorded after gateway."
        if status == Status.BREAK_IN_LEARNING:
            return "This enrolment is already on a break in learning."
        if status == Status.WITHDRAWN:
            return "This enrolment is withdrawn."
        return None
    if action == "end_break":
        return None if status == Status.BREAK_IN_LEARNING else "This enrolment is not on a break in learning."
    if action == "move_to_gateway":
        if status == Status.BREAK_IN_LEARNING:
            return "Record the return from the break in learning before gateway."
        if status != Status.ACTIVE:
            return f"Only an enrolment in learning can move to gateway; this one is {now}."
        return None
    if action == "start_epa":
        if status != Status.GATEWAY:
            return f"Only an enrolment at gateway can move to end-point assessment; this one is {now}."
        return None
    if results is None and action in ("record_result", "complete", "withdraw"):
        results = list(enrolment.assessment_results.order_by("attempt"))
    if action == "record_result":
        if status != Status.END_POINT_ASSESSMENT:
            return f"A result can be recorded only during end-point assessment; this enrolment is {now}."
        if results and results[-1].grade in AssessmentResult.PASSING_GRADES:
            return f"This enrolment already passed at attempt {results[-1].attempt}."
        return None
    if action == "complete":
        if status != Status.END_POINT_ASSESSMENT:
            return f"Only an enrolment in end-point assessment can be completed; this one is {now}."
        if not results:
            return "Record the end-point assessment result before completing."
        return None
    if action == "withdraw":
        if status in (Status.COMPLETED, Status.WITHDRAWN):
            return f"This enrolment is already {enrolment.get_status_display().lower()}."
        if results:
            return "This enrolment has an end-point assessment result, so it cannot be withdrawn."
        return None
    raise ValueError(f"unknown action {action!r}")


def _refuse_unless_allowed(enrolment: Enrolment, action: str) -> None:
    reason = refusal(enrolment, action)
    if reason:
        raise TransitionError(reason)


# --- Enrolling ------------------------------------------------------------------------


def enrol_learner(
    *,
    learner,
    cohort: Cohort,
    by,
    planned_otj_hours: Decimal,
    start_date: dt.date,
    coach=None,
    planned_end_date: dt.date | None = None,
    contracted_hours_per_week: Decimal | None = None,
    prior_learning_reduction_hours: Decimal = Decimal(0),
) -> Enrolment:
    """Enrol ``learner`` on ``cohort`` as ``active`` and record the change; return the enrolment.

    ``start_date`` is required (the form defaults a blank one to today, never the
    cohort's start); ``planned_end_date`` defaults to the start plus
    the standard's typical duration in months. Hours are decimal hours. Raises
    ``TransitionError`` (with ``field``) for a duplicate enrolment (``cohort``), a planned
    end not after the start or unknown (``planned_end_date``), or a user who is not a
    coach (``coach``).
    """
    if planned_end_date is None:
        planned_end_date = suggested_planned_end(standard=cohort.standard, start_date=start_date)
        if planned_end_date is None:
            raise TransitionError(
                "Enter the planned end date: the standard has no typical duration to suggest one.",
                field="planned_end_date",
            )
    if planned_end_date <= start_date:
        raise TransitionError("The planned end date must be after the start date.", field="planned_end_date")
    if coach is not None and not coach.is_coach:
        raise TransitionError("Choose a user whose role is coach.", field="coach")
    duplicate = TransitionError(f"{learner} is already enrolled on {cohort}.", field="cohort")
    try:
        with transaction.atomic():
            if Enrolment.objects.select_for_update().filter(learner=learner, cohort=cohort).exists():
                raise duplicate
            enrolment = Enrolment.objects.create(
                learner=learner,
                cohort=cohort,
                coach=coach,
                start_date=start_date,
                planned_end_date=planned_end_date,
                planned_otj_hours=planned_otj_hours,
                contracted_hours_per_week=contracted_hours_per_week,
                prior_learning_reduction_hours=prior_learning_reduction_hours or Decimal(0),
                status=Status.ACTIVE,
            )
            EnrolmentStatusChange.objects.create(
                enrolment=enrolment,
                from_status="",
                to_status=Status.ACTIVE,
                effective_date=start_date,
                reason=f"Enrolled on {cohort.name}.",
                changed_by=by,
            )
            cohorts_changed(cohort.pk)
    except IntegrityError:  # another user enrolled the same learner at the same moment
        raise duplicate from None
    return enrolment


# --- Transitions ---------------------------------------------------------------------


def start_break(
    *, enrolment: Enrolment, on: dt.date, reason: str, by, expected_version: int | None = None
) -> Enrolment:
    """Start a break in learning on ``on`` (active → break_in_learning); return the enrolment.

    ``reason`` is required (a break is agreed with the employer and the apprentice
    intends to return: ESFA funding rules). Refused after gateway (docs/rules.md).
    """
    with transaction.atomic():
        enrolment = _lock(enrolment, expected_version)
        _refuse_unless_allowed(enrolment, "start_break")
        if not (reason or "").strip():
            raise TransitionError("Enter the reason for the break in learning.", field="reason")
        _check_date(enrolment, on, label="The date the break started")
        _change(enrolment, to=Status.BREAK_IN_LEARNING, on=on, reason=reason, by=by, update_fields=set())
    return enrolment


def break_started_on(enrolment: Enrolment) -> dt.date | None:
    """Return the effective date of the enrolment's latest move into a break in learning, or ``None``."""
    change = (
        enrolment.status_changes.filter(to_status=Status.BREAK_IN_LEARNING)
        .order_by("-effective_date", "-changed_at", "-id")
        .first()
    )
    return change.effective_date if change else None


def end_break(
    *, enrolment: Enrolment, on: dt.date, by, reason: str = "", expected_version: int | None = None
) -> Enrolment:
    """Return from a break in learning on ``on`` (break_in_learning → active); return the enrolment.

    The planned end date moves later by the length of the break, ``on`` minus the date
    the break started, in days (docs/rules.md; ESFA funding rules on breaks in learning): a
    break from 1 March to 31 May (91 days) moves a planned end of 1 January 2027 to
    2 April 2027. The return date must be after the break started.
    """
    with transaction.atomic():
        enrolment = _lock(enrolment, expected_version)
        _refuse_unless_allowed(enrolment, "end_break")
        started = break_started_on(enrolment)
        if on is None:
            raise TransitionError("Enter the date the learner returned.", field="on")
        if started is not None and on <= started:
            raise TransitionError(
                f"The return date must be after the break started on {uk_date(started)}.", field="on"
            )
        _check_date(enrolment, on, label="The return date")
        length = on - (started or on)
        old_end = enrolment.planned_end_date
        enrolment.planned_end_date = old_end + length
        note = (
            f"Returned after a break of {length.days} day{'s' if length.days != 1 else ''}; "
            f"planned end date moved from {uk_date(old_end)} to {uk_date(enrolment.planned_end_date)}."
        )
        if reason.strip():
            note = f"{reason.strip()} {note}"
        _change(enrolment, to=Status.ACTIVE, on=on, reason=note, by=by, update_fields={"planned_end_date"})
        enrolment.break_length_days = length.days
    return enrolment


def _move(
    enrolment: Enrolment, action: str, *, to: str, on: dt.date, by, reason: str, label: str, expected_version
) -> Enrolment:
    """Take ``action`` (a status change with only a date and a note) if allowed; return the enrolment.

    ``label`` names the date in refusals ("The gateway date cannot be in the future.").
    """
    with transaction.atomic():
        enrolment = _lock(enrolment, expected_version)
        _refuse_unless_allowed(enrolment, action)
        _check_date(enrolment, on, label=label)
        _change(enrolment, to=to, on=on, reason=reason, by=by, update_fields=set())
    return enrolment


def move_to_gateway(
    *, enrolment: Enrolment, on: dt.date, by, reason: str = "", expected_version: int | None = None
) -> Enrolment:
    """Move an enrolment in learning to gateway on ``on`` (active → gateway); return it."""
    return _move(
        enrolment, "move_to_gateway", to=Status.GATEWAY, on=on, by=by, expected_version=expected_version,
        label="The gateway date", reason=reason or "Gateway agreed by employer and provider.",
    )


def start_epa(
    *, enrolment: Enrolment, on: dt.date, by, reason: str = "", expected_version: int | None = None
) -> Enrolment:
    """Move an enrolment at gateway to end-point assessment on ``on`` (gateway → end_point_assessment)."""
    return _move(
        enrolment, "start_epa", to=Status.END_POINT_ASSESSMENT, on=on, by=by, expected_version=expected_version,
        label="The end-point assessment start date",
        reason=reason or "End-point assessment booked with the assessment organisation.",
    )


def record_result(
    *,
    enrolment: Enrolment,
    grade: str,
    on: dt.date,
    by,
    attempt: int | None = None,
    expected_version: int | None = None,
) -> AssessmentResult:
    """Record the grade of an EPA attempt taken on ``on``; return the new ``AssessmentResult``.

    ``grade`` is an ``AssessmentResult.Grade`` value; ``attempt`` defaults to the next one
    and, if given, must be it (attempts go up from 1 with no gaps). The status stays
    ``end_point_assessment``; the change record (from and to the same status) says
    which grade was recorded, by whom. Raises ``TransitionError`` with ``field`` set to
    ``grade``, ``on`` or ``attempt``.
    """
    if grade not in AssessmentResult.Grade.values:
        raise TransitionError("Choose the grade.", field="grade")
    with transaction.atomic():
        enrolment = _lock(enrolment, expected_version)
        results = list(enrolment.assessment_results.order_by("attempt"))
        reason = refusal(enrolment, "record_result", results=results)
        if reason:
            raise TransitionError(reason)
        next_attempt = (results[-1].attempt + 1) if results else 1
        if attempt is not None and attempt != next_attempt:
            raise TransitionError(
                f"The next attempt is attempt {next_attempt}: attempts go up from 1 with no gaps.", field="attempt"
            )
        if on is None:
            raise TransitionError("Enter the date of the assessment.", field="on")
        if on > _today():
            raise TransitionError("The assessment date cannot be in the future.", field="on")
        if on < enrolment.start_date:
            raise TransitionError("The assessment date cannot be before the enrolment started.", field="on")
        if results and on < results[-1].date:
            raise TransitionError(
                f"The assessment date cannot be before attempt {results[-1].attempt} on {uk_date(results[-1].date)}.",
                field="on",
            )
        result = AssessmentResult.objects.create(enrolment=enrolment, grade=grade, date=on, attempt=next_attempt)
        _change(
            enrolment,
            to=Status.END_POINT_ASSESSMENT,
            on=on,
            reason=f"Result recorded: {result.get_grade_display()} at attempt {next_attempt}.",
            by=by,
            update_fields=set(),
        )
    return result


def complete(
    *,
    enrolment: Enrolment,
    on: dt.date,
    by,
    actual_end_date: dt.date | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Enrolment:
    """Complete an enrolment in end-point assessment on ``on``; return it.

    Needs at least one result: the latest passed (achieved) or failed with no resit to
    come (a final fail). ``actual_end_date`` is the end of learning (ILR LearnActEndDate):
    by default the gateway date; it cannot be after ``on`` or before the start.
    """
    with transaction.atomic():
        enrolment = _lock(enrolment, expected_version)
        results = list(enrolment.assessment_results.order_by("attempt"))
        message = refusal(enrolment, "complete", results=results)
        if message:
            raise TransitionError(message)
        _check_date(enrolment, on, label="The completion date")
        if on < results[-1].date:
            raise TransitionError(
                f"The completion date cannot be before the last result on {uk_date(results[-1].date)}.", field="on"
            )
        if actual_end_date is None:
            gateway = (
                enrolment.status_changes.filter(to_status=Status.GATEWAY).order_by("-effective_date", "-id").first()
            )
            actual_end_date = gateway.effective_date if gateway else on
        if actual_end_date < enrolment.start_date:
            raise TransitionError(
                "The end of learning cannot be before the enrolment started.", field="actual_end_date"
            )
        if actual_end_date > on:
            raise TransitionError("The end of learning cannot be after the completion date.", field="actual_end_date")
        latest = results[-1]
        outcome = (
            f"Achieved: {latest.get_grade_display()} at attempt {latest.attempt}."
            if latest.grade in AssessmentResult.PASSING_GRADES
            else f"Not achieved: final fail at attempt {latest.attempt}, no resit."
        )
        enrolment.actual_end_date = actual_end_date
        _change(
            enrolment,
            to=Status.COMPLETED,
            on=on,
            reason=f"{outcome} {reason}".strip(),
            by=by,
            update_fields={"actual_end_date"},
        )
    return enrolment


def withdraw(
    *,
    enrolment: Enrolment,
    on: dt.date,
    reason: str,
    by,
    note: str = "",
    expected_version: int | None = None,
) -> Enrolment:
    """Withdraw an enrolment on ``on`` (its actual end date) for ``reason``; return it.

    ``reason`` is an ``Enrolment.WithdrawalReason`` value (ILR WithdrawReason code);
    ``note`` is optional free text kept with the change. Refused once completed or
    withdrawn, and once an EPA result exists (outcomes migration 0002 trigger).
    """
    with transaction.atomic():
        enrolment = _lock(enrolment, expected_version)
        _refuse_unless_allowed(enrolment, "withdraw")
        if reason not in Enrolment.WithdrawalReason.values:
            raise TransitionError("Choose the reason for the withdrawal from the list.", field="reason")
        _check_date(enrolment, on, label="The withdrawal date")
        enrolment.withdrawal_reason = reason
        enrolment.actual_end_date = on
        label = Enrolment.WithdrawalReason(reason).label
        _change(
            enrolment,
            to=Status.WITHDRAWN,
            on=on,
            reason=f"{label}. {note}".strip(),
            by=by,
            update_fields={"withdrawal_reason", "actual_end_date"},
        )
    return enrolment
