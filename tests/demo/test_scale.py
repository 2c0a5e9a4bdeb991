"""The synthetic academy generator (``demo.scale``) and the benchmark's safe parts.

The benchmark itself (``manage.py benchmark``) needs minutes and PostgreSQL + Redis, so
it is not run here; its pure parts are: the bare view is not mounted unless asked for,
and the load generator refuses any host that is not loopback.
"""
import datetime as dt

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from academy.models import Team, User
from academy.validators import uln_check_digit_ok
from coaching.models import CoachingSession
from cohorts.models import AssessmentResult, Cohort, Enrolment, EnrolmentStatusChange
from demo.bench.loadgen import run_load
from demo.scale import LEAD_EMAIL, SCALE_TODAY, ScaleDataExists, build_frames, generate_scale, uln_series
from learners.models import Learner
from outcomes.models import CohortMetrics
from tests import factories

pytestmark = pytest.mark.django_db
LEARNERS = 200
SEED = 7


def _standards():
    return [
        (factories.StandardFactory(reference="ST0118", level=4, typical_duration_months=24).pk, 4, 24, "Data analyst"),
        (factories.StandardFactory(reference="ST0795", level=3, typical_duration_months=18).pk, 3, 18, "Data technician"),
    ]


def _content():
    """Every generated row without ids or timestamps, keyed by natural keys, for comparing two runs."""
    return {
        "learners": sorted(Learner.objects.values_list("employee_number", "first_name", "last_name", "uln",
                                                       "team__name")),
        "enrolments": sorted(
            Enrolment.objects.values_list("learner__employee_number", "cohort__name", "coach__email", "status",
                                          "start_date", "planned_end_date", "actual_end_date", "planned_otj_hours",
                                          "withdrawal_reason")
        ),
        "results": sorted(AssessmentResult.objects.values_list("enrolment__learner__employee_number", "grade",
                                                               "date", "attempt")),
        "sessions": sorted(CoachingSession.objects.values_list("enrolment__learner__employee_number", "date",
                                                               "duration_minutes", "attendance", "otj_hours")),
        "metrics": sorted(CohortMetrics.objects.values_list("cohort__name", "enrolled", "leavers", "achievers",
                                                            "epa_completed", "coaching_sessions")
                          .filter(cohort__isnull=False)),
        "all": CohortMetrics.objects.filter(key="all").values("enrolled", "leavers", "achievers", "rates").get(),
    }


def _wipe():
    CohortMetrics.objects.all().delete()
    CoachingSession.objects.all().delete()
    AssessmentResult.objects.all().delete()
    EnrolmentStatusChange.objects.all().delete()
    Enrolment.objects.all().delete()
    Learner.objects.all().delete()
    Cohort.objects.all().delete()
    Team.objects.filter(name__startswith="Scale team").delete()
    User.objects.filter(email__endswith="@scale.example.org").delete()


def test_same_seed_gives_the_same_academy_twice():
    _standards()
    counts = generate_scale(learners=LEARNERS, seed=SEED)
    first = _content()
    _wipe()
    assert generate_scale(learners=LEARNERS, seed=SEED) == counts
    assert _content() == first
    assert counts["learners"] == LEARNERS and counts["enrolments"] == LEARNERS
    # About 10 coaching sessions per learner, as the issue asks.
    assert 8 * LEARNERS <= counts["sessions"] <= 12 * LEARNERS


def test_another_seed_gives_another_academy():
    standards = [(1, 4, 24, "Data analyst"), (2, 3, 18, "Data technician")]
    a = build_frames(learners=50, seed=1, standards=standards)
    b = build_frames(learners=50, seed=2, standards=standards)
    assert a["learners"]["last_name"].tolist() != b["learners"]["last_name"].tolist()


