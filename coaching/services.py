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

from academy.changes import cohorts_changed, records_changed
from academy.concurrency import save_if_current
from academy.dates import uk_date
from coaching.canonical import REVIEW_CONTENT_FIELDS
from coaching.models import CoachingSession, OffTheJobActivity, ProgressReview, Signature
from coaching.progress import break_periods
from cohorts.models import Enrolment, EnrolmentStatusChange

# A coach may edit or delete a session they logged for 14 days after logging it; then only a lead.
EDIT_WINDOW = dt.timedelta(days=14)
MAX_SESSION_MINUTES = 8 * 60


def within_edit_window(record, *, now: dt.datetime | None = None) -> bool:
    """Return whether ``record`` (a session, review or activity) was logged no more than 14 days before ``now``.

    Exactly 14 days is inside.
    """
    now = now or timezone.now()
    return now - record.created_at <= EDIT_WINDOW


def _recorded_by_id(record) -> int | None:
    """Return the id of the user who owns ``record``: a session's coach, or whoever recorded a review or activity."""
    if isinstance(record, CoachingSession):
        return record.coach_id
    return record.recorded_by_id


def can_change_record(user, record, *, now: dt.datetime | None = None) -> bool:
    """Return whether ``user`` may edit or delete ``record`` (a coaching session, progress review or off-the-job activity).

    A lead always; otherwise the coach who logged it, for 14 days after logging it, while
    they still coach the enrolment (otherwise the record is not theirs to see at all).
    """
    if getattr(user, "is_lead", False):
        return True
    return (
        getattr(user, "is_coach", False)
        and _recorded_by_id(record) == user.pk
        and record.enrolment.coach_id == user.pk
        and within_edit_window(record, now=now)
    )


def _change(record, *, by, expected_version: int, changes: dict, allowed: set[str], validate, now, what: str):
    """Apply ``changes`` to ``record`` after ``validate(values) -> dict of normalised values``; save if current.

    Raises ``PermissionDenied`` (``can_change_record``), ``TypeError`` for a field not in
    ``allowed``, ``ValidationError`` from ``validate`` and ``StaleEdit`` when the record
    was saved since ``expected_version`` was read. The change goes into its history.
    """
    if not can_change_record(by, record, now=now):
        raise PermissionDenied(f"Only a lead can change {what} more than 14 days after it was logged.")
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unexpected fields for {what}: {', '.join(sorted(unknown))}")
    values = {name: getattr(record, name) for name in allowed} | changes
    values.update(validate(values))
    for name, value in values.items():
        setattr(record, name, value)
    record._history_user = by
    with transaction.atomic():
        saved = save_if_current(record, expected_version=expected_version)
        _changed(saved)
    return saved


def _changed(record) -> None:
    """Say what saving or deleting ``record`` changed (``academy.changes``).

    Sessions and other off-the-job training count in the cohort's metrics (coaching hours,
    off-the-job hours logged), so its metrics are recomputed; a progress review is read
    live by the dashboard pages, so only their generation moves on.
    """
    if isinstance(record, (CoachingSession, OffTheJobActivity)):
        cohorts_changed(record.enrolment.cohort_id)
    else:
        records_changed()


def _remove(record, *, by, now, what: str) -> None:
    """Delete ``record`` if ``by`` may (``can_change_record``, else ``PermissionDenied``); its history keeps ``by``."""
    if not can_change_record(by, record, now=now):
        raise PermissionDenied(f"Only a lead can delete {what} more than 14 days after it was logged.")
    with transaction.atomic():
        record._history_user = by
        _changed(record)
        record.delete()


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


