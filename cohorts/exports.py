"""What the learner and enrolment list downloads hold: their columns and rows (written by ``academy.exports``)."""
from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Subquery

from academy.exports import Column

from .models import AssessmentResult, Enrolment


def _names(objects) -> str:
    return "; ".join(sorted({str(o) for o in objects}))


LEARNER_COLUMNS = [
    Column("First name", value=lambda l: l.first_name),
    Column("Last name", value=lambda l: l.last_name),
    Column("Work email", value=lambda l: l.work_email),
    Column("Employee number", value=lambda l: l.employee_number),
    Column("ULN", value=lambda l: l.uln),
    Column("Team", value=lambda l: l.team.name),
    Column("Directorate", value=lambda l: l.team.directorate),
    Column("Line manager", value=lambda l: l.line_manager_name),
    Column("Line manager email", value=lambda l: l.line_manager_email),
    Column("Cohorts", value=lambda l: _names(e.cohort for e in l.export_enrolments)),
    Column("Statuses", value=lambda l: _names(e.get_status_display() for e in l.export_enrolments)),
]


def learner_rows(learners):
    """Return ``learners`` ready for ``LEARNER_COLUMNS``: team joined, enrolments with cohorts prefetched.

    Two queries per chunk of rows (learners with teams; their enrolments with cohorts).
    """
    return learners.select_related("team").prefetch_related(
        Prefetch("enrolments", queryset=Enrolment.objects.select_related("cohort"), to_attr="export_enrolments")
    )


ENROLMENT_COLUMNS = [
    Column("First name", value=lambda e: e.learner.first_name),
    Column("Last name", value=lambda e: e.learner.last_name),
    Column("Employee number", value=lambda e: e.learner.employee_number),
    Column("ULN", value=lambda e: e.learner.uln),
    Column("Team", value=lambda e: e.learner.team.name),
    Column("Cohort", value=lambda e: e.cohort.name),
    Column("Standard reference", value=lambda e: e.cohort.standard.reference),
    Column("Standard", value=lambda e: e.cohort.standard.title),
    Column("Level", value=lambda e: e.cohort.standard.level),
    Column("Coach", value=lambda e: str(e.coach) if e.coach else ""),
    Column("Status", value=lambda e: e.get_status_display()),
    Column("Start date", value=lambda e: e.start_date),
    Column("Planned end date", value=lambda e: e.planned_end_date),
    Column("Actual end date", value=lambda e: e.actual_end_date),
    Column("Withdrawal reason", value=lambda e: e.get_withdrawal_reason_display() if e.withdrawal_reason else ""),
    Column("Planned off-the-job hours", value=lambda e: e.planned_otj_hours),
    Column("Latest EPA grade", value=lambda e: dict(AssessmentResult.Grade.choices).get(e.latest_grade, "")),
    Column("Latest EPA date", value=lambda e: e.latest_result_date),
    Column("Latest EPA attempt", value=lambda e: e.latest_attempt),
]


def enrolment_rows(enrolments):
    """Return ``enrolments`` ready for ``ENROLMENT_COLUMNS`` in one query (joins plus latest-result subqueries)."""
    latest = AssessmentResult.objects.filter(enrolment=OuterRef("pk")).order_by("-attempt")
    return enrolments.select_related("learner__team", "cohort__standard", "coach").annotate(
        latest_grade=Subquery(latest.values("grade")[:1]),
        latest_result_date=Subquery(latest.values("date")[:1]),
        latest_attempt=Subquery(latest.values("attempt")[:1]),
    )
