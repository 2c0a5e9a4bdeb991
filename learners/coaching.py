"""Coaching services: log, edit and delete sessions; record progress reviews; log other off-the-job training.

Views, tasks and commands call these keyword-only functions; they check the input,
write through the ORM and record who did it in the row's history
(django-simple-history). Permission to reach the enrolment is the caller's job
(``academy.rules``); the 14-day edit rule is checked here as well, so no caller can
skip it.

Every refusal raises ``django.core.exceptions.ValidationError`` with a dict keyed by
the form field it concerns (``"date"``, ``"duration_minutes"``, ``"otj_hours"`` …;
``"__all__"`` for the enrolment itself) and a message naming that field.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from academy.concurrency import save_if_current
from cohorts.models import Enrolment
from learners.funding_rules import uk_date
from learners.models import CoachingSession, OffTheJobActivity, ProgressReview

# A coach may edit or delete a session they logged for 14 days after logging it; then only a lead.
EDIT_WINDOW = dt.timedelta(days=14)
MAX_SESSION_MINUTES = 8 * 60


def within_edit_window(session: CoachingSession, *, now: dt.datetime | None = None) -> bool:
    """Return whether ``session`` was logged no more than 14 days before ``now`` (exactly 14 days is inside)."""
    now = now or timezone.now()
    return now - session.created_at <= EDIT_WINDOW


def can_change_session(user, session: CoachingSession, *, now: dt.datetime | None = None) -> bool:
    """Return whether ``user`` may edit or delete ``session``: a lead always; its coach for 14 days after logging.

    The coach must also still coach the enrolment (otherwise the session is not theirs
    to see at all).
    """
    if getattr(user, "is_lead", False):
        return True
    return (
        getattr(user, "is_coach", False)
        and session.coach_id == user.pk
        and session.enrolment.coach_id == user.pk
        and within_edit_window(session, now=now)
    )


def _check_enrolment_open(enrolment: Enrolment, errors: dict, what: str) -> None:
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        errors.setdefault("__all__", []).append(
            f"This enrolment is withdrawn, so {what} cannot be recorded against it."
        )


def _check_date(day, enrolment: Enrolment, errors: dict, *, field: str = "date", label: str = "Date") -> None:
    if day is None:
        errors.setdefault(field, []).append(f"Enter the {label.lower()}.")
    elif day < enrolment.start_date:
        errors.setdefault(field, []).append(
            f"{label} cannot be before the enrolment start date, {uk_date(enrolment.start_date)}."
        )


def _check_happened(day, enrolment: Enrolment, errors: dict, *, today: dt.date, what: str, verb: str) -> None:
    """Check a record of something that has happened: an open enrolment, a date from its start to ``today``."""
    _check_enrolment_open(enrolment, errors, what)
    _check_date(day, enrolment, errors)
    if day and day > today:
        errors.setdefault("date", []).append(f"Date cannot be in the future: {verb} once it has happened.")


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def validate_session(
    *,
    enrolment: Enrolment,
    date: dt.date | None,
    duration_minutes: int | None,
    attendance: str,
    otj_hours: Decimal | None,
    next_session_date: dt.date | None,
    today: dt.date,
) -> Decimal:
    """Check a session's fields; return the off-the-job hours to store, or raise ``ValidationError``.

    Off-the-job hours default to the duration (in hours) for an attended session and
    are 0 otherwise. Refused: a withdrawn enrolment; a date before the enrolment start;
    an attended session dated after ``today``; a duration of 0 or over 8 hours; off-the-job
    hours above the duration, negative, or on a session not attended; a next session
    date not after the session date.
    """
    errors: dict[str, list[str]] = {}
    _check_enrolment_open(enrolment, errors, "a coaching session")
    _check_date(date, enrolment, errors)
    if date and date > today and attendance == CoachingSession.Attendance.ATTENDED:
        errors.setdefault("date", []).append(
            "Date is in the future, so the session cannot be marked attended yet."
        )
    if attendance not in CoachingSession.Attendance.values:
        errors.setdefault("attendance", []).append("Choose the attendance.")
    if duration_minutes is None:
        errors.setdefault("duration_minutes", []).append("Enter the duration in minutes.")
    elif duration_minutes <= 0:
        errors.setdefault("duration_minutes", []).append("Duration must be more than 0 minutes.")
    elif duration_minutes > MAX_SESSION_MINUTES:
        errors.setdefault("duration_minutes", []).append("Duration must be 8 hours (480 minutes) or less.")
    attended = attendance == CoachingSession.Attendance.ATTENDED
    duration_hours = (Decimal(duration_minutes or 0) / 60).quantize(Decimal("0.01"))
    if otj_hours is None:
        otj_hours = duration_hours if attended else Decimal(0)
    otj_hours = Decimal(otj_hours).quantize(Decimal("0.01"))
    if otj_hours < 0:
        errors.setdefault("otj_hours", []).append("Off-the-job hours cannot be negative.")
    elif otj_hours > 0 and not attended:
        errors.setdefault("otj_hours", []).append(
            "Off-the-job hours can only be logged for an attended session: enter 0."
        )
    elif "duration_minutes" not in errors and otj_hours > duration_hours:
        errors.setdefault("otj_hours", []).append(
            f"Off-the-job hours cannot be more than the duration ({duration_hours} hours)."
        )
    if next_session_date and date and next_session_date <= date:
        errors.setdefault("next_session_date", []).append("Next session date must be after the session date.")
    _raise(errors)
    return otj_hours


def log_session(
    *,
    enrolment: Enrolment,
    by,
    date: dt.date,
    duration_minutes: int,
    mode: str = CoachingSession.Mode.VIDEO,
    attendance: str = CoachingSession.Attendance.ATTENDED,
    otj_hours: Decimal | None = None,
    topics: str = "",
    notes: str = "",
    next_session_date: dt.date | None = None,
    today: dt.date | None = None,
) -> CoachingSession:
    """Create and return a coaching session on ``enrolment`` logged by ``by`` (its coach, or a lead).

    ``duration_minutes`` in minutes; ``otj_hours`` in hours (``None``: the duration if
    attended, else 0). The session's ``coach`` is the enrolment's coach when ``by`` is a
    lead logging for them, else ``by``. Raises ``ValidationError`` (see
    ``validate_session``); ``today`` defaults to the local date.
    """
    today = today or timezone.localdate()
    otj = validate_session(
        enrolment=enrolment, date=date, duration_minutes=duration_minutes, attendance=attendance,
        otj_hours=otj_hours, next_session_date=next_session_date, today=today,
    )
    coach = by if getattr(by, "is_coach", False) else (enrolment.coach or by)
    session = CoachingSession(
        enrolment=enrolment, coach=coach, date=date, duration_minutes=duration_minutes, mode=mode,
        attendance=attendance, otj_hours=otj, topics=topics, notes=notes, next_session_date=next_session_date,
    )
    session._history_user = by
    session.save()
    return session


def edit_session(
    *,
    session: CoachingSession,
    by,
    expected_version: int,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    **changes,
) -> CoachingSession:
    """Apply ``changes`` (field → value, as for ``log_session``) to ``session`` and return it.

    Allowed to its coach for 14 days after it was logged, then only to a lead: raises
    ``PermissionDenied`` otherwise. Raises ``ValidationError`` for bad input and
    ``academy.concurrency.StaleEdit`` when someone saved the session since
    ``expected_version`` was read. The change is recorded in the session's history.
    """
    if not can_change_session(by, session, now=now):
        raise PermissionDenied("Only a lead can change a session more than 14 days after it was logged.")
    allowed = {"date", "duration_minutes", "mode", "attendance", "otj_hours", "topics", "notes", "next_session_date"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"edit_session() got unexpected fields: {', '.join(sorted(unknown))}")
    values = {name: getattr(session, name) for name in allowed} | changes
    values["otj_hours"] = validate_session(
        enrolment=session.enrolment, date=values["date"], duration_minutes=values["duration_minutes"],
        attendance=values["attendance"], otj_hours=changes.get("otj_hours"),
        next_session_date=values["next_session_date"], today=today or timezone.localdate(),
    )
    for name, value in values.items():
        setattr(session, name, value)
    session._history_user = by
    return save_if_current(session, expected_version=expected_version)


def delete_session(*, session: CoachingSession, by, now: dt.datetime | None = None) -> None:
    """Delete ``session``; the deletion is kept in its history with ``by`` as the user.

    Same permission as ``edit_session``: raises ``PermissionDenied`` otherwise.
    """
    if not can_change_session(by, session, now=now):
        raise PermissionDenied("Only a lead can delete a session more than 14 days after it was logged.")
    with transaction.atomic():
        session._history_user = by
        session.delete()


def record_review(
    *,
    enrolment: Enrolment,
    by,
    date: dt.date,
    rag: str,
    learner_attended: bool = True,
    line_manager_attended: bool = True,
    coach_attended: bool = True,
    agreed_actions: str = "",
    notes: str = "",
    today: dt.date | None = None,
) -> ProgressReview:
    """Record and return a progress review of ``enrolment`` (learner, line manager and coach).

    ``rag`` is ``"red"``, ``"amber"`` or ``"green"``. Refused (``ValidationError``): a
    withdrawn enrolment, a date before the enrolment start or after ``today``, an
    unknown RAG rating, nobody attending.
    """
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    _check_happened(date, enrolment, errors, today=today, what="a progress review", verb="record a review")
    if rag not in ProgressReview.Rag.values:
        errors.setdefault("rag", []).append("Choose the RAG rating.")
    if not (learner_attended or line_manager_attended or coach_attended):
        errors.setdefault("learner_attended", []).append("Attendees: tick who attended the review.")
    _raise(errors)
    review = ProgressReview(
        enrolment=enrolment, date=date, rag=rag, learner_attended=learner_attended,
        line_manager_attended=line_manager_attended, coach_attended=coach_attended,
        agreed_actions=agreed_actions, notes=notes, recorded_by=by,
    )
    review._history_user = by
    review.save()
    return review


def log_otj_activity(
    *,
    enrolment: Enrolment,
    by,
    date: dt.date,
    category: str,
    hours: Decimal,
    description: str = "",
    today: dt.date | None = None,
) -> OffTheJobActivity:
    """Log and return off-the-job training other than a coaching session (a training day, self-study …).

    ``hours`` in hours, more than 0 and at most 24. Refused (``ValidationError``): a
    withdrawn enrolment, a date before the enrolment start or after ``today``, an unknown
    category, hours out of range.
    """
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    _check_happened(date, enrolment, errors, today=today, what="off-the-job training", verb="log training")
    if category not in OffTheJobActivity.Category.values:
        errors.setdefault("category", []).append("Choose the category.")
    if hours is None:
        errors.setdefault("hours", []).append("Enter the hours.")
    elif not Decimal(0) < Decimal(hours) <= Decimal(24):
        errors.setdefault("hours", []).append("Hours must be more than 0 and no more than 24.")
    _raise(errors)
    activity = OffTheJobActivity(
        enrolment=enrolment, date=date, category=category, hours=Decimal(hours).quantize(Decimal("0.01")),
        description=description, recorded_by=by,
    )
    activity._history_user = by
    activity.save()
    return activity
