"""The dashboard's pages: filters in the URL, standards and levels, trends, teams, coaching, recompute progress,
benchmark editing; bad input; query counts that do not grow with the data.

The academy is ``academy_world`` from ``tests/dashboards/test_metrics_live.py`` (its docstring gives every
hand-computed figure).
"""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cohorts.models import Cohort
from dashboards import readers
from dashboards.filters import parse_filters
from dashboards.presentation import rate_view, verdict_text
from outcomes import metrics
from outcomes.filters import DashboardFilters
from outcomes.models import CohortMetrics, MetricsRun, NationalBenchmark
from tests import factories as f
from tests.dashboards.test_metrics_live import academy_world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("outcomes:dashboard")
STANDARDS = reverse("outcomes:dashboard_standards")
TRENDS = reverse("outcomes:dashboard_trends")
TEAMS = reverse("outcomes:dashboard_teams")
COACHING = reverse("outcomes:dashboard_coaching")
PAGES = [DASHBOARD, STANDARDS, TRENDS, TEAMS, COACHING]


def text(response) -> str:
    """Return the page's visible text, tags removed and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- Filters -----------------------------------------------------------------------------


def test_parse_filters_reads_every_filter_from_the_url(academy_world):
    w = academy_world
    filters, form = parse_filters({"from": "01/08/2024", "to": "2025-07-31", "standard": str(w["S1"].pk),
                                   "level": "4", "cohort": str(w["A"].pk), "team": str(w["finance"].pk),
                                   "coach": str(w["bob"].pk)})
    assert not form.errors
    assert filters == DashboardFilters(
        date_from=dt.date(2024, 8, 1), date_to=dt.date(2025, 7, 31), standard_id=w["S1"].pk, level=4,
        cohort_id=w["A"].pk, team_id=w["finance"].pk, coach_id=w["bob"].pk,
        standard_label=str(w["S1"]), cohort_label="A", team_label="Finance", coach_label="Bob Coach",
    )
    assert filters.querystring == (
        f"from=01%2F08%2F2024&to=31%2F07%2F2025&standard={w['S1'].pk}&level=4&cohort={w['A'].pk}"
        f"&team={w['finance'].pk}&coach={w['bob'].pk}"
    )


@pytest.mark.parametrize(
    "query, message",
    [
        ({"cohort": "999999"}, "Choose a cohort from the list: the cohort in the address does not exist"),
        ({"cohort": "abc"}, "Choose a cohort from the list: the cohort in the address does not exist"),
        ({"team": "999999"}, "Choose a team from the list: the team in the address does not exist"),
        ({"coach": "999999"}, "Choose a coach from the list: the coach in the address does not exist"),
        ({"standard": "999999"}, "Choose a standard from the list: the standard in the address does not exist"),
        ({"level": "9"}, "Choose a level from 2 to 7"),
        ({"from": "31/02/2026"}, "From must be a real date, like 01/08/2025"),
        ({"to": "yesterday"}, "To must be a real date, like 31/07/2026"),
        ({"from": "01/08/2025", "to": "31/07/2025"}, "The end date must be the same as or after the start date"),
    ],
)
@pytest.mark.parametrize("url", PAGES)
def test_bad_filters_give_a_clear_message_and_the_unfiltered_page(client_for, head, academy_world, query, message,
                                                                  url):
    metrics.recompute_metrics()
    response = client_for(head).get(url, query)

    assert response.status_code == 200
    assert response.context["filters"] == DashboardFilters()  # unfiltered
    page = text(response)
    assert "There is a problem" in page and message in page
    assert "The filters were not applied, so this page shows every cohort" in page
    assert response.context["filter_form"].errors


def test_a_team_filter_shows_only_that_teams_learners_and_says_so(client_for, head, academy_world):
    w = academy_world
    metrics.recompute_metrics()
    response = client_for(head).get(DASHBOARD, {"team": w["housing"].pk})

    assert response.context["source"] == "live"
    assert [row["label"] for row in response.context["cohort_rows"]] == ["C"]
    assert response.context["overall"]["enrolled"] == 8
    page = text(response)
    assert "Showing only: Team: Housing" in page
    assert "Computed just now from the current records for the filters above" in page


def test_the_tabs_carry_the_filters_across_pages(client_for, head, academy_world):
    w = academy_world
    response = client_for(head).get(TRENDS, {"team": w["housing"].pk, "from": "01/08/2024"})
    hrefs = {tab["label"]: tab["url"] for tab in response.context["tabs"]}
    assert hrefs["Teams"] == f"{TEAMS}?from=01%2F08%2F2024&team={w['housing'].pk}"
    assert hrefs["Overview"].startswith(DASHBOARD + "?")
    assert [tab["current"] for tab in response.context["tabs"]] == [False, False, True, False, False]


def test_the_unfiltered_overview_reads_the_snapshots(client_for, head, academy_world):
    metrics.recompute_metrics()
    response = client_for(head).get(DASHBOARD)
    assert response.context["source"] == "snapshot"
    assert "Last computed:" in text(response)


# --- Standards and levels ------------------------------------------------------------------


def test_the_standards_page_says_which_national_figure_each_row_used(client_for, head, academy_world):
    """Fallback order: the standard's own figure, else its level's, else all standards'."""
    w = academy_world
    M = NationalBenchmark.Measure.ACHIEVEMENT_RATE
    f.NationalBenchmarkFactory(measure=M, scope="all", academic_year="2023/24", rate=Decimal("0.6050"),
                               source="NARTs all")
    f.NationalBenchmarkFactory(measure=M, scope="standard", standard=w["S2"], academic_year="2023/24",
                               rate=Decimal("0.4500"), source="NARTs ST0795")
    f.NationalBenchmarkFactory(measure="pass_rate", scope="level", level=4, academic_year="2023/24",
                               rate=Decimal("0.9000"), source="NARTs level 4")
    metrics.recompute_metrics()

    response = client_for(head).get(STANDARDS)

    sections = {s["measure"]: s for s in response.context["sections"]}
    rows = {row["label"]: row for row in sections["achievement_rate"]["rows"]}
    s2_total = rows["Data technician (ST0795), level 3: all cohorts"]
    assert s2_total["scope_text"] == "For the standard"
    assert s2_total["rate"].fraction_text == "3 of 5"
    assert rows["C"]["scope_text"] == "For the standard"
    s1_total = rows["Data analyst (ST0118), level 4: all cohorts"]
    assert s1_total["scope_text"] == "For all standards (none published for the standard or its level for 2023/24)"
    assert s1_total["rate"].benchmark["source"] == "NARTs all"
    assert s1_total["rate"].fraction_text == "0 of 4"
    assert rows["A"]["verdict"] == "No results yet"
    pass_rows = {row["label"]: row for row in sections["pass_rate"]["rows"]}
    assert pass_rows["B"]["scope_text"] == "For level 4 (none published for the standard for 2023/24)"
    assert pass_rows["C"]["verdict"] == "No national figure loaded"
    page = text(response)
    assert "For level 4 (none published for the standard for 2023/24)" in page
    # One forest plot per measure, each with the national tick per row where a figure applies.
    forest = response.context["figures"]["forest-achievement-rate"]
    assert forest["data"][0]["name"] == "Rate (95% interval)"
    assert forest["data"][1]["name"] == "National figure used for the row"
    assert forest["data"][1]["x"][0] in (60.5, 45.0)
    assert set(response.context["figures"]) == {
        "forest-distinction-merit-share", "forest-achievement-rate", "forest-pass-rate",
        "forest-first-attempt-pass-rate",
    }


