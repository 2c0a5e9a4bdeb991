"""The demo academy (``demo.seed.seed_demo`` and ``manage.py seed_demo``)."""
import datetime as dt
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from academy.models import Team, User
from academy.validators import validate_uln
from coaching.models import CoachingSession
from cohorts.models import AssessmentResult, Cohort, Enrolment, EnrolmentStatusChange, Standard
from demo.management.commands import seed_demo as seed_demo_command
from demo.seed import DEMO_TODAY, DemoConflict, DemoStandardsMissing, seed_demo
from demo.seed import cohorts as demo
from learners.models import Learner
from outcomes.models import CohortMetrics
from tests import factories

PASSWORD = "demo-test-password"
DEMO_EMAILS = {
    "lead@example.org": User.Role.LEAD,
    "head@example.org": User.Role.HEAD_OF_DATA,
    "coach@example.org": User.Role.COACH,
    "coach2@example.org": User.Role.COACH,
    "coach3@example.org": User.Role.COACH,
    "learner@example.org": User.Role.LEARNER,
    "manager@example.org": User.Role.LINE_MANAGER,
}


@pytest.fixture
def standards(db):
    return [
        factories.StandardFactory(reference="ST0118", title="Data analyst", level=4, typical_duration_months=24),
        factories.StandardFactory(reference="ST0795", title="Data technician", level=3, typical_duration_months=18),
    ]


@pytest.fixture
def seeded(standards):
    return seed_demo(password=PASSWORD)


def demo_enrolments():
    return Enrolment.objects.filter(cohort__provider=demo.DEMO_PROVIDER)


def snapshot():
    """Return what must not change between two runs: people, enrolments, results and sessions."""
    learners = list(
        Learner.objects.order_by("employee_number").values_list(
            "first_name", "last_name", "work_email", "employee_number", "uln", "team__name"
        )
    )
    enrolments = list(
        Enrolment.objects.order_by("learner__employee_number").values_list(
            "learner__employee_number", "cohort__name", "coach__email", "start_date", "planned_end_date",
            "actual_end_date", "planned_otj_hours", "status", "withdrawal_reason",
        )
    )
    results = list(
        AssessmentResult.objects.order_by("enrolment__learner__employee_number", "attempt").values_list(
            "enrolment__learner__employee_number", "grade", "date", "attempt"
        )
    )
    sessions = list(
        CoachingSession.objects.order_by("enrolment__learner__employee_number", "date").values_list(
            "enrolment__learner__employee_number", "date", "duration_minutes", "mode", "attendance", "otj_hours"
        )
    )
    return learners, enrolments, results, sessions


def test_it_makes_62_learners_in_27_teams_each_with_a_learner(seeded):
    """62 learners, 27 teams, every team has at least one learner; the report says so."""
    assert Learner.objects.count() == 62
    assert seeded.learners == 62 and seeded.teams == 27
    teams = Team.objects.annotate(n=Count("learners"))
    assert teams.count() == 27
    assert min(t.n for t in teams) >= 1
    assert sum(t.n for t in teams) == 62


def test_it_makes_the_staff_with_their_roles_and_the_password(seeded):
    """Lead, head of data, three coaches, an apprentice and a line manager exist with full names, the
    right role and the given password; the apprentice is a learner in learning whose line manager is manager@."""
    users = {u.email: u for u in User.objects.all()}
    assert set(users) == set(DEMO_EMAILS)
    for email, role in DEMO_EMAILS.items():
        assert users[email].role == role
        assert users[email].full_name
        assert users[email].check_password(PASSWORD) is True
    assert users["lead@example.org"].is_lead is True
    assert users["head@example.org"].is_head_of_data is True
    coached = dict(
        Enrolment.objects.values_list("coach__email").annotate(n=Count("id")).values_list("coach__email", "n")
    )
    assert coached == {"coach@example.org": 21, "coach2@example.org": 21, "coach3@example.org": 20}
    apprentice = users["learner@example.org"].learner
    assert apprentice.full_name == users["learner@example.org"].full_name
    assert apprentice.enrolments.get().status == "active"
    assert apprentice.line_manager == users["manager@example.org"]
    managed = set(Learner.objects.filter(line_manager=users["manager@example.org"]).values_list("team", flat=True))
    assert managed == {apprentice.team_id}


