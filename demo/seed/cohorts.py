"""A deterministic demo academy shaped like the model customer.

The model customer (README.md) is a county council that put 62 staff from 27 teams
through data apprenticeships (Python, Power BI, SQL) with one-to-one coaching and
reached a 92% distinction/merit rate. ``seed_demo`` builds that academy:

- seven sign-ins: ``lead@example.org`` (apprenticeship lead), ``head@example.org``
  (head of data), three coaches (``coach@``, ``coach2@``, ``coach3@example.org``), an
  apprentice (``learner@example.org``, the first learner in learning coached by coach@)
  and the line manager of that apprentice's team (``manager@example.org``);
- 27 council teams, each with at least one learner; 62 learners with invented names,
  emails ``firstname.lastname@council.example.org``, six-digit employee numbers with
  leading zeros and ULNs that pass the check digit (ILR rule DD01,
  ``academy.validators``);
- six cohorts on Data Technician L3 (ST0795) and Data Analyst L4 (ST0118) from
  January 2024 with the invented provider "Northgate Digital Skills Ltd";
- 50 completed enrolments whose first-attempt EPA grades are 27 distinction, 19 merit,
  3 pass and 1 fail (46/50 = 92% distinction/merit); the fail passes at attempt 2;
  4 withdrawn (ILR reasons, no results), 2 on a break in learning, 1 at gateway and
  5 in learning;
- the status history of every enrolment and roughly monthly coaching sessions.

Everything comes from ``random.Random(2024)`` and fixed dates, never from today's
date: the demo's "today" is ``DEMO_TODAY`` (Sunday 29 November 2026), so nothing is
dated after it. Running it again **replaces the demo**: the previous demo rows are
deleted and recreated identically (same names, ULNs, dates, grades; new ids).

What counts as a demo row: cohorts whose provider is ``DEMO_PROVIDER`` with UKPRN
``DEMO_UKPRN``, learners whose work email is one of the demo's generated addresses,
and everything hanging off their enrolments. The seven demo users and the 27 teams are
updated or created in place, never deleted. Non-demo rows are never changed: when
they would clash with the demo (a demo cohort holding a non-demo learner, a non-demo
learner with a demo employee number or ULN, a non-demo cohort with a demo cohort's
name), ``seed_demo`` raises ``DemoConflict`` and writes nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from academy.models import Team, User
from coaching.models import CoachingSession
from cohorts.models import AssessmentResult, Cohort, Enrolment, EnrolmentStatusChange, Standard
from demo.seed.documents import seed_documents
from demo.seed.impact import seed_impact_records
from demo.seed.learners import seed_reviews_and_activities
from demo.seed.today import DEMO_TODAY
from learners.models import Learner
from outcomes.metrics import recompute_metrics

from .plan import (
    COHORTS,
    DEMO_APPRENTICE_EMAIL,
    DEMO_LINE_MANAGER_EMAIL,
    DEMO_PROVIDER,
    DEMO_UKPRN,
    REQUIRED_STANDARDS,
    SESSION_BATCH_SIZE,
    STAFF,
    TEAMS,
    _Learner,
    _plan,
    demo_apprentice,
)


class DemoError(Exception):
    """The demo cannot be seeded; the message says what to do."""


class DemoStandardsMissing(DemoError):
    """Standard ST0118 or ST0795 is not loaded (run ``load_reference_data``)."""


class DemoConflict(DemoError):
    """Seeding would change or clash with rows that are not demo rows."""


@dataclass(frozen=True)
class DemoReport:
    """What ``seed_demo`` made: counts of rows, and the sign-ins (email, role label, full name)."""

    today: dt.date
    users: int
    teams: int
    learners: int
    cohorts: int
    enrolments: int
    enrolments_by_status: dict[str, int]
    status_changes: int
    coaching_sessions: int
    assessment_results: int
    first_attempt_results: int
    first_attempt_distinction_merit: int
    learners_replaced: int
    metrics_recomputed: bool
    logins: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)


# --- Writing it ----------------------------------------------------------------------


def _check_conflicts(plan: list[_Learner]) -> None:
    """Raise ``DemoConflict`` when seeding would clash with or remove non-demo rows."""
    emails = [x.email for x in plan]
    demo_learners = Learner.objects.filter(work_email__in=emails)
    demo_cohorts = Cohort.objects.filter(provider=DEMO_PROVIDER, provider_ukprn=DEMO_UKPRN)
    problems = []
    clash = Learner.objects.exclude(work_email__in=emails).filter(
        employee_number__in=[x.employee_number for x in plan]
    ) | Learner.objects.exclude(work_email__in=emails).filter(uln__in=[x.uln for x in plan])
    if clash.exists():
        problems.append(
            "learners outside the demo use demo employee numbers or ULNs: "
            + ", ".join(sorted({x.employee_number for x in clash})[:5])
        )
    names = Cohort.objects.filter(name__in=[c.name for c in COHORTS]).exclude(pk__in=demo_cohorts)
    if names.exists():
        problems.append("cohorts outside the demo use demo names: " + ", ".join(names.values_list("name", flat=True)))
    mixed = Enrolment.objects.filter(cohort__in=demo_cohorts).exclude(learner__in=demo_learners)
    mixed |= Enrolment.objects.filter(learner__in=demo_learners).exclude(cohort__in=demo_cohorts)
    if mixed.exists():
        problems.append(f"{mixed.count()} enrolments link demo and non-demo rows")
    if problems:
        raise DemoConflict(
            "Cannot replace the demo without touching other data: " + "; ".join(problems) + ". Nothing was "
            "changed. To start again from an empty academy, delete db.sqlite3 (or the database DATABASE_URL "
            "names) and run make run."
        )


def _delete_previous_demo(plan: list[_Learner]) -> int:
    """Delete the previous demo's learners, cohorts and all that hangs off them; return learners deleted."""
    demo_learners = Learner.objects.filter(work_email__in=[x.email for x in plan])
    demo_cohorts = Cohort.objects.filter(provider=DEMO_PROVIDER, provider_ukprn=DEMO_UKPRN)
    enrolments = Enrolment.objects.filter(cohort__in=demo_cohorts)
    # Results are PROTECTed; sessions, status changes and snapshots cascade.
    AssessmentResult.objects.filter(enrolment__in=enrolments).delete()
    enrolments.delete()
    replaced = demo_learners.count()
    demo_learners.delete()
    demo_cohorts.delete()
    return replaced