def test_generated_rows_are_valid():
    _standards()
    generate_scale(learners=LEARNERS, seed=SEED)
    # Model validation (fields, check constraints, clean) holds on a sample of every kind of row.
    for learner in Learner.objects.order_by("id")[:40]:
        learner.full_clean(validate_unique=False)
        assert learner.uln == "" or uln_check_digit_ok(learner.uln)
    enrolments = Enrolment.objects.select_related("coach").order_by("id")
    for enrolment in enrolments[:60]:
        enrolment.full_clean(validate_unique=False)
    for result in AssessmentResult.objects.select_related("enrolment").order_by("id")[:40]:
        result.full_clean(validate_unique=False)
    for session in CoachingSession.objects.order_by("id")[:60]:
        session.full_clean(validate_unique=False)

    # Rules that span rows: no result on a withdrawn enrolment, results only on completed
    # ones, off-the-job hours only on attended sessions, nothing dated after "today".
    assert not AssessmentResult.objects.filter(enrolment__status="withdrawn").exists()
    assert set(AssessmentResult.objects.values_list("enrolment__status", flat=True)) == {"completed"}
    assert not CoachingSession.objects.exclude(attendance="attended").exclude(otj_hours=0).exists()
    assert not CoachingSession.objects.filter(date__gt=SCALE_TODAY).exists()
    assert not Enrolment.objects.filter(actual_end_date__gt=SCALE_TODAY).exists()
    assert not Enrolment.objects.filter(status="withdrawn", withdrawal_reason="").exists()
    for status in ("completed", "withdrawn"):
        assert not Enrolment.objects.filter(status=status, actual_end_date__isnull=True).exists()
    sessions = CoachingSession.objects.select_related("enrolment")
    assert all(s.date >= s.enrolment.start_date for s in sessions)
    assert all(s.coach_id == s.enrolment.coach_id for s in sessions[:200])
    # A plausible grade mix: mostly passes, some fails, distinction and merit both present.
    grades = list(AssessmentResult.objects.filter(attempt=1).values_list("grade", flat=True))
    assert {"distinction", "merit", "pass", "fail"} <= set(grades)
    assert 0.75 <= sum(g != "fail" for g in grades) / len(grades) <= 0.97
    # Cohorts span several years of intakes.
    years = {d.year for d in Cohort.objects.values_list("start_date", flat=True)}
    assert len(years) >= 4 and min(years) >= 2019 and max(years) <= 2026
    assert User.objects.get(email=LEAD_EMAIL).is_lead


def test_metrics_compute_and_match_the_rows():
    _standards()
    generate_scale(learners=LEARNERS, seed=SEED)
    overall = CohortMetrics.objects.get(key="all")
    assert overall.enrolled == LEARNERS
    assert overall.withdrawn == Enrolment.objects.filter(status="withdrawn").count()
    assert overall.completed == Enrolment.objects.filter(status="completed").count()
    assert overall.coaching_sessions == CoachingSession.objects.filter(attendance="attended").count()
    assert overall.epa_completed == AssessmentResult.objects.filter(attempt=1).count()
    assert CohortMetrics.objects.filter(cohort__isnull=False).count() == Cohort.objects.count()
    rate = overall.rates["achievement_rate"]
    assert rate["denominator"] == overall.leavers > 0
    assert 0.4 < rate["rate"] < 0.9


def test_a_second_run_refuses_to_mix_academies():
    _standards()
    generate_scale(learners=20, seed=SEED)
    with pytest.raises(ScaleDataExists):
        generate_scale(learners=20, seed=SEED)


def test_command_prints_a_summary(capsys):
    _standards()
    call_command("generate_scale", "--learners", "30", "--seed", "3")
    captured = capsys.readouterr()
    assert "learners 30" in captured.out
    assert "writing sessions" in captured.err  # the progress bar goes to stderr
    assert Learner.objects.count() == 30


def test_ulns_pass_the_check_digit_and_are_distinct():
    ulns = uln_series(5000)
    assert len(set(ulns)) == 5000
    assert all(uln_check_digit_ok(u) for u in ulns[:: 50])
    assert np.all(np.char.str_len(ulns.astype(str)) == 10)


def test_bare_view_is_not_mounted_unless_asked_for():
    with pytest.raises(NoReverseMatch):
        reverse("bench:bare")


def test_load_generator_only_targets_loopback():
    with pytest.raises(ValueError, match="loopback"):
        run_load("http://192.0.2.1:8000/", cookie="", duration_s=0.1, warmup_s=0)


def test_scale_today_is_the_demo_today():
    assert SCALE_TODAY == dt.date(2026, 11, 29)
