"""Live (filtered) metrics, grouping by team and coach, trends and the learners-at-risk hook.

Every figure is pinned on one hand-computed academy (``academy_world``):

- cohort A (standard S1, level 4), started January 2024: 3 learners in learning, no results;
- cohort B (S1), started January 2024: 4 completed, every first attempt failed (1 June 2024);
- cohort C (standard S2, level 3), started September 2024: 1 in learning, 2 on a break in
  learning, 2 withdrawn (1 October 2024), 3 completed with distinction, merit and pass
  (1 June 2025).

Teams: Finance has A and B (7 learners), Housing has C (8), Archives none. Coaches:
Bob coaches A and C, Carol coaches B. Sessions: 2 attended (60 minutes) and 1 cancelled
on A's first learner, 1 attended (90 minutes) on C's first learner.

By hand (measure: numerator ÷ denominator):

| group | enrolled | leavers | achievers | EPAs | D+M | passed 1st | completed |
| A     | 3        | 0       | 0         | 0    | 0   | 0          | 0         |
| B     | 4        | 4       | 0         | 4    | 0   | 0          | 4         |
| C     | 8        | 5       | 3         | 3    | 2   | 3          | 3         |
| all   | 15       | 9       | 3         | 7    | 2   | 3          | 7         |
"""
import datetime as dt
from decimal import Decimal

import pytest

from cohorts.models import Enrolment
from dashboards import readers
from outcomes import metrics
from outcomes.benchmarking import load_benchmarks
from outcomes.filters import DashboardFilters
from tests import factories as f

pytestmark = pytest.mark.django_db

S = Enrolment.Status


@pytest.fixture
def academy_world(coach, other_coach):
    s1 = f.StandardFactory(reference="ST0118", title="Data analyst", level=4)
    s2 = f.StandardFactory(reference="ST0795", title="Data technician", level=3)
    finance, housing = f.TeamFactory(name="Finance"), f.TeamFactory(name="Housing")
    archives = f.TeamFactory(name="Archives")
    a = f.CohortFactory(name="A", standard=s1, start_date=dt.date(2024, 1, 8))
    b = f.CohortFactory(name="B", standard=s1, start_date=dt.date(2024, 1, 15))
    c = f.CohortFactory(name="C", standard=s2, start_date=dt.date(2024, 9, 2))

    def enrol(cohort, team, who, status=S.ACTIVE, **kwargs):
        learner = f.LearnerFactory(team=team)
        return f.EnrolmentFactory(
            cohort=cohort, learner=learner, coach=who, status=status, start_date=cohort.start_date,
            planned_end_date=cohort.start_date + dt.timedelta(days=540), **kwargs,
        )

    a_enrolments = [enrol(a, finance, coach) for _ in range(3)]
    for _ in range(4):
        e = enrol(b, finance, other_coach, S.COMPLETED, actual_end_date=dt.date(2024, 6, 30))
        f.AssessmentResultFactory(enrolment=e, grade="fail", date=dt.date(2024, 6, 1), attempt=1)
    c_first = enrol(c, housing, coach)
    for _ in range(2):
        enrol(c, housing, coach, S.BREAK_IN_LEARNING)
    for _ in range(2):
        enrol(c, housing, coach, S.WITHDRAWN, actual_end_date=dt.date(2024, 10, 1), withdrawal_reason="44")
    for grade in ("distinction", "merit", "pass"):
        e = enrol(c, housing, coach, S.COMPLETED, actual_end_date=dt.date(2025, 6, 30))
        f.AssessmentResultFactory(enrolment=e, grade=grade, date=dt.date(2025, 6, 1), attempt=1)
    for _ in range(2):
        f.CoachingSessionFactory(enrolment=a_enrolments[0], duration_minutes=60, otj_hours=Decimal("1"),
                                 date=dt.date(2024, 3, 1))
    f.CoachingSessionFactory(enrolment=a_enrolments[0], duration_minutes=60, otj_hours=0, attendance="cancelled",
                             date=dt.date(2024, 4, 1))
    f.CoachingSessionFactory(enrolment=c_first, duration_minutes=90, otj_hours=Decimal("1.5"),
                             date=dt.date(2025, 2, 1))
    return {"A": a, "B": b, "C": c, "S1": s1, "S2": s2, "finance": finance, "housing": housing,
            "archives": archives, "bob": coach, "carol": other_coach}