@pytest.mark.parametrize(
    "numerator, denominator, national, expected",
    [
        # 9 of 10 against 55%: by hand, P(X=9)+P(X=10)+P(X=0)+P(X=1) = 0.0207+0.0025+0.0003+0.0042 = 0.0278.
        (9, 10, 0.55, "35.0 percentage points above the national rate; statistically significant "
                      "(exact binomial test, p = 0.028)"),
        # 10 of 12 against 60%: p = 0.1408, not significant.
        (10, 12, 0.60, "23.3 percentage points above the national rate; not statistically significant "
                       "(exact binomial test, p = 0.141)"),
        # 2 of 20 against 60.5%: far below, p < 0.001.
        (2, 20, 0.605, "50.5 percentage points below the national rate; statistically significant "
                       "(exact binomial test, p < 0.001)"),
        # 3 of 4: too few to compare, whatever the difference.
        (3, 4, 0.10, "Too few to compare (fewer than 5)"),
        (0, 0, 0.60, "No results yet"),
    ],
)
def test_the_significance_verdict_on_known_cases(numerator, denominator, national, expected):
    benchmark = NationalBenchmark(measure="achievement_rate", scope="all", academic_year="2023/24",
                                  rate=Decimal(str(national)), source="Test")
    entry = metrics.rate_summary(numerator=numerator, denominator=denominator, year="2024/25",
                                 benchmark=benchmark, small_below=5)
    assert verdict_text(rate_view("achievement_rate", entry)) == expected