def demo_present() -> bool:
    """Return whether a demo academy is in the database (its provider's cohorts exist)."""
    return Cohort.objects.filter(provider=DEMO_PROVIDER, provider_ukprn=DEMO_UKPRN).exists()


def _portal_people(plan: list[_Learner]) -> tuple[tuple[str, User.Role, str], ...]:
    """Return the apprentice and the line manager who sign in, as (e-mail, role, full name)."""
    apprentice = demo_apprentice(plan)
    return (
        (DEMO_APPRENTICE_EMAIL, User.Role.LEARNER, f"{apprentice.first_name} {apprentice.last_name}"),
        (DEMO_LINE_MANAGER_EMAIL, User.Role.LINE_MANAGER, apprentice.line_manager_name),
    )


def _link_portal_people(plan: list[_Learner], users: dict) -> None:
    """Link the apprentice's account (learner@) to their learner, and make manager@ the line
    manager of every demo learner of that apprentice's team (found by their demo e-mails)."""
    apprentice = demo_apprentice(plan)
    Learner.objects.filter(work_email=apprentice.email).update(user=users[DEMO_APPRENTICE_EMAIL])
    Learner.objects.filter(work_email__in=[x.email for x in plan if x.team == apprentice.team]).update(
        line_manager=users[DEMO_LINE_MANAGER_EMAIL], line_manager_email=DEMO_LINE_MANAGER_EMAIL)


def add_missing_portal_people(*, password: str) -> list[str]:
    """Give a demo built before the apprentice and line manager could sign in its learner@ and
    manager@ accounts (created with ``password``, linked as ``seed_demo`` links them).

    Returns the e-mails created; existing accounts are left as they are. Atomic.
    """
    created = []
    with transaction.atomic():
        users = {}
        for email, role, full_name in _portal_people(_plan()):
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User(email=email, full_name=full_name, role=role)
                user.set_password(password)
                user.save()
                created.append(email)
            users[email] = user
        if created:
            _link_portal_people(_plan(), users)
    return created


def demo_logins() -> tuple[tuple[str, str, str], ...]:
    """Return the demo users as (e-mail, role, full name): the staff, then the apprentice and the line manager."""
    return tuple((email, role.label, full_name) for email, role, full_name in STAFF + _portal_people(_plan()))


