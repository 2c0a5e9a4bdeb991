"""Off-the-job training the apprentice logs: submitted, then confirmed or returned by their coach.

The apprentice logs training with ``coaching.services.log_otj_activity`` (``by`` an
apprentice: status *submitted*). It counts as **logged** at once and as **confirmed** once
their coach (or a lead) confirms it (``confirm_training``); the coach may instead return it
with a reason (``return_training``), and it then counts as neither until the apprentice
changes it and sends it again (``resubmit_training``). Every step keeps the row's history
(who, when) and refuses a stale version (``academy.concurrency.StaleEdit``).

Errors: ``PermissionDenied`` when the user may not act on the training (not the
apprentice who logged it; not the enrolment's coach or a lead), ``ValidationError`` keyed
by field (``"return_reason"``, ``"date"``, ``"hours"`` …, ``"__all__"`` for the state).
"""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from academy.concurrency import save_if_current
from coaching.models import OffTheJobActivity
from coaching.services import _changed, _validate_activity

Status = OffTheJobActivity.Status
APPRENTICE_FIELDS = {"date", "category", "hours", "description", "learning", "link"}


def may_review(user, activity: OffTheJobActivity) -> bool:
    """Return whether ``user`` may confirm or return ``activity``: a lead, or the enrolment's coach."""
    return bool(getattr(user, "is_lead", False) or (
        getattr(user, "is_coach", False) and activity.enrolment.coach_id == user.pk))


def may_resubmit(user, activity: OffTheJobActivity) -> bool:
    """Return whether ``user`` may change and send ``activity`` again: the apprentice who logged it, before confirmation."""
    return bool(getattr(user, "is_learner", False) and activity.recorded_by_id == user.pk
                and activity.status in (Status.SUBMITTED, Status.RETURNED))


def _review(activity: OffTheJobActivity, *, by, expected_version: int, status: str, reason: str = "") -> OffTheJobActivity:
    if not may_review(by, activity):
        raise PermissionDenied("Only the apprentice's coach or an apprenticeship lead can confirm or return training.")
    if activity.status != Status.SUBMITTED:
        raise ValidationError({"__all__": [f"This training is already {activity.get_status_display().lower()}."]})
    activity.status, activity.return_reason = status, reason
    activity.reviewed_by, activity.reviewed_at = by, timezone.now()
    activity._history_user = by
    with transaction.atomic():
        saved = save_if_current(activity, expected_version=expected_version)
        _changed(saved)
    return saved


def confirm_training(*, activity: OffTheJobActivity, by, expected_version: int) -> OffTheJobActivity:
    """Confirm submitted training: it now counts as confirmed. See the module for errors."""
    return _review(activity, by=by, expected_version=expected_version, status=Status.CONFIRMED)


def return_training(*, activity: OffTheJobActivity, by, reason: str, expected_version: int) -> OffTheJobActivity:
    """Return submitted training to the apprentice with ``reason`` (required): it counts as neither logged nor confirmed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"return_reason": ["Say why you are returning this training, so the apprentice can put it right."]})
    return _review(activity, by=by, expected_version=expected_version, status=Status.RETURNED, reason=reason)


def resubmit_training(*, activity: OffTheJobActivity, by, expected_version: int, today: dt.date | None = None,
                      **changes) -> OffTheJobActivity:
    """Apply the apprentice's ``changes`` (fields of ``APPRENTICE_FIELDS``) and send the training again (submitted).

    Checked as ``log_otj_activity`` checks new training; the return reason stays in the history.
    """
    if not may_resubmit(by, activity):
        raise PermissionDenied("Only the apprentice who logged this training can change it, until it is confirmed.")
    unknown = set(changes) - APPRENTICE_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields for training: {', '.join(sorted(unknown))}")
    values = {name: getattr(activity, name) for name in APPRENTICE_FIELDS} | changes
    values.update(_validate_activity(activity.enrolment, values, today=today or timezone.localdate()))
    for name, value in values.items():
        setattr(activity, name, value)
    activity.status, activity.return_reason = Status.SUBMITTED, ""
    activity.reviewed_by = activity.reviewed_at = None
    activity._history_user = by
    with transaction.atomic():
        saved = save_if_current(activity, expected_version=expected_version)
        _changed(saved)
    return saved


def waiting_for(user):
    """Return the submitted training ``user`` may confirm (their learners' for a coach; all for a lead), oldest first."""
    waiting = OffTheJobActivity.objects.filter(status=Status.SUBMITTED).select_related(
        "enrolment__learner", "enrolment__cohort", "recorded_by").order_by("created_at", "id")
    if getattr(user, "is_lead", False):
        return waiting
    if getattr(user, "is_coach", False):
        return waiting.filter(enrolment__coach=user)
    return waiting.none()