def test_it_gives_46_of_50_first_attempt_results_distinction_or_merit(seeded):
    """50 first attempts: 27 distinction, 19 merit, 3 pass, 1 fail; the fail passes at attempt 2."""
    first = AssessmentResult.objects.filter(attempt=1)
    grades = dict(first.values_list("grade").annotate(n=Count("id")).values_list("grade", "n"))
    assert grades == {"distinction": 27, "merit": 19, "pass": 3, "fail": 1}
    assert first.filter(grade__in=["distinction", "merit"]).count() == 46
    assert first.count() == 50
    assert (seeded.first_attempt_distinction_merit, seeded.first_attempt_results) == (46, 50)
    resit = AssessmentResult.objects.get(attempt=2)
    assert resit.grade == "pass"
    failed = AssessmentResult.objects.get(attempt=1, grade="fail")
    assert resit.enrolment_id == failed.enrolment_id and resit.date > failed.date
    assert resit.enrolment.status == Enrolment.Status.COMPLETED
    # Merit only where the standard is Data Analyst (the demo never assumes merit for Data Technician).
    assert set(first.filter(grade="merit").values_list("enrolment__cohort__standard__reference", flat=True)) == {
        "ST0118"
    }


def test_it_has_every_status_and_consistent_dates(seeded):
    """50 completed, 4 withdrawn, 2 on a break, 1 at gateway, 5 in learning; dates fit the demo's today."""
    by_status = dict(Enrolment.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    assert by_status == {"completed": 50, "withdrawn": 4, "break_in_learning": 2, "gateway": 1, "active": 5}
    assert seeded.enrolments_by_status == by_status
    assert Enrolment.objects.values("learner").distinct().count() == 62  # one cohort each
    for enrolment in Enrolment.objects.filter(status="completed").prefetch_related("assessment_results"):
        assert enrolment.actual_end_date is not None
        assert enrolment.planned_end_date > enrolment.start_date
        for result in enrolment.assessment_results.all():
            assert enrolment.actual_end_date < result.date < DEMO_TODAY
    for enrolment in Enrolment.objects.filter(status="withdrawn"):
        assert enrolment.withdrawal_reason in Enrolment.WithdrawalReason.values
        assert enrolment.start_date <= enrolment.actual_end_date < DEMO_TODAY
    assert not Enrolment.objects.filter(cohort__start_date__gte=dt.date(2025, 3, 1), status="completed").exists()
    assert Cohort.objects.filter(start_date__lt=dt.date(2024, 1, 1)).count() == 0
    assert set(Cohort.objects.values_list("standard__reference", flat=True)) == {"ST0118", "ST0795"}
    assert Cohort.objects.filter(name="Data Analyst L4 — January 2024", provider=demo.DEMO_PROVIDER).exists()


def test_it_never_puts_a_result_on_a_withdrawn_enrolment(seeded):
    """Withdrawn enrolments have no EPA result."""
    assert Enrolment.objects.filter(status="withdrawn").count() == 4
    assert not AssessmentResult.objects.filter(enrolment__status="withdrawn").exists()
    assert not AssessmentResult.objects.exclude(enrolment__status="completed").exists()


def test_it_records_the_status_history_of_every_enrolment(seeded):
    """Every enrolment's history starts at enrolment and ends at its current status, changed by the lead."""
    lead = User.objects.get(email="lead@example.org")
    for enrolment in Enrolment.objects.prefetch_related("status_changes"):
        changes = list(enrolment.status_changes.all())
        assert (changes[0].from_status, changes[0].to_status, changes[0].effective_date) == (
            "", "active", enrolment.start_date,
        )
        assert changes[-1].to_status == enrolment.status
        assert all(a.to_status == b.from_status for a, b in zip(changes, changes[1:]))
        assert [c.effective_date for c in changes] == sorted(c.effective_date for c in changes)
        assert all(c.changed_by_id == lead.pk and c.effective_date <= DEMO_TODAY for c in changes)
    assert EnrolmentStatusChange.objects.filter(to_status="break_in_learning").count() == 4  # 2 now, 2 in the past


def test_identifiers_are_valid_and_shaped_like_the_council(seeded):
    """ULNs pass the check digit; employee numbers are six digits with leading zeros; emails first.last@…"""
    for learner in Learner.objects.all():
        validate_uln(learner.uln)
        assert re.fullmatch(r"0[0-9]{5}", learner.employee_number)
        assert learner.work_email == f"{learner.first_name}.{learner.last_name}@council.example.org".lower()
    assert Learner.objects.values("uln").distinct().count() == 62
    assert set(Cohort.objects.values_list("provider_ukprn", flat=True)) == {demo.DEMO_UKPRN}


def test_rows_pass_full_clean(seeded):
    """A sample of every model passes model validation."""
    rows = [
        *Team.objects.all(),
        *Cohort.objects.all(),
        *Learner.objects.all(),
        *Enrolment.objects.select_related("coach"),
        *AssessmentResult.objects.select_related("enrolment"),
        *EnrolmentStatusChange.objects.all()[:40],
        *CoachingSession.objects.order_by("id")[::25],
        *User.objects.all(),
    ]
    for row in rows:
        row.full_clean()
    assert len(rows) > 300


def test_coaching_sessions_cover_every_enrolment_up_to_the_demo_today(seeded):
    """Every enrolment has roughly monthly sessions, none after the demo's today; OTJ hours only when attended."""
    counts = Enrolment.objects.annotate(n=Count("coaching_sessions"))
    assert min(e.n for e in counts) >= 4
    assert CoachingSession.objects.count() == seeded.coaching_sessions
    assert not CoachingSession.objects.filter(date__gt=DEMO_TODAY).exists()
    assert set(CoachingSession.objects.values_list("attendance", flat=True)) == {"attended", "cancelled", "no_show"}
    assert len(set(CoachingSession.objects.values_list("mode", flat=True))) == 3
    for session in CoachingSession.objects.select_related("enrolment"):
        assert 45 <= session.duration_minutes <= 90
        expected = Decimal(session.duration_minutes) / 60 if session.attendance == "attended" else Decimal(0)
        assert session.otj_hours == expected.quantize(Decimal("0.01"))
        assert session.coach_id == session.enrolment.coach_id
        assert session.date >= session.enrolment.start_date
        if session.enrolment.actual_end_date:
            assert session.date <= session.enrolment.actual_end_date
    attended = CoachingSession.objects.filter(attendance="attended").count()
    assert attended / CoachingSession.objects.count() > 0.75
    for enrolment in Enrolment.objects.all():
        assert 300 <= enrolment.planned_otj_hours <= 600


def test_running_twice_gives_the_same_demo(seeded):
    """A second run replaces the demo with identical data (names, ULNs, dates, grades, sessions)."""
    before = snapshot()
    ids_before = set(Learner.objects.values_list("id", flat=True))
    second = seed_demo(password=PASSWORD)
    assert snapshot() == before
    assert second.learners_replaced == 62
    assert Learner.objects.count() == 62 and Cohort.objects.count() == 6 and Team.objects.count() == 27
    assert User.objects.count() == 7
    assert not ids_before & set(Learner.objects.values_list("id", flat=True))  # replaced, not kept
    assert (second.coaching_sessions, second.status_changes) == (seeded.coaching_sessions, seeded.status_changes)


def test_it_leaves_non_demo_rows_alone(standards):
    """Learners, cohorts and sessions outside the demo survive seeding, twice."""
    other = factories.EnrolmentFactory(learner__work_email="someone@elsewhere.example.org")
    session = factories.CoachingSessionFactory(enrolment=other)
    seed_demo(password=PASSWORD)
    seed_demo(password=PASSWORD)
    other.refresh_from_db()
    assert other.learner.work_email == "someone@elsewhere.example.org"
    assert CoachingSession.objects.filter(pk=session.pk).exists()
    assert Learner.objects.count() == 63
    assert demo_enrolments().count() == 62


def test_it_refuses_when_a_non_demo_learner_holds_a_demo_identifier(standards):
    """A clash with a non-demo learner's employee number raises DemoConflict and writes nothing."""
    employee_number = demo._plan()[0].employee_number
    factories.LearnerFactory(employee_number=employee_number, work_email="real.person@county.example.org")
    with pytest.raises(DemoConflict, match="employee numbers"):
        seed_demo(password=PASSWORD)
    assert Learner.objects.count() == 1
    assert not Cohort.objects.exists() and not User.objects.exists()


def test_it_needs_the_data_standards(db):
    """Without ST0118 and ST0795 the service raises DemoStandardsMissing."""
    with pytest.raises(DemoStandardsMissing, match="load_reference_data"):
        seed_demo(password=PASSWORD)
    assert not Learner.objects.exists()


def test_the_all_snapshot_shows_46_of_50(seeded):
    """The metrics job runs once after seeding: distinction/merit 46 of 50 first attempts."""
    assert seeded.metrics_recomputed is True
    rate = CohortMetrics.objects.get(key="all").rates["distinction_merit_share"]
    assert (rate["numerator"], rate["denominator"]) == (46, 50)


def test_the_command_prints_counts_and_logins(standards):
    """``seed_demo --password`` prints what it made and each login with the password."""
    out = StringIO()
    call_command("seed_demo", password="s3cret-demo", stdout=out)
    text = out.getvalue()
    assert "learners: 62" in text and "teams: 27" in text and "46/50" in text
    for email in DEMO_EMAILS:
        assert email in text
    assert "s3cret-demo" in text
    assert User.objects.get(email="coach@example.org").check_password("s3cret-demo") is True


def test_make_run_keeps_the_demo_and_what_a_user_added_to_it(standards):
    """Was: a second ``make run`` failed ("Cannot replace the demo …") once a lead had enrolled someone."""
    call_command("seed_demo", password=PASSWORD, stdout=StringIO())
    mine = factories.EnrolmentFactory(cohort=demo_enrolments().first().cohort,
                                      learner__work_email="new.starter@county.example.org")
    out = StringIO()
    call_command("seed_demo", password=PASSWORD, keep_existing=True, stdout=out)
    assert "already here: kept" in out.getvalue() and "lead@example.org" in out.getvalue()
    assert Enrolment.objects.filter(pk=mine.pk).exists() and demo_enrolments().count() == 63

    with pytest.raises(CommandError, match="enrolments link demo and non-demo rows.*delete db.sqlite3"):
        call_command("seed_demo", password=PASSWORD, stdout=StringIO())  # make reset-demo says why, changes nothing
    assert Enrolment.objects.filter(pk=mine.pk).exists()


def test_make_run_adds_the_apprentice_and_line_manager_to_a_demo_built_before_them(standards):
    """A demo database from before the portal gets learner@ and manager@ on the next ``make run``."""
    call_command("seed_demo", password=PASSWORD, stdout=StringIO())
    User.objects.filter(email__in=["learner@example.org", "manager@example.org"]).delete()
    out = StringIO()
    call_command("seed_demo", password=PASSWORD, keep_existing=True, stdout=out)
    assert "Added the demo's apprentice and line manager sign-ins" in out.getvalue()
    apprentice = User.objects.get(email="learner@example.org")
    assert apprentice.check_password(PASSWORD) and apprentice.learner.enrolments.get().status == "active"
    assert Learner.objects.filter(line_manager__email="manager@example.org").count() >= 1
    out = StringIO()
    call_command("seed_demo", password=PASSWORD, keep_existing=True, stdout=out)
    assert "Added" not in out.getvalue()


def test_the_command_takes_the_password_from_the_environment(standards, monkeypatch):
    """Without --password the command uses $DEMO_PASSWORD."""
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-env")
    call_command("seed_demo", stdout=StringIO())
    assert User.objects.get(email="lead@example.org").check_password("from-the-env") is True


def test_the_command_defaults_the_password(standards, monkeypatch):
    """Without --password or $DEMO_PASSWORD the password is academy-demo-2026."""
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo", stdout=StringIO())
    assert User.objects.get(email="head@example.org").check_password("academy-demo-2026") is True


def test_the_command_asks_for_reference_data_when_it_cannot_load_it(db, monkeypatch):
    """Standards missing and no load_reference_data command: CommandError "Run load_reference_data first"."""
    monkeypatch.setattr(seed_demo_command, "_reference_command_available", lambda: False)
    with pytest.raises(CommandError, match="Run load_reference_data first"):
        call_command("seed_demo", stdout=StringIO())
    assert not Learner.objects.exists()


@pytest.mark.skipif(
    not seed_demo_command._reference_command_available(), reason="load_reference_data not written yet"
)
def test_the_command_loads_reference_data_when_standards_are_missing(db):
    """Standards missing: the command runs load_reference_data first, then seeds."""
    call_command("seed_demo", stdout=StringIO())
    assert Standard.objects.filter(reference__in=["ST0118", "ST0795"]).count() == 2
    assert Learner.objects.count() == 62


def test_the_import_templates_example_row_imports_into_the_demo(seeded):
    """Was: the template's own example row failed on the demo (no such cohort start, no such coach)."""
    import csv
    import io

    from cohorts.imports import pipeline
    from cohorts.imports.spreadsheet import template_rows

    headers, example = template_rows()
    buffer = io.StringIO()
    csv.writer(buffer).writerows([headers, example])
    plan = pipeline.build_plan(content=buffer.getvalue().encode(), options={})
    assert [(row.action, row.errors) for row in plan.rows] == [("new", [])]


def test_it_has_plans_and_reviews_in_every_signing_state(seeded, capsys):
    from django.core.management import call_command

    from academy.models import User
    from coaching import compliance, signing
    from coaching.models import Signature, TrainingPlan

    apprentice = User.objects.get(email="learner@example.org")
    manager = User.objects.get(email="manager@example.org")
    plans, reviews = compliance.waiting_for(apprentice)
    assert [plan.number for plan in plans] == [2] and len(reviews) == 1
    first = TrainingPlan.objects.get(enrolment=plans[0].enrolment, number=1)
    assert signing.state_of(first).complete  # version 1 stays signed by all three
    assert signing.state_of(plans[0]).label == "Awaiting the apprentice's and the line manager's signatures"
    assert signing.state_of(reviews[0]).label == "Awaiting the apprentice's and the line manager's signatures"
    manager_plans, manager_reviews = compliance.waiting_for(manager)
    assert (manager_plans, manager_reviews) == (plans, reviews)
    assert compliance.plans_unsigned().filter(plan_id__isnull=True).exists()  # some have no plan yet
    assert Signature.objects.filter(party="employer", training_plan__number=1).exists()
    call_command("verify")
    assert "every signed document is as it was signed" in capsys.readouterr().out