def _check_in_learning(day, enrolment: Enrolment, errors: dict, *, today: dt.date) -> None:
    """Refuse a day after the enrolment ended or inside one of its breaks in learning (one query)."""
    if not day:
        return
    if enrolment.actual_end_date and day > enrolment.actual_end_date:
        errors.setdefault("date", []).append(
            f"Date cannot be after the apprenticeship ended, {uk_date(enrolment.actual_end_date)}.")
        return
    changes = (EnrolmentStatusChange.objects.filter(enrolment=enrolment)
               .order_by("effective_date", "changed_at", "id").values_list("to_status", "effective_date"))
    for period in break_periods(changes, today=today):
        if period.start <= day < period.end or (period.open and day >= period.start):
            until = "" if period.open else f" to {uk_date(period.end - dt.timedelta(days=1))}"
            errors.setdefault("date", []).append(
                f"Date is inside a break in learning ({uk_date(period.start)}{until}): no training counts then.")
            return


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
    with transaction.atomic():
        session.save()
        _changed(session)
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
    def validate(values: dict) -> dict:
        return {"otj_hours": validate_session(
            enrolment=session.enrolment, date=values["date"], duration_minutes=values["duration_minutes"],
            attendance=values["attendance"], otj_hours=changes.get("otj_hours"),
            next_session_date=values["next_session_date"], today=today or timezone.localdate(),
        )}

    allowed = {"date", "duration_minutes", "mode", "attendance", "otj_hours", "topics", "notes", "next_session_date"}
    return _change(session, by=by, expected_version=expected_version, changes=changes, allowed=allowed,
                   validate=validate, now=now, what="a session")


def delete_session(*, session: CoachingSession, by, now: dt.datetime | None = None) -> None:
    """Delete ``session``; the deletion is kept in its history with ``by`` as the user.

    Same permission as ``edit_session``: raises ``PermissionDenied`` otherwise.
    """
    _remove(session, by=by, now=now, what="a session")


def _validate_review(enrolment: Enrolment, values: dict, *, today: dt.date) -> dict:
    """Check a progress review's ``date``, ``rag`` and attendees; raise ``ValidationError`` by field."""
    errors: dict[str, list[str]] = {}
    _check_happened(values["date"], enrolment, errors, today=today, what="a progress review", verb="record a review")
    if values["rag"] not in ProgressReview.Rag.values:
        errors.setdefault("rag", []).append("Choose the RAG rating.")
    if not (values["learner_attended"] or values["line_manager_attended"] or values["coach_attended"]):
        errors.setdefault("learner_attended", []).append("Attendees: tick who attended the review.")
    _raise(errors)
    return {}


REVIEW_FIELDS = {"date", "rag", "learner_attended", "line_manager_attended", "coach_attended", "agreed_actions", "notes"}


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
    _validate_review(enrolment, {
        "date": date, "rag": rag, "learner_attended": learner_attended,
        "line_manager_attended": line_manager_attended, "coach_attended": coach_attended,
    }, today=today or timezone.localdate())
    review = ProgressReview(
        enrolment=enrolment, date=date, rag=rag, learner_attended=learner_attended,
        line_manager_attended=line_manager_attended, coach_attended=coach_attended,
        agreed_actions=agreed_actions, notes=notes, recorded_by=by,
    )
    review._history_user = by
    with transaction.atomic():
        review.save()
        _changed(review)
    return review


def log_otj_activity(
    *,
    enrolment: Enrolment,
    by,
    date: dt.date,
    category: str,
    hours: Decimal,
    description: str = "",
    learning: str = "",
    link: str = "",
    today: dt.date | None = None,
) -> OffTheJobActivity:
    """Log and return off-the-job training other than a coaching session (a training day, self-study …).

    ``hours`` in hours, more than 0 and at most 24. Logged by the apprentice (``by`` has
    the learner role) it is *submitted*, waiting for their coach (``coaching.training``);
    logged by a coach or lead it is *confirmed* at once. Refused (``ValidationError``): a
    withdrawn enrolment, a date before the enrolment start, after ``today``, after it
    ended or inside a break in learning, an unknown category, hours out of range.
    """
    checked = _validate_activity(enrolment, {"date": date, "category": category, "hours": hours},
                                 today=today or timezone.localdate())
    by_apprentice = getattr(by, "is_learner", False)
    activity = OffTheJobActivity(
        enrolment=enrolment, date=date, category=category, hours=checked["hours"],
        description=description, learning=learning, link=link, recorded_by=by,
        status=OffTheJobActivity.Status.SUBMITTED if by_apprentice else OffTheJobActivity.Status.CONFIRMED,
        reviewed_by=None if by_apprentice else by, reviewed_at=None if by_apprentice else timezone.now(),
    )
    activity._history_user = by
    with transaction.atomic():
        activity.save()
        _changed(activity)
    return activity