def by_key(snapshots):
    return {s.key: s for s in snapshots}


def fraction(snapshot, measure):
    entry = snapshot.rates[measure]
    return entry["numerator"], entry["denominator"]


def test_live_metrics_pin_every_cohort_and_the_all_row(academy_world):
    w = academy_world
    rows = by_key(readers.live_metrics(DashboardFilters())["snapshots"])
    a, b, c, all_ = rows[f"cohort:{w['A'].pk}"], rows[f"cohort:{w['B'].pk}"], rows[f"cohort:{w['C'].pk}"], rows["all"]

    # A cohort with no results: every rate "no results yet" (None), never 0%.
    assert (a.enrolled, a.active, a.leavers, a.epa_completed) == (3, 3, 0, 0)
    for measure in metrics.MEASURES:
        assert a.rates[measure]["rate"] is None and fraction(a, measure) == (0, 0)

    # A cohort where every first attempt failed: 0 of 4 everywhere, and too small to compare.
    assert (b.enrolled, b.completed, b.leavers, b.achievers, b.failed) == (4, 4, 4, 0, 4)
    assert fraction(b, "distinction_merit_share") == (0, 4)
    assert fraction(b, "first_attempt_pass_rate") == (0, 4)
    assert fraction(b, "achievement_rate") == (0, 4)
    assert fraction(b, "pass_rate") == (0, 4)
    assert b.rates["achievement_rate"]["rate"] == 0.0 and b.rates["achievement_rate"]["small"] is True

    # Breaks and withdrawals: withdrawn learners are leavers (not achievers); breaks are neither.
    assert (c.enrolled, c.active, c.on_break, c.withdrawn, c.completed) == (8, 1, 2, 2, 3)
    assert (c.leavers, c.achievers) == (5, 3)
    assert fraction(c, "distinction_merit_share") == (2, 3)
    assert fraction(c, "first_attempt_pass_rate") == (3, 3)
    assert fraction(c, "achievement_rate") == (3, 5) and c.rates["achievement_rate"]["rate"] == 0.6
    assert fraction(c, "pass_rate") == (3, 3)

    assert (all_.enrolled, all_.leavers, all_.achievers, all_.epa_completed) == (15, 9, 3, 7)
    assert fraction(all_, "distinction_merit_share") == (2, 7)
    assert fraction(all_, "achievement_rate") == (3, 9)
    assert fraction(all_, "pass_rate") == (3, 7)
    assert (all_.coaching_sessions, all_.coaching_hours) == (3, Decimal("3.50"))
    assert all_.pk is None  # live figures are never saved


def test_live_metrics_with_no_filters_match_the_stored_snapshots(academy_world):
    stored = {s.key: s for s in metrics.recompute_metrics()}
    live = by_key(readers.live_metrics(DashboardFilters())["snapshots"])
    assert set(stored) == set(live)
    for key, snapshot in stored.items():
        for name in (*metrics.COUNT_FIELDS, *metrics.HOUR_FIELDS):
            assert getattr(live[key], name) == getattr(snapshot, name), (key, name)
        assert live[key].rates == snapshot.rates


def test_a_team_filter_keeps_that_team_and_drops_cohorts_without_its_learners(academy_world):
    w = academy_world
    rows = by_key(readers.live_metrics(DashboardFilters(team_id=w["housing"].pk))["snapshots"])
    assert set(rows) == {f"cohort:{w['C'].pk}", "all"}
    assert rows["all"].enrolled == 8 and fraction(rows["all"], "distinction_merit_share") == (2, 3)


