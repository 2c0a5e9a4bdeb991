"""The metrics job: counts, rates, benchmark matching, snapshots, signals and query counts."""
import datetime as dt
import math
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from academy.changes import cohorts_changed, queue_recompute
from coaching import services as coaching_services
from cohorts import services as cohort_services
from cohorts.models import Enrolment
from outcomes import metrics as metrics_module
from outcomes.benchmarking import load_benchmarks, match_benchmark
from outcomes.metrics import frames as metrics_frames
from outcomes.metrics import job as metrics_job
from outcomes.metrics import recompute_metrics
from outcomes.models import CohortMetrics, NationalBenchmark
from outcomes.stats import wilson_interval
from outcomes.tasks import recompute_metrics as recompute_metrics_task
from tests import factories as f

pytestmark = pytest.mark.django_db

M = NationalBenchmark.Measure
START = dt.date(2024, 1, 8)
PLANNED_END = dt.date(2025, 7, 31)  # academic year 2024/25


def exact_two_sided_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial p-value by hand: sum P(X = i) over i no more likely than k (as R's binom.test)."""
    probs = [math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(n + 1)]
    return sum(q for q in probs if q <= probs[k] * (1 + 1e-7))


def make_enrolment(cohort, **kwargs):
    kwargs.setdefault("start_date", START)
    kwargs.setdefault("planned_end_date", PLANNED_END)
    return f.EnrolmentFactory(cohort=cohort, **kwargs)


def build_main_cohort(standard=None):
    """Build the worked cohort used below and return it.

    - 10 completed enrolments with a first-attempt EPA result on 1 June 2025 (2024/25):
      4 distinction, 3 merit, 2 pass, 1 fail; the failing learner passes a resit (attempt 2)
      on 1 September 2025 and ends on 15 September 2025, after the planned end (31 July
      2025), so that leaver's hybrid end year is 2025/26.
    - 2 withdrawn (ended 1 October 2024; hybrid end = planned end, 2024/25).
    - 1 in learning, 1 on a break, 1 at gateway: 15 enrolled, 400 planned OTJ hours each.
    - Sessions: 3 attended of 90 minutes with 1.5 OTJ hours each, 1 cancelled.
    """
    cohort = f.CohortFactory(standard=standard or f.StandardFactory(level=4), start_date=START)
    grades = ["distinction"] * 4 + ["merit"] * 3 + ["pass"] * 2 + ["fail"]
    enrolments = []
    for grade in grades:
        resits = grade == "fail"
        enrolment = make_enrolment(
            cohort,
            status=Enrolment.Status.COMPLETED,
            actual_end_date=dt.date(2025, 9, 15) if resits else dt.date(2025, 6, 30),
        )
        f.AssessmentResultFactory(enrolment=enrolment, grade=grade, date=dt.date(2025, 6, 1), attempt=1)
        if resits:
            f.AssessmentResultFactory(enrolment=enrolment, grade="pass", date=dt.date(2025, 9, 1), attempt=2)
        enrolments.append(enrolment)
    for _ in range(2):
        make_enrolment(
            cohort, status=Enrolment.Status.WITHDRAWN, actual_end_date=dt.date(2024, 10, 1), withdrawal_reason="44"
        )
    make_enrolment(cohort, status=Enrolment.Status.ACTIVE)
    make_enrolment(cohort, status=Enrolment.Status.BREAK_IN_LEARNING)
    make_enrolment(cohort, status=Enrolment.Status.GATEWAY)
    for enrolment in enrolments[:3]:
        f.CoachingSessionFactory(enrolment=enrolment, duration_minutes=90, otj_hours=Decimal("1.5"))
    f.CoachingSessionFactory(enrolment=enrolments[0], duration_minutes=60, attendance="cancelled", otj_hours=0)
    return cohort


def benchmark(measure, year, rate, *, scope="all", standard=None, level=None, **kwargs):
    return f.NationalBenchmarkFactory(
        measure=measure,
        academic_year=year,
        rate=None if rate is None else Decimal(rate),
        scope=scope,
        standard=standard,
        level=level,
        **kwargs,
    )


def snapshot_dict(row: CohortMetrics) -> dict:
    data = model_to_dict(row)
    data.pop("computed_at")
    return data


# --- The worked cohort ----------------------------------------------------------------


def test_it_counts_every_field_of_the_worked_cohort():
    cohort = build_main_cohort()
    recompute_metrics()
    row = CohortMetrics.objects.get(key=f"cohort:{cohort.pk}")
    assert row.cohort == cohort
    assert (row.enrolled, row.active, row.on_break, row.at_gateway_or_epa) == (15, 1, 1, 1)
    assert (row.completed, row.withdrawn, row.leavers, row.achievers) == (10, 2, 12, 10)
    assert (row.epa_completed, row.distinction, row.merit, row.passed, row.failed) == (10, 4, 3, 2, 1)
    assert row.coaching_sessions == 3
    assert row.coaching_hours == Decimal("4.50")
    assert row.otj_hours_logged == Decimal("4.50")
    assert row.otj_hours_planned == Decimal("6000.00")


def test_it_computes_rates_with_wilson_intervals_and_years():
    cohort = build_main_cohort()
    recompute_metrics()
    rates = CohortMetrics.objects.get(key=f"cohort:{cohort.pk}").rates
    assert set(rates) == {"achievement_rate", "first_attempt_pass_rate", "distinction_merit_share", "pass_rate"}
    # DfE pass rate: achievers ÷ completers (10 completed, all 10 achieved after the resit).
    assert (rates["pass_rate"]["numerator"], rates["pass_rate"]["denominator"]) == (10, 10)
    assert rates["pass_rate"]["year"] == "2025/26"

    achievement = rates["achievement_rate"]
    assert (achievement["numerator"], achievement["denominator"]) == (10, 12)
    assert achievement["rate"] == 0.833333  # stored to 6 dp; pages round once
    low, high = wilson_interval(10, 12)
    assert (achievement["ci_low"], achievement["ci_high"]) == (round(low, 6), round(high, 6))
    assert (round(low, 4), round(high, 4)) == (0.552, 0.953)
    # The resit learner ended 15/09/2025, after the planned end: hybrid end year 2025/26.
    assert achievement["year"] == "2025/26"
    assert achievement["small"] is False

    first = rates["first_attempt_pass_rate"]
    assert (first["numerator"], first["denominator"], first["rate"]) == (9, 10, 0.9)
    assert (round(first["ci_low"], 4), round(first["ci_high"], 4)) == (0.5958, 0.9821)
    assert first["year"] == "2024/25"  # the resit (2025/26) is not a first attempt

    share = rates["distinction_merit_share"]
    assert (share["numerator"], share["denominator"], share["rate"]) == (7, 10, 0.7)
    assert (round(share["ci_low"], 4), round(share["ci_high"], 4)) == (0.3968, 0.8922)
    assert share["benchmark"] is None
    assert share["difference"] is share["p_value"] is share["significant"] is None


def test_it_compares_with_the_matched_benchmark():
    standard = f.StandardFactory(level=4)
    other_standard = f.StandardFactory(level=4)
    cohort = build_main_cohort(standard)
    # Achievement rate, counted in 2025/26: no 2025/26 figure in any usable scope.
    benchmark(M.ACHIEVEMENT_RATE, "2023/24", "0.6050")
    chosen = benchmark(M.ACHIEVEMENT_RATE, "2024/25", "0.6000", population="Standards - all", source="DfE")
    benchmark(M.ACHIEVEMENT_RATE, "2026/27", "0.9000")  # later: never used
    benchmark(M.ACHIEVEMENT_RATE, "2025/26", None, scope="level", level=4)  # suppressed: skipped
    benchmark(M.ACHIEVEMENT_RATE, "2025/26", "0.1000", scope="standard", standard=other_standard)
    # First-attempt pass rate, counted in 2024/25: the level figure beats all standards.
    benchmark(M.FIRST_ATTEMPT_PASS_RATE, "2024/25", "0.8970")
    level_figure = benchmark(M.FIRST_ATTEMPT_PASS_RATE, "2024/25", "0.5500", scope="level", level=4)
    benchmark(M.FIRST_ATTEMPT_PASS_RATE, "2025/26", "0.9500", scope="standard", standard=standard)  # later

    recompute_metrics()
    rates = CohortMetrics.objects.get(key=f"cohort:{cohort.pk}").rates

    achievement = rates["achievement_rate"]
    assert achievement["benchmark"] == {
        "id": chosen.pk,
        "rate": 0.6,
        "academic_year": "2024/25",
        "period": "",
        "scope": "all",
        "scope_label": "all standards",
        "population": "Standards - all",
        "source": "DfE",
        "source_url": "",
    }
    assert achievement["difference"] == round(10 / 12 - 0.6, 6) == 0.233333
    assert achievement["p_value"] == float(f"{exact_two_sided_p(10, 12, 0.6):.4g}") == 0.1408
    assert achievement["significant"] is False

    first = rates["first_attempt_pass_rate"]
    assert first["benchmark"]["id"] == level_figure.pk
    assert first["benchmark"]["scope_label"] == "level 4"
    assert first["difference"] == 0.35
    assert first["p_value"] == float(f"{exact_two_sided_p(9, 10, 0.55):.4g}")
    assert first["p_value"] < 0.05
    assert first["significant"] is True


def test_it_uses_a_distinction_merit_figure_when_a_lead_adds_one():
    cohort = build_main_cohort()
    added = benchmark(M.DISTINCTION_MERIT_SHARE, "2024/25", "0.5400")
    recompute_metrics()
    share = CohortMetrics.objects.get(key=f"cohort:{cohort.pk}").rates["distinction_merit_share"]
    assert share["benchmark"]["id"] == added.pk
    assert share["difference"] == 0.16


def test_a_cohort_with_no_results_has_no_rates_yet():
    """An empty denominator gives rate None ("no results yet"), never 0% or an error."""
    cohort = f.CohortFactory()
    make_enrolment(cohort)
    benchmark(M.ACHIEVEMENT_RATE, "2023/24", "0.6050")
    recompute_metrics()
    row = CohortMetrics.objects.get(key=f"cohort:{cohort.pk}")
    assert (row.enrolled, row.active, row.leavers, row.epa_completed) == (1, 1, 0, 0)
    for measure in ("achievement_rate", "first_attempt_pass_rate", "distinction_merit_share", "pass_rate"):
        entry = row.rates[measure]
        assert (entry["numerator"], entry["denominator"]) == (0, 0)
        assert entry["rate"] is entry["ci_low"] is entry["ci_high"] is None
        assert entry["year"] is None
        assert entry["small"] is True
        assert entry["difference"] is entry["p_value"] is entry["significant"] is None
    # The national figure is still given for context (latest published).
    assert row.rates["achievement_rate"]["benchmark"]["academic_year"] == "2023/24"


def test_an_empty_academy_gets_only_the_all_row():
    rows = recompute_metrics()
    assert [r.key for r in rows] == ["all"]
    assert rows[0].enrolled == 0
    assert rows[0].rates["achievement_rate"]["rate"] is None


def test_a_small_cohort_says_so():
    cohort = f.CohortFactory()
    for grade in ("distinction", "pass"):
        enrolment = make_enrolment(cohort, status="completed", actual_end_date=dt.date(2025, 6, 30))
        f.AssessmentResultFactory(enrolment=enrolment, grade=grade, date=dt.date(2025, 6, 1))
    recompute_metrics()
    rates = CohortMetrics.objects.get(key=f"cohort:{cohort.pk}").rates
    assert rates["first_attempt_pass_rate"]["denominator"] == 2
    assert rates["first_attempt_pass_rate"]["small"] is True


def test_a_leaver_whose_latest_attempt_failed_is_not_an_achiever():
    cohort = f.CohortFactory()
    enrolment = make_enrolment(cohort, status="completed", actual_end_date=dt.date(2025, 6, 30))
    f.AssessmentResultFactory(enrolment=enrolment, grade="pass", date=dt.date(2025, 5, 1), attempt=1)
    f.AssessmentResultFactory(enrolment=enrolment, grade="fail", date=dt.date(2025, 6, 1), attempt=2)
    recompute_metrics()
    row = CohortMetrics.objects.get(key=f"cohort:{cohort.pk}")
    assert (row.leavers, row.achievers, row.epa_completed, row.passed) == (1, 0, 1, 1)


# --- Benchmark matching -----------------------------------------------------------------


def test_match_benchmark_prefers_the_same_year_then_the_latest_earlier_one():
    benchmark(M.ACHIEVEMENT_RATE, "2021/22", "0.5000")
    earlier = benchmark(M.ACHIEVEMENT_RATE, "2022/23", "0.5430")
    same = benchmark(M.ACHIEVEMENT_RATE, "2023/24", "0.6050")
    benchmark(M.ACHIEVEMENT_RATE, "2024/25", "0.6100")
    assert match_benchmark(measure=M.ACHIEVEMENT_RATE, academic_year="2023/24") == same
    same.rate = None  # suppressed by the publisher
    same.save()
    assert match_benchmark(measure=M.ACHIEVEMENT_RATE, academic_year="2023/24") == earlier
    assert match_benchmark(measure=M.ACHIEVEMENT_RATE, academic_year="2020/21") is None  # never a later year
    assert match_benchmark(measure=M.FIRST_ATTEMPT_PASS_RATE, academic_year="2023/24") is None  # never another measure


def test_match_benchmark_falls_back_from_standard_to_level_to_all():
    standard, other = f.StandardFactory(level=4), f.StandardFactory(level=4)
    everyone = benchmark(M.ACHIEVEMENT_RATE, "2023/24", "0.6050")
    level = benchmark(M.ACHIEVEMENT_RATE, "2023/24", "0.5800", scope="level", level=4)
    own = benchmark(M.ACHIEVEMENT_RATE, "2022/23", "0.7000", scope="standard", standard=standard)
    query = {"measure": M.ACHIEVEMENT_RATE, "academic_year": "2023/24"}
    # Year first: the standard's own 2022/23 figure does not outrank the 2023/24 ones ...
    assert match_benchmark(**query, standard_id=standard.pk, level=4) == level
    # ... but within the same year the most specific scope wins.
    own_now = benchmark(M.ACHIEVEMENT_RATE, "2023/24", "0.7100", scope="standard", standard=standard)
    assert match_benchmark(**query, standard_id=standard.pk, level=4) == own_now
    assert match_benchmark(measure=M.ACHIEVEMENT_RATE, academic_year="2022/23", standard_id=standard.pk) == own
    assert match_benchmark(**query, standard_id=other.pk, level=4) == level
    assert match_benchmark(**query, standard_id=other.pk, level=5) == everyone
    assert match_benchmark(**query) == everyone


def test_match_benchmark_with_a_preloaded_list_runs_no_query(django_assert_num_queries):
    benchmark(M.ACHIEVEMENT_RATE, "2023/24", "0.6050")
    preloaded = load_benchmarks()
    with django_assert_num_queries(0):
        found = match_benchmark(measure=M.ACHIEVEMENT_RATE, academic_year="2024/25", benchmarks=preloaded)
        assert found.scope_label == "all standards"
    assert found.academic_year == "2023/24"


# --- Snapshots --------------------------------------------------------------------------


def test_it_is_idempotent():
    build_main_cohort()
    f.CohortFactory()
    benchmark(M.ACHIEVEMENT_RATE, "2024/25", "0.6000")
    first = {r.key: snapshot_dict(r) for r in recompute_metrics()}
    second = {r.key: snapshot_dict(r) for r in recompute_metrics()}
    assert first == second
    assert CohortMetrics.objects.count() == 3
    assert {snapshot_dict(r)["id"] for r in CohortMetrics.objects.all()} == {d["id"] for d in first.values()}


def test_removing_a_cohort_removes_its_snapshot():
    kept, removed = f.CohortFactory(), f.CohortFactory()
    make_enrolment(kept)
    enrolment = make_enrolment(removed)
    recompute_metrics()
    assert CohortMetrics.objects.filter(key=f"cohort:{removed.pk}").exists()
    removed_id = removed.pk
    enrolment.delete()
    removed.delete()
    rows = recompute_metrics(cohort_id=removed_id)
    assert [r.key for r in rows] == ["all"]
    assert not CohortMetrics.objects.filter(key=f"cohort:{removed_id}").exists()
    assert CohortMetrics.objects.get(key="all").enrolled == 1
    recompute_metrics()
    assert sorted(CohortMetrics.objects.values_list("key", flat=True)) == ["all", f"cohort:{kept.pk}"]


def test_the_all_row_sums_over_cohorts():
    first = build_main_cohort(f.StandardFactory(level=4))
    second = f.CohortFactory(standard=f.StandardFactory(level=6))
    enrolment = make_enrolment(second, status="completed", actual_end_date=dt.date(2026, 9, 1))
    f.AssessmentResultFactory(enrolment=enrolment, grade="fail", date=dt.date(2026, 7, 20))
    benchmark(M.ACHIEVEMENT_RATE, "2025/26", "0.6100")
    benchmark(M.ACHIEVEMENT_RATE, "2025/26", "0.2000", scope="level", level=4)
    recompute_metrics()
    rows = {r.key: r for r in CohortMetrics.objects.all()}
    everyone = rows["all"]
    assert everyone.cohort is None
    for name in metrics_module.COUNT_FIELDS + metrics_module.HOUR_FIELDS:
        assert getattr(everyone, name) == getattr(rows[f"cohort:{first.pk}"], name) + getattr(
            rows[f"cohort:{second.pk}"], name
        ), name
    assert (everyone.leavers, everyone.achievers, everyone.epa_completed, everyone.failed) == (13, 10, 11, 2)
    achievement = everyone.rates["achievement_rate"]
    assert (achievement["numerator"], achievement["denominator"]) == (10, 13)
    assert achievement["year"] == "2026/27"  # the latest hybrid end year of any leaver
    # Cohorts of levels 4 and 6: the all row is compared with all standards, not level 4.
    assert achievement["benchmark"]["scope"] == "all"
    assert everyone.rates["first_attempt_pass_rate"]["year"] == "2025/26"  # result on 20/07/2026


def test_one_cohort_recompute_gives_the_same_all_row_as_a_full_one():
    first, second = build_main_cohort(), f.CohortFactory()
    make_enrolment(second)
    recompute_metrics()
    full = snapshot_dict(CohortMetrics.objects.get(key="all"))
    enrolment = make_enrolment(second, status="completed", actual_end_date=dt.date(2025, 6, 30))
    f.AssessmentResultFactory(enrolment=enrolment, grade="distinction", date=dt.date(2025, 6, 1))
    rows = recompute_metrics(cohort_id=second.pk)
    assert [r.key for r in rows] == ["all", f"cohort:{second.pk}"]
    partial = snapshot_dict(CohortMetrics.objects.get(key="all"))
    recompute_metrics()
    assert partial == snapshot_dict(CohortMetrics.objects.get(key="all")) != full
    assert partial["distinction"] == 5


def test_the_job_query_count_does_not_grow_with_cohorts(django_assert_max_num_queries):
    """Queries, whatever the number of cohorts (SQLite; the savepoint pair comes from the test's transaction):

    savepoint; lock the all row; cohorts; enrolments; results; sessions summed per cohort;
    other off-the-job training summed per cohort; benchmarks; delete stale snapshots; the
    stored fingerprints; upsert of what changed; bump the dashboard generation; read back;
    release savepoint.
    """

    def job_queries(n_cohorts: int) -> int:
        for _ in range(n_cohorts - CohortMetrics.objects.exclude(key="all").count()):
            enrolment = make_enrolment(f.CohortFactory(), status="completed", actual_end_date=PLANNED_END)
            f.AssessmentResultFactory(enrolment=enrolment, grade="merit", date=dt.date(2025, 6, 1))
            f.CoachingSessionFactory(enrolment=enrolment)
        benchmark(M.ACHIEVEMENT_RATE, f"{2000 + n_cohorts}/{(1 + n_cohorts) % 100:02d}", "0.6000")
        with CaptureQueriesContext(connection) as queries:
            rows = recompute_metrics()
        assert len(rows) == n_cohorts + 1
        return len(queries)

    recompute_metrics()  # the first run creates snapshots; later runs are measured
    assert job_queries(2) == job_queries(20) == 14
    with django_assert_max_num_queries(14):
        recompute_metrics()


# --- What queues the job, the task and the command -------------------------------------------


@pytest.fixture
def service_calls(monkeypatch):
    """Record each call of the service that the (eager) Celery task makes."""
    calls = []
    monkeypatch.setattr(metrics_module, "recompute_metrics", lambda *, cohort_id=None: calls.append(cohort_id) or [])
    return calls


def test_services_queue_one_recompute_per_cohort_per_transaction(
    django_capture_on_commit_callbacks, service_calls, lead
):
    """Status changes, results and sessions each say their cohort changed; the job is queued once per cohort."""
    first, second = f.CohortFactory(), f.CohortFactory()
    enrolments = [make_enrolment(first) for _ in range(3)]
    other = make_enrolment(second, status=Enrolment.Status.END_POINT_ASSESSMENT)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            for enrolment in enrolments:
                for _ in range(5):
                    cohorts_changed(enrolment.cohort_id)  # as coaching.services.log_session does
                cohort_services.move_to_gateway(enrolment=enrolment, on=dt.date.today(), by=lead)
            cohort_services.record_result(enrolment=other, grade="pass", on=dt.date.today(), by=lead)
    assert sorted(service_calls) == sorted([first.pk, second.pk])
    assert len(callbacks) == 3  # one flush for the transaction, then one queue per cohort


def test_other_off_the_job_training_recomputes_its_cohort(django_capture_on_commit_callbacks, service_calls, lead):
    """Its hours count in the snapshot's off-the-job hours logged, so logging it queues the job for its cohort."""
    enrolment = make_enrolment(f.CohortFactory())
    with django_capture_on_commit_callbacks(execute=True):
        coaching_services.log_otj_activity(enrolment=enrolment, by=lead, date=START + dt.timedelta(days=7),
                                           category="self_study", hours=Decimal("3"))
    assert service_calls == [enrolment.cohort_id]


def test_an_enrolment_edit_recomputes_its_cohort(client_for, lead, django_capture_on_commit_callbacks, service_calls):
    enrolment = make_enrolment(f.CohortFactory())
    data = {"coach": "", "start_date": enrolment.start_date.strftime("%d/%m/%Y"),
            "planned_end_date": enrolment.planned_end_date.strftime("%d/%m/%Y"),
            "planned_otj_hours": "450", "contracted_hours_per_week": "37",
            "prior_learning_reduction_hours": "0", "version": enrolment.version}
    with django_capture_on_commit_callbacks(execute=True):
        client_for(lead).post(reverse("enrolments:edit", args=[enrolment.pk]), data)
    enrolment.refresh_from_db()
    assert enrolment.planned_otj_hours == 450
    assert service_calls == [enrolment.cohort_id]


def test_a_rolled_back_change_queues_nothing(django_capture_on_commit_callbacks, service_calls):
    enrolment = make_enrolment(f.CohortFactory())
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                f.CoachingSessionFactory(enrolment=enrolment)
                cohorts_changed(enrolment.cohort_id)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert service_calls == []
    with django_capture_on_commit_callbacks(execute=True):
        cohorts_changed(enrolment.cohort_id)  # a later change still queues
    assert service_calls == [enrolment.cohort_id]


def test_rows_written_without_a_service_queue_nothing(django_capture_on_commit_callbacks, service_calls):
    """Bulk loaders (imports, the demo) write rows and queue one recompute themselves, nothing per row."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        f.CoachingSessionFactory()
    assert callbacks == []
    assert service_calls == []


def test_queue_recompute_waits_for_the_commit(django_capture_on_commit_callbacks, service_calls):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue_recompute(7)
    assert service_calls == []
    callbacks[0]()
    assert service_calls == [7]


def test_the_task_calls_the_service():
    cohort = build_main_cohort()
    assert recompute_metrics_task.name == "outcomes.tasks.recompute_metrics"
    assert recompute_metrics_task.delay(cohort.pk).get() == 2  # eager: no broker in tests
    assert CohortMetrics.objects.get(key=f"cohort:{cohort.pk}").enrolled == 15


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_updates_the_snapshot():
    """End to end with real commits: a service's change → on_commit → eager Celery task → service."""
    with transaction.atomic():
        cohort = f.CohortFactory()
        enrolment = make_enrolment(cohort, status="completed", actual_end_date=dt.date(2025, 6, 30))
        f.AssessmentResultFactory(enrolment=enrolment, grade="distinction", date=dt.date(2025, 6, 1))
        cohorts_changed(cohort.pk)
    row = CohortMetrics.objects.get(key=f"cohort:{cohort.pk}")
    assert (row.enrolled, row.distinction, row.achievers) == (1, 1, 1)
    assert CohortMetrics.objects.get(key="all").distinction == 1


def test_the_command_prints_one_line_per_snapshot(capsys):
    cohort = build_main_cohort()
    call_command("recompute_metrics")
    out = capsys.readouterr().out
    assert f"cohort:{cohort.pk} {cohort.name}: enrolled 15, distinction/merit 7/10" in out
    assert "all All cohorts: enrolled 15, distinction/merit 7/10" in out
    call_command("recompute_metrics", "--cohort", str(cohort.pk))
    assert "2 snapshot(s) written." in capsys.readouterr().out


# --- Reading and writing at scale (PostgreSQL: COPY) -----------------------------------------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")


def _world_for_copy():
    build_main_cohort()
    other = f.CohortFactory()
    enrolment = make_enrolment(other, status="completed", actual_end_date=PLANNED_END)
    f.AssessmentResultFactory(enrolment=enrolment, grade="merit", date=dt.date(2025, 6, 1))
    f.CoachingSessionFactory(enrolment=enrolment)
    benchmark(M.ACHIEVEMENT_RATE, "2024/25", "0.6000")
    return other


def test_the_job_reads_the_same_frames_through_copy_as_through_the_orm():
    """``_read_frame`` (COPY into pandas on PostgreSQL) gives exactly ``_frame``'s frame from the queryset's tuples."""
    import pandas as pd

    _world_for_copy()
    enrolments = Enrolment.objects.order_by().values_list(
        "id", "cohort_id", "status", "planned_end_date", "actual_end_date", "planned_otj_hours", "learner__team_id",
        "coach_id", "start_date",
    )
    expected = metrics_frames._frame(enrolments, metrics_frames.ENROLMENT_COLUMNS)
    got = metrics_frames._read_frame(enrolments, metrics_frames.ENROLMENT_COLUMNS)
    assert len(got) == Enrolment.objects.count() > 0
    pd.testing.assert_frame_equal(got, expected)
    empty = metrics_frames._read_frame(Enrolment.objects.filter(pk=-1).values_list(
        "id", "cohort_id", "status", "planned_end_date", "actual_end_date", "planned_otj_hours", "learner__team_id",
        "coach_id", "start_date"), metrics_frames.ENROLMENT_COLUMNS)
    assert list(empty.columns) == list(metrics_frames.ENROLMENT_COLUMNS) and empty.empty


def test_summing_sessions_per_cohort_only_gives_the_same_cohort_totals():
    import pandas as pd

    _world_for_copy()
    by_cohort = metrics_module.load_frames(sessions_by_cohort=True)["sessions"]
    full = metrics_module.load_frames()["sessions"]
    pd.testing.assert_frame_equal(metrics_module.session_totals(by_cohort), metrics_module.session_totals(full))


@postgres_only
def test_the_copy_upsert_writes_the_same_rows_and_leaves_unchanged_cohorts_alone(monkeypatch):
    other = _world_for_copy()
    expected = {r.key: snapshot_dict(r) for r in recompute_metrics()}  # bulk_create path (few rows)
    monkeypatch.setattr(metrics_job, "COPY_UPSERT_MIN", 0)
    before = dict(CohortMetrics.objects.values_list("key", "computed_at"))

    rows = recompute_metrics()
    assert {r.key: snapshot_dict(r) for r in rows} == expected
    stored = {r.key: snapshot_dict(r) for r in CohortMetrics.objects.all()}
    assert stored == expected
    after = dict(CohortMetrics.objects.values_list("key", "computed_at"))
    assert after["all"] > before["all"], "the all row carries the time of the run"
    assert {k: v for k, v in after.items() if k != "all"} == {k: v for k, v in before.items() if k != "all"}

    make_enrolment(other, status="withdrawn", actual_end_date=PLANNED_END, withdrawal_reason="44")
    rows = {r.key: r for r in recompute_metrics()}
    changed = CohortMetrics.objects.get(key=f"cohort:{other.pk}")
    assert changed.enrolled == rows[f"cohort:{other.pk}"].enrolled == 2
    assert changed.computed_at > after[f"cohort:{other.pk}"]


def test_only_changed_snapshots_and_the_all_row_are_rewritten():
    """A second run with nothing changed rewrites only the all row; a change rewrites its cohort too."""
    first = build_main_cohort()
    second = f.CohortFactory(name="Second cohort")
    make_enrolment(second, status="active")
    recompute_metrics()
    before = dict(CohortMetrics.objects.values_list("key", "computed_at"))
    fingerprints = dict(CohortMetrics.objects.values_list("key", "fingerprint"))

    recompute_metrics()
    after = dict(CohortMetrics.objects.values_list("key", "computed_at"))
    assert after["all"] > before["all"]
    assert after[f"cohort:{first.pk}"] == before[f"cohort:{first.pk}"]
    assert after[f"cohort:{second.pk}"] == before[f"cohort:{second.pk}"]

    make_enrolment(second, status="active")
    recompute_metrics()
    changed = CohortMetrics.objects.get(key=f"cohort:{second.pk}")
    assert changed.enrolled == 2
    assert changed.computed_at > after[f"cohort:{second.pk}"]
    assert changed.fingerprint != fingerprints[f"cohort:{second.pk}"] and len(changed.fingerprint) == 32
    assert CohortMetrics.objects.get(key=f"cohort:{first.pk}").computed_at == before[f"cohort:{first.pk}"]