def _validate_activity(enrolment: Enrolment, values: dict, *, today: dt.date) -> dict:
    """Check off-the-job training's ``date``, ``category`` and ``hours``; return ``{"hours": quantised}``.

    Raises ``ValidationError`` by field: a withdrawn enrolment, a date before the start,
    after ``today``, after the enrolment ended or inside a break in learning, an unknown
    category, hours not more than 0 or above 24.
    """
    errors: dict[str, list[str]] = {}
    _check_happened(values["date"], enrolment, errors, today=today, what="off-the-job training", verb="log training")
    _check_in_learning(values["date"], enrolment, errors, today=today)
    if values["category"] not in OffTheJobActivity.Category.values:
        errors.setdefault("category", []).append("Choose the category.")
    hours = values["hours"]
    if hours is None:
        errors.setdefault("hours", []).append("Enter the hours.")
    elif not Decimal(0) < Decimal(hours) <= Decimal(24):
        errors.setdefault("hours", []).append("Hours must be more than 0 and no more than 24.")
    _raise(errors)
    return {"hours": Decimal(hours).quantize(Decimal("0.01"))}


ACTIVITY_FIELDS = {"date", "category", "hours", "description"}


def is_signed(review: ProgressReview) -> bool:
    """Return whether anyone's signature counts on ``review`` as it is now (one query)."""
    return Signature.objects.filter(progress_review=review, content_sha256=review.content_sha256).exists()


def edit_review(*, review: ProgressReview, by, expected_version: int, today: dt.date | None = None,
                now: dt.datetime | None = None, **changes) -> ProgressReview:
    """Apply ``changes`` (fields of ``REVIEW_FIELDS``, as for ``record_review``) to ``review`` and return it.

    Who may: the coach who recorded it for 14 days, then a lead (``PermissionDenied``
    otherwise). Raises ``ValidationError`` as ``record_review`` does, and when a signed
    review's agreed content (anything but the notes: ``coaching.canonical``) would change,
    and ``StaleEdit`` when the review was saved since ``expected_version`` was read. Kept
    in its history.
    """
    agreed = [name for name in REVIEW_CONTENT_FIELDS if name in changes and changes[name] != getattr(review, name)]
    if agreed and is_signed(review):
        raise ValidationError({"__all__": [
            "This review has been signed, so what the three agreed cannot be changed: record a new progress "
            "review for anything new. Your notes can still be changed."]})
    return _change(review, by=by, expected_version=expected_version, changes=changes, allowed=REVIEW_FIELDS,
                   validate=lambda values: _validate_review(review.enrolment, values,
                                                            today=today or timezone.localdate()),
                   now=now, what="a progress review")


def delete_review(*, review: ProgressReview, by, now: dt.datetime | None = None) -> None:
    """Delete ``review`` (same rule as ``edit_review``); its history keeps ``by`` and the time.

    A review anyone has signed is kept (``PermissionDenied``): signatures are evidence.
    """
    if review.signatures.exists():
        raise PermissionDenied("A signed progress review is kept as evidence: it cannot be deleted.")
    _remove(review, by=by, now=now, what="a progress review")


def edit_otj_activity(*, activity: OffTheJobActivity, by, expected_version: int, today: dt.date | None = None,
                      now: dt.datetime | None = None, **changes) -> OffTheJobActivity:
    """Apply ``changes`` (fields of ``ACTIVITY_FIELDS``; ``hours`` in hours) to ``activity`` and return it.

    Same rule and errors as ``edit_review`` (``ValidationError`` as ``log_otj_activity``).
    """
    return _change(activity, by=by, expected_version=expected_version, changes=changes, allowed=ACTIVITY_FIELDS,
                   validate=lambda values: _validate_activity(activity.enrolment, values,
                                                              today=today or timezone.localdate()),
                   now=now, what="off-the-job training")


def delete_otj_activity(*, activity: OffTheJobActivity, by, now: dt.datetime | None = None) -> None:
    """Delete ``activity`` (same rule as ``edit_review``); its history keeps ``by`` and the time."""
    _remove(activity, by=by, now=now, what="off-the-job training")