def seed_demo(*, password: str) -> DemoReport:
    """Replace the demo academy (see the module docstring) and return what was made.

    ``password`` is set on the seven demo users. Atomic: on any error nothing changes.
    Nothing is queued per row (the loader calls no change hooks); ``outcomes.metrics.recompute_metrics()``
    runs once after the commit. Sessions are written with ``bulk_create`` in batches of
    ``SESSION_BATCH_SIZE``.

    Raises ``DemoStandardsMissing`` when ST0118 or ST0795 is not loaded and
    ``DemoConflict`` when the demo would clash with non-demo rows.
    """
    if not password:
        raise DemoError("Give a password for the demo users.")
    plan = _plan()
    with transaction.atomic():
        standards = {s.reference: s for s in Standard.objects.filter(reference__in=REQUIRED_STANDARDS)}
        missing = sorted(set(REQUIRED_STANDARDS) - set(standards))
        if missing:
            raise DemoStandardsMissing(
                f"Standards {', '.join(missing)} are not loaded: run load_reference_data first."
            )
        _check_conflicts(plan)
        replaced = _delete_previous_demo(plan)

        users = {}
        for email, role, full_name in STAFF + _portal_people(plan):
            user = User.objects.filter(email=email).first() or User(email=email)
            user.full_name, user.role, user.is_active = full_name, role, True
            user.set_password(password)
            user.save()
            users[email] = user
        lead = users["lead@example.org"]

        teams = {}
        for name, directorate, _ in TEAMS:
            teams[name], _ = Team.objects.get_or_create(name=name, defaults={"directorate": directorate})

        cohorts = {
            c.name: Cohort.objects.create(
                name=c.name, standard=standards[c.standard], provider=DEMO_PROVIDER,
                provider_ukprn=DEMO_UKPRN, start_date=c.start,
            )
            for c in COHORTS
        }

        learner_rows = Learner.objects.bulk_create(
            [
                Learner(
                    first_name=x.first_name, last_name=x.last_name, work_email=x.email,
                    employee_number=x.employee_number, uln=x.uln, team=teams[x.team],
                    line_manager_name=x.line_manager_name, line_manager_email=x.line_manager_email,
                )
                for x in plan
            ]
        )
        _link_portal_people(plan, users)
        enrolment_rows = Enrolment.objects.bulk_create(
            [
                Enrolment(
                    learner=row, cohort=cohorts[x.cohort.name], coach=users[x.coach_email],
                    start_date=x.start, planned_end_date=x.planned_end, actual_end_date=x.actual_end,
                    planned_otj_hours=x.planned_otj, status=x.status,
                    withdrawal_reason=x.withdrawal_reason,
                )
                for x, row in zip(plan, learner_rows)
            ]
        )
        EnrolmentStatusChange.objects.bulk_create(
            [
                EnrolmentStatusChange(
                    enrolment=enrolment, from_status=from_status, to_status=to_status,
                    effective_date=day, reason=reason, changed_by=lead,
                )
                for x, enrolment in zip(plan, enrolment_rows)
                for from_status, to_status, day, reason in x.history
            ]
        )
        results = AssessmentResult.objects.bulk_create(
            [
                AssessmentResult(enrolment=enrolment, grade=grade, date=day, attempt=attempt)
                for x, enrolment in zip(plan, enrolment_rows)
                for grade, day, attempt in x.results
            ]
        )
        sessions = CoachingSession.objects.bulk_create(
            [
                CoachingSession(
                    enrolment=enrolment, coach=users[x.coach_email], date=s.date,
                    duration_minutes=s.duration_minutes, mode=s.mode, attendance=s.attendance,
                    otj_hours=(
                        Decimal(s.duration_minutes) / 60 if s.attendance == CoachingSession.Attendance.ATTENDED
                        else Decimal(0)
                    ).quantize(Decimal("0.01")),
                    topics=s.topics, notes=s.notes, next_session_date=s.next_session_date,
                )
                for x, enrolment in zip(plan, enrolment_rows)
                for s in x.sessions
            ],
            batch_size=SESSION_BATCH_SIZE,
        )
        seed_reviews_and_activities(enrolments=enrolment_rows)
        seed_documents(enrolments=enrolment_rows, apprentice_email=DEMO_APPRENTICE_EMAIL)
        seed_impact_records(recorded_by=lead)

    recompute_metrics()
    metrics_recomputed = True
    by_status: dict[str, int] = {}
    for x in plan:
        by_status[x.status] = by_status.get(x.status, 0) + 1
    first_attempts = [r for r in results if r.attempt == 1]
    return DemoReport(
        today=DEMO_TODAY,
        users=len(users),
        teams=len(teams),
        learners=len(learner_rows),
        cohorts=len(cohorts),
        enrolments=len(enrolment_rows),
        enrolments_by_status=by_status,
        status_changes=sum(len(x.history) for x in plan),
        coaching_sessions=len(sessions),
        assessment_results=len(results),
        first_attempt_results=len(first_attempts),
        first_attempt_distinction_merit=sum(r.grade in ("distinction", "merit") for r in first_attempts),
        learners_replaced=replaced,
        metrics_recomputed=metrics_recomputed,
        logins=demo_logins(),
    )