def test_a_coach_filter_counts_the_coachs_enrolments_and_sessions(academy_world):
    w = academy_world
    rows = by_key(readers.live_metrics(DashboardFilters(coach_id=w["bob"].pk))["snapshots"])
    assert set(rows) == {f"cohort:{w['A'].pk}", f"cohort:{w['C'].pk}", "all"}
    assert (rows["all"].enrolled, rows["all"].coaching_sessions, rows["all"].coaching_hours) == (11, 3, Decimal("3.50"))


def test_a_date_range_keeps_learners_in_learning_and_results_and_sessions_dated_in_it(academy_world):
    """1 January to 31 December 2025: B's learners ended in June 2024 and C's withdrawals in
    October 2024, so they are out; A (still in learning) and C's others are in; only the June
    2025 results and the February 2025 session count."""
    w = academy_world
    window = DashboardFilters(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    rows = by_key(readers.live_metrics(window)["snapshots"])
    assert set(rows) == {f"cohort:{w['A'].pk}", f"cohort:{w['C'].pk}", "all"}
    assert rows[f"cohort:{w['C'].pk}"].enrolled == 6
    assert rows["all"].enrolled == 9
    assert fraction(rows["all"], "distinction_merit_share") == (2, 3)
    assert rows["all"].coaching_sessions == 1 and rows["all"].coaching_hours == Decimal("1.50")


def test_standard_and_level_filters(academy_world):
    w = academy_world
    level_3 = by_key(readers.live_metrics(DashboardFilters(level=3))["snapshots"])
    assert set(level_3) == {f"cohort:{w['C'].pk}", "all"}
    s1 = by_key(readers.live_metrics(DashboardFilters(standard_id=w["S1"].pk))["snapshots"])
    assert set(s1) == {f"cohort:{w['A'].pk}", f"cohort:{w['B'].pk}", "all"}
    assert s1["all"].enrolled == 7


def test_group_counts_by_team_lists_teams_with_no_enrolments_as_zero(academy_world):
    w = academy_world
    frames = metrics.load_frames()
    ids = [w["archives"].pk, w["finance"].pk, w["housing"].pk]
    counts = metrics.group_counts(frames, by="team_id", index=ids)
    assert counts.loc[w["finance"].pk, ["enrolled", "completed", "epa_completed", "failed"]].tolist() == [7, 4, 4, 4]
    assert counts.loc[w["housing"].pk, ["enrolled", "completed", "withdrawn", "distinction"]].tolist() == [8, 3, 2, 1]
    assert counts.loc[w["archives"].pk, ["enrolled", "epa_completed"]].tolist() == [0, 0]
    assert counts.loc[w["finance"].pk, "coaching_sessions"] == 2


def test_group_counts_by_coach_and_standard(academy_world):
    w = academy_world
    frames = metrics.load_frames()
    coaches = metrics.group_counts(frames, by="coach_id", index=[w["bob"].pk, w["carol"].pk])
    assert coaches.loc[w["bob"].pk, ["enrolled", "coaching_sessions"]].tolist() == [11, 3]
    assert coaches.loc[w["bob"].pk, "coaching_hours"] == 3.5
    assert coaches.loc[w["carol"].pk, ["enrolled", "coaching_sessions", "failed"]].tolist() == [4, 0, 4]
    standards = metrics.group_counts(frames, by="standard_id")
    assert standards.loc[w["S1"].pk, ["enrolled", "leavers", "epa_completed"]].tolist() == [7, 4, 4]


def test_monthly_trends_count_intake_and_first_attempt_results_by_month(academy_world):
    trends = metrics.monthly_trends(metrics.load_frames())
    months = {str(month): row for month, row in trends.to_dict("index").items()}
    # Every month from the first start (January 2024) to the last result (June 2025).
    assert list(months)[0] == "2024-01" and list(months)[-1] == "2025-06" and len(months) == 18
    assert months["2024-01"]["started"] == 7
    assert months["2024-09"]["started"] == 8
    assert months["2024-06"]["failed"] == 4 and months["2024-06"]["epa_completed"] == 4
    assert (months["2025-06"]["distinction"], months["2025-06"]["merit"], months["2025-06"]["passed"]) == (1, 1, 1)
    assert months["2024-03"]["started"] == 0 and months["2024-03"]["epa_completed"] == 0


def test_monthly_trends_of_an_empty_academy_is_empty():
    assert metrics.monthly_trends(metrics.load_frames()).empty


def test_standard_totals_sum_cohorts_and_fall_back_from_standard_to_level_to_all(academy_world):
    w = academy_world
    M = "achievement_rate"
    f.NationalBenchmarkFactory(measure=M, scope="all", academic_year="2023/24", rate=Decimal("0.6050"))
    f.NationalBenchmarkFactory(measure=M, scope="level", level=3, academic_year="2023/24", rate=Decimal("0.5000"))
    f.NationalBenchmarkFactory(measure=M, scope="standard", standard=w["S2"], academic_year="2023/24",
                               rate=Decimal("0.4500"))
    f.NationalBenchmarkFactory(measure="pass_rate", scope="level", level=4, academic_year="2023/24",
                               rate=Decimal("0.9000"))
    snapshots = metrics.recompute_metrics()
    totals = readers.standard_totals(snapshots, list(load_benchmarks()))
    s1, s2 = totals[w["S1"].pk], totals[w["S2"].pk]
    assert (s1.enrolled, s1.leavers, s1.achievers) == (7, 4, 0)
    assert (s2.enrolled, s2.leavers, s2.achievers) == (8, 5, 3)
    # S2 has its own figure; S1 (level 4) has none for its standard or level: all standards.
    assert s2.rates[M]["benchmark"]["scope"] == "standard" and s2.rates[M]["benchmark"]["rate"] == 0.45
    assert s1.rates[M]["benchmark"]["scope"] == "all"
    # The pass rate for level 4 is used for S1 (no standard figure).
    assert s1.rates["pass_rate"]["benchmark"]["scope"] == "level"
    assert s2.rates["pass_rate"]["benchmark"] is None


def test_at_risk_counts_use_the_coaching_rules(academy_world):
    """Learners in learning with no session for 30 days are at risk; the share is by cohort and coach."""
    w = academy_world
    risk = readers.at_risk_counts(DashboardFilters(), today=dt.date(2026, 11, 29))
    if risk is None:
        pytest.skip("coaching.risk (the coaching issue) is not installed")
    # In learning (active): A's 3 and C's 1, all with no session for far more than 30 days.
    assert risk["total"] == (4, 4)
    assert risk["by_cohort"] == {w["A"].pk: (3, 3), w["C"].pk: (1, 1)}
    assert risk["by_coach"] == {w["bob"].pk: (4, 4)}


def test_live_metrics_query_count_does_not_grow(django_assert_num_queries):
    """Queries: cohorts frame, enrolments, results, sessions, off-the-job activities, cohort objects, benchmarks: 7."""

    def build(n):
        for _ in range(n):
            cohort = f.CohortFactory()
            for _ in range(2):
                e = f.EnrolmentFactory(cohort=cohort, status="completed", actual_end_date=dt.date(2025, 6, 1))
                f.AssessmentResultFactory(enrolment=e, grade="merit", date=dt.date(2025, 5, 1))
                f.CoachingSessionFactory(enrolment=e)

    build(2)
    with django_assert_num_queries(7):
        readers.live_metrics(DashboardFilters(level=4))
    build(10)
    with django_assert_num_queries(7):
        result = readers.live_metrics(DashboardFilters(level=4))
    assert result["snapshots"][-1].enrolled == 24