# --- Trends, teams, coaching --------------------------------------------------------------


def test_the_trends_page_shows_intake_and_results_by_month_and_dm_by_cohort(client_for, head, academy_world):
    response = client_for(head).get(TRENDS)
    months = {m["label"]: m for m in response.context["months"]}
    assert months["January 2024"]["started"] == 7
    assert months["June 2024"]["failed"] == 4
    assert months["June 2025"]["distinction"] == 1
    figures = response.context["figures"]
    assert set(figures) == {"chart-intake", "chart-results-month", "chart-dm-over-time"}
    over_time = figures["chart-dm-over-time"]["data"][0]
    # B (all fails, 0%) and C (2 of 3); A has no results and is left out.
    assert over_time["x"] == ["2024-01-15", "2024-09-02"] and over_time["y"] == [0.0, 66.67]
    page = text(response)
    assert "Intake and first-attempt results by month" in page and "January 2024 7" in page


def test_the_teams_page_lists_every_team_and_those_not_yet_taking_part(client_for, head, academy_world):
    response = client_for(head).get(TEAMS)
    rows = {row["label"]: row for row in response.context["team_rows"]}
    assert set(rows) == {"Finance", "Housing"}
    assert (rows["Finance"]["enrolled"], rows["Finance"]["completed"], rows["Finance"]["failed"]) == (7, 4, 4)
    assert (rows["Housing"]["enrolled"], rows["Housing"]["withdrawn"]) == (8, 2)
    assert rows["Housing"]["rates"]["distinction_merit_share"].fraction_text == "2 of 3"
    assert response.context["not_taking_part"] == ["Archives"]
    page = text(response)
    assert "2 of 3 teams take part" in page
    assert "1 team with no enrolments: Archives" in page


def test_the_teams_table_sorts_compares_with_national_and_says_too_few_once(client_for, head, academy_world):
    """Was: "too few to compare" up to four times a row, no national column, no sorting."""
    client = client_for(head)
    by_name = [row["label"] for row in client.get(TEAMS).context["team_rows"]]
    assert by_name == ["Finance", "Housing"]
    response = client.get(TEAMS, {"sort": "-enrolled"})
    assert [row["label"] for row in response.context["team_rows"]] == ["Housing", "Finance"]  # 8, then 7
    headers = {h["key"]: h for h in response.context["sort_headers"]}
    assert headers["enrolled"]["aria_sort"] == "descending" and headers["enrolled"]["url"] == "?sort=enrolled"
    assert headers["name"]["aria_sort"] == "none" and headers["achievement"]["url"] == "?sort=-achievement"
    page = text(response)
    assert page.count("too few to compare") == 1  # said once, in the table's caption
    assert "2 of 3" in page  # a small rate shows its counts only
    assert "National figure" in page
    assert client.get(TEAMS, {"sort": "nonsense"}).status_code == 200


