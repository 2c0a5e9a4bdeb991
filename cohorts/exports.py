"""What the learner and enrolment list downloads hold: their columns and rows (written by ``academy.exports``)."""
from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Subquery

from academy.exports import Column

from .models import AssessmentResult, Enrolment


def _names(objects) -> str:
    return "; ".join(sorted({str(o) for o in objects}))


LEARNER_COLUMNS = [
    Column("First name", lambda l: l.first_name),
    Column("Last name", lambda l: l.last_name),
    Column("Work email", lambda l: l.work_email),
    Column("Employee number", lambda l: l.employee_number),
    Column("ULN", lambda l: l.uln),
    Column("Team", lambda l: l.team.name),
    Column("Directorate", lambda l: l.team.directorate),
    Column("Line manager", lambda l: l.line_manager_name),
    Column("Line manager email", lambda l: l.line_manager_email),
    Column("Cohorts", lambda l: _names(e.cohort for e in l.export_enrolments)),
    Column("Statuses", lambda l: _names(e.get_status_display() for e in l.export_enrolments)),
]


def learner_rows(learners):
    """Return ``learners`` ready for ``LEARNER_COLUMNS``: team joined, enrolments with cohorts prefetched.

    Two queries per chunk of rows (learners with teams; their enrolments with cohorts).
    """
    return learners.select_related("team").prefetch_related(
        Prefetch("enrolments", queryset=Enrolment.objects.select_related("cohort"), to_attr="export_enrolments")
    )


ENROLMENT_COLUMNS = [
    Column("First name", lambda e: e.learner.first_name),
    Column("Last name", lambda e: e.learner.last_name),
    Column("Employee number", lambda e: e.learner.employee_number),
    Column("ULN", lambda e: e.learner.uln),
    Column("Team", lambda e: e.learner.team.name),
    Column("Cohort", lambda e: e.cohort.name),
    Column("Standard reference", lambda e: e.cohort.standard.reference),
    Column("Standard", lambda e: e.cohort.standard.title),
    Column("Level", lambda e: e.cohort.standard.level),
    Column("Coach", lambda e: str(e.coach) if e.coach else ""),
    Column("Status", lambda e: e.get_status_display()),
    Column("Start date", lambda e: e.start_date),
    Column("Planned end date", lambda e: e.planned_end_date),
    Column("Actual end date", lambda e: e.actual_end_date),
    Column("Withdrawal reason", lambda e: e.get_withdrawal_reason_display() if e.withdrawal_reason else ""),
    Column("Planned off-the-job hours", lambda e: e.planned_otj_hours),
    Column("Latest EPA grade", lambda e: dict(AssessmentResult.Grade.choices).get(e.latest_grade, "")),
    Column("Latest EPA date", lambda e: e.latest_result_date),
    Column("Latest EPA attempt", lambda e: e.latest_attempt),
]


def enrolment_rows(enrolments):
    """Return ``enrolments`` ready for ``ENROLMENT_COLUMNS`` in one query (joins plus latest-result subqueries)."""
    latest = AssessmentResult.objects.filter(enrolment=OuterRef("pk")).order_by("-attempt")
    return enrolments.select_related("learner__team", "cohort__standard", "coach").annotate(
        latest_grade=Subquery(latest.values("grade")[:1]),
        latest_result_date=Subquery(latest.values("date")[:1]),
        latest_attempt=Subquery(latest.values("attempt")[:1]),
    )