def test_the_coaching_page_gives_sessions_and_hours_per_learner_by_cohort_and_coach(client_for, head,
                                                                                    academy_world):
    response = client_for(head).get(COACHING)
    cohorts = {row["label"]: row for row in response.context["cohort_rows"]}
    assert (cohorts["A"]["coaching_sessions"], cohorts["A"]["coaching_hours"]) == (2, 2.0)
    assert cohorts["A"]["sessions_per_learner"] == pytest.approx(2 / 3)
    assert cohorts["C"]["hours_per_learner"] == pytest.approx(1.5 / 8)
    coaches = {row["label"]: row for row in response.context["coach_rows"]}
    assert (coaches["Bob Coach"]["enrolled"], coaches["Bob Coach"]["coaching_sessions"]) == (11, 3)
    assert coaches["Bob Coach"]["hours_per_learner"] == pytest.approx(3.5 / 11)
    assert coaches["Carol Coach"]["sessions_per_learner"] == 0
    page = text(response)
    assert "0.7 2 ÷ 3" in page  # sessions per learner with its numerator and denominator
    assert coaches["Bob Coach"]["risk"]["in_learning"] == 4


@pytest.mark.parametrize("url", PAGES)
def test_page_query_count_does_not_grow_with_cohorts_learners_or_sessions(client_for, head, url):
    """Two small cohorts, or ten with more learners and sessions: the same number of queries, filtered or not."""
    client = client_for(head)
    team = f.TeamFactory(name="Finance")

    def build(n_cohorts, learners, sessions):
        for _ in range(n_cohorts):
            cohort = f.CohortFactory()
            for i in range(learners):
                e = f.EnrolmentFactory(cohort=cohort, learner=f.LearnerFactory(team=team),
                                       status="completed", actual_end_date=dt.date(2025, 6, 1))
                f.AssessmentResultFactory(enrolment=e, grade="merit" if i % 2 else "fail", date=dt.date(2025, 5, 1))
                for _ in range(sessions):
                    f.CoachingSessionFactory(enrolment=e)
        metrics.recompute_metrics()

    def count(params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        assert response.status_code == 200
        return len(queries)

    build(2, 1, 1)
    small = [count({}), count({"team": team.pk, "from": "01/01/2024"})]
    build(8, 3, 3)
    large = [count({}), count({"team": team.pk, "from": "01/01/2024"})]
    assert small == large


# --- Recompute with progress ----------------------------------------------------------------


def test_recompute_shows_queued_then_done_with_the_computed_time(client_for, lead, academy_world,
                                                                 django_capture_on_commit_callbacks):
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("outcomes:recompute"), {"team": academy_world["housing"].pk})
    location = response["Location"]
    assert location.startswith(DASHBOARD + f"?team={academy_world['housing'].pk}&run=")
    run_id = location.rsplit("run=", 1)[1]
    status_url = reverse("outcomes:recompute_status", args=[run_id])

    queued = client.get(status_url)
    assert queued.context["state"]["status"] == "queued"
    assert 'hx-trigger="load delay:2s"' in queued.content.decode()  # keeps polling

    metrics.recompute_metrics()
    done = client.get(status_url)
    assert done.context["state"]["status"] == "done"
    assert "hx-trigger" not in done.content.decode()  # stops polling
    computed = CohortMetrics.objects.get(key="all").computed_at
    assert done.context["computed_text"] in text(done) and computed is not None

    page = client.get(location)
    assert f'hx-get="{status_url}"' in page.content.decode()


def test_a_running_recompute_says_so(client_for, lead, academy_world):
    run = MetricsRun.objects.create(queued_at=dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.timezone.utc),
                                    started_at=dt.datetime(2026, 11, 29, 10, 0, 5, tzinfo=dt.timezone.utc))
    response = client_for(lead).get(reverse("outcomes:recompute_status", args=[run.pk]))
    assert response.context["state"]["status"] == "running"


def test_an_unknown_run_says_it_is_not_tracked(client_for, lead):
    response = client_for(lead).get(reverse("outcomes:recompute_status", args=["nope"]))
    assert response.status_code == 200 and "no longer tracked" in response.content.decode()


# --- Editing one benchmark ------------------------------------------------------------------


def test_a_lead_edits_a_benchmark_and_sees_its_history(client_for, lead, head):
    benchmark = f.NationalBenchmarkFactory(rate=Decimal("0.6050"), source="DfE")
    url = reverse("outcomes:benchmark_edit", args=[benchmark.pk])
    client = client_for(lead)

    form_page = client.get(url)
    assert form_page.context["form"]["rate"].value() == Decimal("60.5")

    response = client.post(url, {"measure": "achievement_rate", "scope": "all", "academic_year": "2023/24",
                                 "rate": "60.1", "source": "DfE NARTs 2023/24 revised"})
    assert response.status_code == 302
    benchmark.refresh_from_db()
    assert benchmark.rate == Decimal("0.6010") and benchmark.source == "DfE NARTs 2023/24 revised"
    history = client.get(url).context["history"]
    assert [h.rate for h in history] == [Decimal("0.6010"), Decimal("0.6050")]
    assert history[0].history_user == lead
    assert client_for(head).get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_every_chart_is_a_valid_plotly_figure(academy_world, client_for, head, url):
    """The figures are built without plotly's validation on each request; here plotly validates each one."""
    import plotly.graph_objects as go

    metrics.recompute_metrics()
    figures = client_for(head).get(url).context["figures"]
    assert figures
    for figure in figures.values():
        go.Figure(figure)  # raises ValueError on any invalid property


def test_cohort_team_and_coach_become_text_inputs_above_200_and_take_a_name_or_number(academy_world, monkeypatch):
    from academy import forms as academy_forms
    from dashboards import filters as filters_module

    monkeypatch.setattr(academy_forms, "SELECT_LIMIT", 1)
    cohort = Cohort.objects.order_by("-start_date", "name").first()  # the most recent
    form = filters_module.DashboardFilterForm()
    html = str(form["cohort"])
    assert 'type="text"' in html and "<datalist" in html and "<select" not in html
    assert html.count("<option") == 1  # the most recent cohort only, at this limit

    by_name, _ = parse_filters({"cohort": cohort.name.upper()})
    assert by_name.cohort_id == cohort.pk
    by_number, _ = parse_filters({"cohort": str(cohort.pk)})
    assert by_number.cohort_id == cohort.pk
    unknown, form = parse_filters({"cohort": "No such intake"})
    assert unknown.cohort_id is None
    assert form.errors["cohort"] == ["No cohort is called “No such intake”: enter its name exactly as listed, or its number"]
    missing, form = parse_filters({"cohort": "999999"})
    assert form.errors["cohort"] == ["No cohort has the number 999999: enter its name exactly as listed, or its number"]


def test_stored_standard_totals_match_the_totals_of_every_cohort_snapshot(academy_world):
    """The standards page sums snapshots in SQL; it must give what summing the snapshot objects gives."""
    from outcomes.benchmarking import load_benchmarks

    metrics.recompute_metrics()
    benchmarks = load_benchmarks()
    expected = readers.standard_totals(readers.stored_snapshots(), benchmarks)
    got = readers.stored_standard_totals(benchmarks)
    assert set(got) == set(expected) and got
    fields = (*metrics.COUNT_FIELDS, *metrics.HOUR_FIELDS)
    for standard_id, snapshot in expected.items():
        assert {n: getattr(got[standard_id], n) for n in fields} == {n: getattr(snapshot, n) for n in fields}
        assert got[standard_id].rates == snapshot.rates


def test_the_csv_export_follows_the_dashboard_filters(client_for, head, academy_world):
    """The overview's CSV carries its filters: only the filtered cohorts, and All cohorts over the filtered set."""
    import csv
    import io

    w = academy_world
    metrics.recompute_metrics()
    client = client_for(head)
    page = client.get(DASHBOARD, {"team": w["housing"].pk})
    assert f'{reverse("outcomes:export_csv")}?team={w["housing"].pk}' in page.content.decode()

    filtered = client.get(reverse("outcomes:export_csv"), {"team": w["housing"].pk})
    rows = list(csv.DictReader(io.StringIO(filtered.content.decode("utf-8-sig"))))
    assert [r["cohort"] for r in rows] == ["C", "All cohorts"]
    assert rows[-1]["enrolled"] == "8"  # as the filtered page's headline (test above)

    everything = list(csv.DictReader(io.StringIO(client.get(reverse("outcomes:export_csv")).content.decode("utf-8-sig"))))
    assert len(everything) > len(rows)
    bad = list(csv.DictReader(io.StringIO(client.get(reverse("outcomes:export_csv"), {"team": "nope"}).content.decode("utf-8-sig"))))
    assert bad == everything  # invalid filters: the unfiltered file, as the page shows the unfiltered figures
