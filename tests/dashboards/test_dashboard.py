"""The dashboard, its CSV export, its charts and the national benchmark pages.

Snapshots are built directly with ``make_snapshot`` (the shape ``outcomes.metrics`` writes);
one end-to-end test runs the real metrics job over factory data.
"""
import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboards.charts import coaching_hours_figure, grade_distribution_figure, rate_interval_figure
from dashboards.presentation import dashboard_summary
from outcomes.models import CohortMetrics, NationalBenchmark
from outcomes.stats import binomial_test, wilson_interval
from tests import factories

COMPUTED_AT = dt.datetime(2026, 11, 29, 10, 15, tzinfo=dt.timezone.utc)  # GMT in November: 10:15 in London
DASHBOARD = reverse("outcomes:dashboard")
EXPORT = reverse("outcomes:export_csv")
BENCHMARKS = reverse("outcomes:benchmark_list")
NEW_BENCHMARK = reverse("outcomes:benchmark_create")
RECOMPUTE = reverse("outcomes:recompute")

CSV_HEADER = (
    "cohort,standard,level,enrolled,leavers,achievers,achievement_rate,achievement_ci_low,achievement_ci_high,"
    "national_achievement_rate,epa_completed,distinction,merit,pass,fail,distinction_merit_rate,dm_ci_low,dm_ci_high,"
    "first_attempt_pass_rate,national_first_attempt_pass_rate,national_source"
)

NARTS = {
    "id": 1,
    "rate": 0.605,
    "academic_year": "2023/24",
    "period": "",
    "scope": "all",
    "scope_label": "all standards",
    "population": "Standards - all",
    "source": "DfE apprenticeship national achievement rate tables",
    "source_url": "https://explore-education-statistics.service.gov.uk/",
}
OFQUAL = {
    "id": 2,
    "rate": 0.897,
    "academic_year": "2023/24",
    "period": "March 2023 to February 2024",
    "scope": "all",
    "scope_label": "all standards",
    "population": "",
    "source": "Ofqual apprenticeship end-point assessment statistics",
    "source_url": "https://www.gov.uk/government/collections/end-point-assessment-statistics",
}


def rate_entry(numerator: int, denominator: int, benchmark: dict | None = None) -> dict:
    """Return one ``rates`` entry as ``outcomes.metrics`` writes it (Wilson interval, exact binomial test)."""
    entry = {
        "numerator": numerator,
        "denominator": denominator,
        "rate": None,
        "ci_low": None,
        "ci_high": None,
        "year": "2025/26" if denominator else None,
        "small": denominator < 5,
        "benchmark": benchmark,
        "difference": None,
        "p_value": None,
        "significant": None,
    }
    if denominator:
        low, high = wilson_interval(numerator, denominator)
        entry.update(rate=round(numerator / denominator, 6), ci_low=round(low, 6), ci_high=round(high, 6))
        if benchmark:
            p_value = binomial_test(numerator, denominator, benchmark["rate"])
            entry.update(
                difference=round(numerator / denominator - benchmark["rate"], 4),
                p_value=float(f"{p_value:.4g}"),
                significant=p_value < 0.05,
            )
    return entry


def make_snapshot(cohort=None, *, dm=(46, 50), achievement=(40, 50), first_attempt=(49, 50), benchmarks=True, **counts):
    """Create a ``CohortMetrics`` row for ``cohort`` (or all cohorts) with D/M, achievement and pass counts.

    ``dm`` and ``first_attempt`` share the denominator (completed first-attempt EPAs).
    With ``benchmarks``, achievement is compared with NARTs 60.5% and first-attempt pass
    with Ofqual 89.7%; the D/M share never has a benchmark (none is published).
    """
    epa = dm[1]
    distinction = dm[0] // 2
    fields = {
        "enrolled": 60,
        "active": 5,
        "on_break": 1,
        "at_gateway_or_epa": 2,
        "completed": 45,
        "withdrawn": 7,
        "leavers": achievement[1],
        "achievers": achievement[0],
        "epa_completed": epa,
        "distinction": distinction,
        "merit": dm[0] - distinction,
        "passed": first_attempt[0] - dm[0],
        "failed": epa - first_attempt[0],
        "coaching_sessions": 120,
        "coaching_hours": Decimal("90.00"),
        "otj_hours_logged": Decimal("1200.00"),
        "otj_hours_planned": Decimal("2400.00"),
    }
    fields.update(counts)
    return CohortMetrics.objects.create(
        cohort=cohort,
        key=f"cohort:{cohort.pk}" if cohort else "all",
        computed_at=COMPUTED_AT,
        rates={
            "achievement_rate": rate_entry(*achievement, NARTS if benchmarks else None),
            "first_attempt_pass_rate": rate_entry(*first_attempt, OFQUAL if benchmarks else None),
            "distinction_merit_share": rate_entry(*dm),
        },
        **fields,
    )


def headline(html: str, measure: str) -> str:
    """Return the HTML of one headline measure's section."""
    start = html.index(f'id="headline-{measure}"')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def cohort(db):
    standard = factories.StandardFactory(reference="ST0118", title="Data analyst", level=4)
    return factories.CohortFactory(name="Data Analyst L4 — January 2024", standard=standard)


@pytest.fixture
def snapshots(cohort):
    return [make_snapshot(cohort), make_snapshot(None)]


# --- Access ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["lead", "head"])
def test_it_shows_leads_and_heads_of_data_the_headline_figures(request, client_for, snapshots, persona):
    """Leads and heads of data see the all-cohorts D/M share with n of N, its interval and when computed."""
    response = client_for(request.getfixturevalue(persona)).get(DASHBOARD)

    assert response.status_code == 200
    html = response.content.decode()
    dm = headline(html, "distinction_merit_share")
    assert "92.0%" in dm
    assert "46 of 50 completed first-attempt EPAs" in dm
    assert "95% confidence interval: 81.2% to 96.8%" in dm
    assert "Last computed: 29 November 2026 at 10:15" in html
    assert "Data Analyst L4 — January 2024" in html
    assert "Definitions" in html


@pytest.mark.parametrize("url", [DASHBOARD, EXPORT, BENCHMARKS, NEW_BENCHMARK])
def test_it_forbids_coaches(client_for, coach, snapshots, url):
    assert client_for(coach).get(url).status_code == 403


def test_it_forbids_coaches_and_heads_to_recompute(client_for, coach, head):
    assert client_for(coach).post(RECOMPUTE).status_code == 403
    assert client_for(head).post(RECOMPUTE).status_code == 403


@pytest.mark.parametrize("url", [DASHBOARD, EXPORT, BENCHMARKS, NEW_BENCHMARK])
def test_it_sends_anonymous_users_to_sign_in(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_heads_of_data_see_benchmarks_but_cannot_add_them(client_for, head):
    factories.NationalBenchmarkFactory(source="DfE apprenticeship national achievement rate tables")
    client = client_for(head)

    listing = client.get(BENCHMARKS)

    assert listing.status_code == 200
    assert "60.5%" in listing.content.decode()
    assert "Add a national benchmark" not in listing.content.decode()
    assert client.get(NEW_BENCHMARK).status_code == 403
    assert client.post(NEW_BENCHMARK, {}).status_code == 403


# --- Figures and statistics rules ---------------------------------------------------------


def test_it_compares_each_rate_only_with_a_national_figure_of_its_own_measure(client_for, lead, snapshots):
    """Achievement sits beside NARTs 60.5%, first-attempt pass beside Ofqual 89.7%, D/M beside nothing."""
    html = client_for(lead).get(DASHBOARD).content.decode()

    achievement = headline(html, "achievement_rate")
    assert "80.0%" in achievement and "40 of 50 leavers achieved" in achievement
    assert "60.5% (2023/24, all standards)" in achievement
    assert f'href="{NARTS["source_url"]}"' in achievement and NARTS["source"] in achievement
    assert "19.5 percentage points above the national rate" in achievement
    assert "Statistically significant (exact binomial test, p = 0.005)" in achievement

    first = headline(html, "first_attempt_pass_rate")
    assert "98.0%" in first and "49 of 50 first-attempt EPAs passed" in first
    assert "89.7% (2023/24, March 2023 to February 2024, all standards)" in first
    assert OFQUAL["source"] in first
    assert "8.3 percentage points above the national rate" in first

    dm = headline(html, "distinction_merit_share")
    assert "No national distinction and merit figure is published" in dm
    assert "60.5%" not in dm and "89.7%" not in dm and "percentage points" not in dm


def test_it_compares_distinction_merit_with_a_benchmark_a_lead_added(client_for, lead, cohort):
    snapshot = make_snapshot(None)
    added = {**NARTS, "id": 9, "rate": 0.5, "source": "Awarding body annual report"}
    snapshot.rates["distinction_merit_share"] = rate_entry(46, 50, added)
    snapshot.save()

    dm = headline(client_for(lead).get(DASHBOARD).content.decode(), "distinction_merit_share")

    assert "50.0% (2023/24, all standards)" in dm
    assert "Awarding body annual report" in dm
    assert "42.0 percentage points above the national rate" in dm
    assert "No national distinction and merit figure is published" not in dm


def test_it_says_no_results_yet_for_an_empty_denominator(client_for, lead, cohort):
    make_snapshot(cohort, dm=(0, 0), first_attempt=(0, 0), achievement=(0, 0))
    make_snapshot(None, dm=(0, 0), first_attempt=(0, 0), achievement=(0, 0))

    html = client_for(lead).get(DASHBOARD).content.decode()

    for measure in ("distinction_merit_share", "achievement_rate", "first_attempt_pass_rate"):
        section = headline(html, measure)
        assert "No results yet" in section
        assert "0.0%" not in section and "percentage points" not in section


def test_it_says_too_few_to_compare_for_a_small_denominator(client_for, lead, cohort):
    make_snapshot(cohort, dm=(3, 4), first_attempt=(4, 4), achievement=(3, 4))
    make_snapshot(None, dm=(3, 4), first_attempt=(4, 4), achievement=(3, 4))

    html = client_for(lead).get(DASHBOARD).content.decode()

    achievement = headline(html, "achievement_rate")
    assert "75.0%" in achievement and "3 of 4 leavers achieved" in achievement
    assert "Too few to compare (fewer than 5)" in achievement
    assert "significant" not in achievement
    assert "Too few to compare (fewer than 5)" in headline(html, "distinction_merit_share")


def test_it_says_when_no_benchmark_is_loaded(client_for, lead, cohort):
    make_snapshot(None, benchmarks=False)

    html = client_for(lead).get(DASHBOARD).content.decode()

    assert "No national achievement rate is loaded" in headline(html, "achievement_rate")
    assert "No national first-attempt epa pass rate is loaded" in headline(html, "first_attempt_pass_rate")


def test_it_explains_how_to_compute_when_there_are_no_snapshots(client_for, lead, head):
    lead_page = client_for(lead).get(DASHBOARD).content.decode()
    head_page = client_for(head).get(DASHBOARD).content.decode()

    assert "Metrics have not been computed yet" in lead_page
    assert "Recompute now" in lead_page and "recompute_metrics" in lead_page
    assert "Metrics have not been computed yet" in head_page
    assert "Recompute now" not in head_page


def test_it_passes_the_charts_as_json_and_loads_plotly_from_static(client_for, lead, snapshots):
    response = client_for(lead).get(DASHBOARD)
    html = response.content.decode()

    figures = response.context["figures"]
    assert set(figures) == {
        "chart-grades", "chart-distinction-merit", "chart-achievement", "chart-pass-rate", "chart-first-attempt",
        "chart-coaching",
    }
    assert '<script id="dashboard-figures" type="application/json">' in html
    assert "vendor/plotly/plotly.min.js" in html and "js/dashboard.js" in html
    # No script or stylesheet from another host (no CDN): every src/href is site-relative.
    assert re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', html) == []
    assert html.count("Show the data for this chart") == 6


def test_dashboard_query_count_does_not_grow_with_cohorts(client_for, lead):
    """Two cohorts or twenty: the same queries.

    The queries: 1. the session, 2. the signed-in user, 3. every snapshot with its
    cohort and standard (``select_related("cohort__standard")``); 4–5. the user's model
    permissions (leads are staff, and navigation asks for one a lead lacks, so
    ``academy.auth_backends.StaffModelBackend`` loads them once);
    6–9. the filter form's choices: standards with cohorts, cohorts, teams, coaches; then
    the session save (``SESSION_SAVE_EVERY_REQUEST``): 10. SAVEPOINT, 11. UPDATE
    django_session, 12. RELEASE; 13. the business impact totals (one grouped
    query, ``outcomes.impact.impact_totals``); 14. the dashboard generation (the cache key,
    ``dashboards.cache``). Partials other pages add (navigation,
    export extras) may add a fixed query or two, so the count is compared, not pinned.
    """
    client = client_for(lead)

    def count_queries(n_cohorts: int) -> int:
        CohortMetrics.objects.all().delete()
        for _ in range(n_cohorts):
            make_snapshot(factories.CohortFactory())
        make_snapshot(None)
        cache.clear()  # measure the page as built, not as served from the dashboard cache
        with CaptureQueriesContext(connection) as queries:
            response = client.get(DASHBOARD)
        assert response.status_code == 200
        assert len(response.context["cohort_rows"]) == n_cohorts
        return len(queries)

    two, twenty = count_queries(2), count_queries(20)
    assert two == twenty
    assert twenty <= 17


# --- CSV export ------------------------------------------------------------------------


def _export(client) -> tuple[object, list[dict], list[str]]:
    response = client.get(EXPORT)
    assert response.content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, as every download"
    text = response.content.decode("utf-8-sig")
    header = text.splitlines()[0]
    return response, list(csv.DictReader(io.StringIO(text))), header


def test_it_exports_one_row_per_cohort_then_all_cohorts(client_for, head, snapshots):
    response, rows, header = _export(client_for(head))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="academy-dashboard-')
    assert header == CSV_HEADER
    assert [row["cohort"] for row in rows] == ["Data Analyst L4 — January 2024", "All cohorts"]
    cohort_row, total = rows
    assert cohort_row["standard"] == "ST0118" and cohort_row["level"] == "4"
    assert total["standard"] == "ST0118" and total["level"] == "4"
    assert total["distinction_merit_rate"] == "0.9200"
    assert (total["dm_ci_low"], total["dm_ci_high"]) == ("0.8116", "0.9685")
    assert total["achievement_rate"] == "0.8000"
    assert total["national_achievement_rate"] == "0.6050"
    assert total["first_attempt_pass_rate"] == "0.9800"
    assert total["national_first_attempt_pass_rate"] == "0.8970"
    assert (total["epa_completed"], total["distinction"], total["merit"], total["pass"], total["fail"]) == (
        "50", "23", "23", "3", "1"
    )
    assert total["national_source"] == (
        "Achievement rate: DfE apprenticeship national achievement rate tables (2023/24); "
        "First-attempt pass rate: Ofqual apprenticeship end-point assessment statistics (2023/24)"
    )


def test_it_leaves_cells_empty_without_a_denominator_or_benchmark(client_for, lead, cohort):
    make_snapshot(cohort, dm=(0, 0), first_attempt=(0, 0), achievement=(3, 6), benchmarks=False)
    make_snapshot(None, dm=(0, 0), first_attempt=(0, 0), achievement=(3, 6), benchmarks=False)

    _, rows, _ = _export(client_for(lead))

    total = rows[-1]
    assert total["achievement_rate"] == "0.5000"
    for column in (
        "national_achievement_rate", "distinction_merit_rate", "dm_ci_low", "dm_ci_high",
        "first_attempt_pass_rate", "national_first_attempt_pass_rate", "national_source",
    ):
        assert total[column] == "", column


def test_it_guards_the_export_against_formula_injection(client_for, lead):
    cohort = factories.CohortFactory(name="=HYPERLINK(\"http://evil.example\")")
    make_snapshot(cohort)

    _, rows, _ = _export(client_for(lead))

    assert rows[0]["cohort"] == "'=HYPERLINK(\"http://evil.example\")"


# --- Charts ----------------------------------------------------------------------------


def _chart_rows(*snapshots):
    return dashboard_summary(snapshots)["cohorts"]


def test_grade_chart_stacks_first_attempt_grades_per_cohort(cohort):
    other = factories.CohortFactory(name="Data Engineer L5 — 2025")
    rows = _chart_rows(make_snapshot(cohort), make_snapshot(other, dm=(2, 10), first_attempt=(7, 10)))

    figure = grade_distribution_figure(rows)

    assert figure["layout"]["barmode"] == "stack"
    assert [trace["name"] for trace in figure["data"]] == ["Distinction", "Merit", "Pass", "Fail"]
    assert [trace["y"] for trace in figure["data"]] == [[23, 1], [23, 1], [3, 5], [1, 3]]
    # Full names, wrapped at the " — " so plotly never cuts them.
    assert figure["data"][0]["x"] == ["Data Analyst L4<br>January 2024", "Data Engineer L5<br>2025"]
    json.dumps(figure)  # JSON-safe for json_script


def test_rate_chart_draws_intervals_and_the_national_line(cohort):
    rows = _chart_rows(make_snapshot(cohort))

    figure = rate_interval_figure(rows, "achievement_rate")

    points, national = figure["data"]
    assert points["y"] == [80.0]
    assert points["error_y"]["array"] == [round((0.8876 - 0.8) * 100, 2)]
    assert points["error_y"]["arrayminus"] == [round((0.8 - 0.6696) * 100, 2)]
    assert national["mode"] == "lines" and national["y"] == [60.5]
    assert national["name"].replace("<br>", " ") == (
        "National 60.5% (2023/24, DfE apprenticeship national achievement rate tables)")
    assert all(len(line) <= 60 for line in national["name"].split("<br>"))  # the legend entry wraps


def test_a_national_line_is_drawn_only_where_it_is_every_cohorts_figure(cohort):
    """Was: a level 3 pass-rate figure drawn as one line across level 4 cohorts that have none."""
    level4 = factories.CohortFactory(name="Data Analyst L4 — March 2025")
    rows = _chart_rows(make_snapshot(cohort), make_snapshot(level4, benchmarks=False))

    points, national = rate_interval_figure(rows, "achievement_rate")["data"]

    assert national["mode"] == "markers" and national["name"] == "National benchmark for the cohort"
    assert national["x"] == ["Data Analyst L4<br>January 2024"] and national["y"] == [60.5]
    assert len(points["x"]) == 2


def test_a_cohort_with_too_few_results_is_an_open_marker(cohort):
    """Was: a cohort whose only leaver withdrew plotted at 0% like any other."""
    one = make_snapshot(factories.CohortFactory(name="Data Technician L3 — September 2025"), achievement=(0, 1))
    rows = _chart_rows(make_snapshot(cohort), one)

    points = rate_interval_figure(rows, "achievement_rate")["data"][0]

    assert points["y"] == [80.0, 0.0]
    assert points["marker"]["symbol"] == ["circle", "circle-open"]
    assert [c[3] for c in points["customdata"]] == ["", "<br>Too few to compare: an open marker"]
    assert points["cliponaxis"] is False
    assert figure_axis_has_room_for_100(rate_interval_figure(rows, "achievement_rate"))


def figure_axis_has_room_for_100(figure) -> bool:
    axis = figure["layout"]["yaxis"]
    return axis["range"][1] > 100 and 100 in axis["tickvals"]


def test_rate_chart_for_distinction_merit_has_no_national_line_but_a_note(cohort):
    rows = _chart_rows(make_snapshot(cohort), make_snapshot(factories.CohortFactory(), dm=(0, 0), first_attempt=(0, 0)))

    figure = rate_interval_figure(rows, "distinction_merit_share")

    assert len(figure["data"]) == 1
    assert figure["data"][0]["y"] == [92.0]  # the cohort with no results is left out
    assert "No national distinction and merit figure is published" in figure["layout"]["title"]["subtitle"]["text"]
    assert figure["layout"]["legend"]["y"] > 1  # above the plot: never over tick labels or axis titles


def test_coaching_chart_shows_hours_per_learner(cohort):
    rows = _chart_rows(make_snapshot(cohort, enrolled=60, coaching_hours=Decimal("90.00")))

    figure = coaching_hours_figure(rows)

    assert figure["data"][0]["type"] == "bar"
    assert figure["data"][0]["y"] == [1.5]


# --- National benchmarks ------------------------------------------------------------------

GOOD_BENCHMARK = {
    "measure": "achievement_rate",
    "scope": "all",
    "academic_year": "2023/24",
    "rate": "60.5",
    "population": "Standards - all",
    "source": "DfE apprenticeship national achievement rate tables",
    "source_url": "https://explore-education-statistics.service.gov.uk/",
}


def test_a_lead_adds_a_benchmark_as_a_percentage(client_for, lead):
    client = client_for(lead)

    response = client.post(NEW_BENCHMARK, {**GOOD_BENCHMARK, "academic_year": "2023-24"}, follow=True)

    benchmark = NationalBenchmark.objects.get()
    assert benchmark.rate == Decimal("0.6050")
    assert benchmark.academic_year == "2023/24"
    assert benchmark.scope_key == "all"
    assert response.redirect_chain == [(BENCHMARKS, 302)]
    assert "Benchmark added" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"rate": "160"}, "rate", "Rate must be between 0 and 100"),
        ({"rate": "-1"}, "rate", "Rate must be between 0 and 100"),
        ({"rate": ""}, "rate", "Enter the rate as a percentage, for example 60.5"),
        ({"academic_year": "2023"}, "academic_year", "Academic year must look like 2023/24"),
        ({"source": ""}, "source", "Enter the source of the figure"),
        ({"scope": "level"}, "level", "Enter the level this benchmark is for."),
        ({"scope": "standard"}, "standard", "Choose the standard this benchmark is for."),
        ({"level": "4"}, "level", "Leave level empty for an all-standards benchmark"),
        ({"numerator": "10", "denominator": "5"}, "numerator", "Numerator cannot be more than the denominator"),
    ],
)
def test_the_benchmark_form_names_the_field_in_error(client_for, lead, changes, field, message):
    response = client_for(lead).post(NEW_BENCHMARK, {**GOOD_BENCHMARK, **changes})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()
    assert "There is a problem" in response.content.decode()
    assert not NationalBenchmark.objects.exists()


def test_the_benchmark_form_rejects_a_second_benchmark_for_the_same_measure_scope_and_year(client_for, lead):
    factories.NationalBenchmarkFactory(measure="achievement_rate", scope="all", academic_year="2023/24")

    response = client_for(lead).post(NEW_BENCHMARK, GOOD_BENCHMARK)

    assert response.status_code == 200
    assert response.context["form"].errors["academic_year"] == [
        "Academic year: a achievement rate benchmark for this scope and 2023/24 already exists"
    ]
    assert NationalBenchmark.objects.count() == 1


def test_the_benchmark_form_accepts_a_standard_benchmark(client_for, lead, cohort):
    data = {**GOOD_BENCHMARK, "scope": "standard", "standard": str(cohort.standard_id), "rate": "58.25"}

    response = client_for(lead).post(NEW_BENCHMARK, data)

    assert response.status_code == 302
    benchmark = NationalBenchmark.objects.get()
    assert (benchmark.standard_id, benchmark.level, benchmark.rate) == (cohort.standard_id, None, Decimal("0.5825"))


# --- End to end with the metrics job ---------------------------------------------------------


def test_the_dashboard_shows_what_the_metrics_job_computed(client_for, lead, cohort, django_capture_on_commit_callbacks):
    """Factory data → ``recompute_metrics`` → the dashboard and the export agree with the counts."""
    from outcomes.metrics import recompute_metrics

    factories.NationalBenchmarkFactory(
        measure="achievement_rate", academic_year="2023/24", rate=Decimal("0.6050"), source="DfE NARTs"
    )
    grades = ["distinction", "distinction", "merit", "merit", "merit", "pass", "fail"]
    for grade in grades:
        enrolment = factories.EnrolmentFactory(cohort=cohort, status="end_point_assessment")
        factories.AssessmentResultFactory(enrolment=enrolment, grade=grade)
    factories.EnrolmentFactory(cohort=cohort)

    recompute_metrics()
    client = client_for(lead)
    html = client.get(DASHBOARD).content.decode()

    dm = headline(html, "distinction_merit_share")
    assert "71.4%" in dm and "5 of 7 completed first-attempt EPAs" in dm
    assert "No national distinction and merit figure is published" in dm
    assert "85.7%" in headline(html, "first_attempt_pass_rate")
    _, rows, _ = _export(client)
    assert rows[-1]["cohort"] == "All cohorts"
    assert rows[-1]["distinction_merit_rate"] == "0.7143"
    assert rows[0]["enrolled"] == "8"


def test_recompute_now_queues_the_job_and_returns_to_the_dashboard(client_for, lead, cohort, django_capture_on_commit_callbacks):
    factories.EnrolmentFactory(cohort=cohort)
    client = client_for(lead)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RECOMPUTE)

    assert response.status_code == 302 and response["Location"].startswith(DASHBOARD + "?run=")
    assert CohortMetrics.objects.filter(key="all", enrolled=1).exists()
    assert "being recomputed" in client.get(DASHBOARD).content.decode()


def test_the_dashboard_loads_only_static_scripts_that_exist(client_for, lead, snapshots):
    """No inline script or event handler (strict CSP); every script and style it names is in static/."""
    import re

    from django.contrib.staticfiles import finders

    html = client_for(lead).get(DASHBOARD).content.decode()

    for path in ("vendor/plotly/plotly.min.js", "js/dashboard.js", "css/dashboard.css"):
        assert finders.find(path), path
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts), scripts
    assert not re.search(r"\son[a-z]+=", html)


# --- Pagination (the page does not grow with the number of cohorts) ------------------------


def test_the_overview_shows_25_cohorts_a_page_newest_first_with_the_headline_for_all(client_for, head):
    start = dt.date(2020, 1, 6)
    cohorts = [
        factories.CohortFactory(name=f"Intake {i:02d}", start_date=start + dt.timedelta(weeks=i)) for i in range(30)
    ]
    for cohort in cohorts:
        make_snapshot(cohort)
    make_snapshot(None, dm=(999, 1500), first_attempt=(1400, 1500))
    client = client_for(head)

    first = client.get(DASHBOARD)
    labels = [row["label"] for row in first.context["cohort_rows"]]
    assert labels == [f"Intake {i:02d}" for i in range(29, 4, -1)]
    assert first.context["overall"]["rates"]["distinction_merit_share"].numerator == 999
    html = first.content.decode()
    assert "Showing cohorts 1 to 25 of 30, newest first." in html
    assert 'class="govuk-pagination"' in html and "?page=2" in html
    grades = first.context["figures"]["chart-grades"]["data"][0]
    assert len(grades["x"]) == 25

    second = client.get(DASHBOARD + "?page=2")
    assert [row["label"] for row in second.context["cohort_rows"]] == [f"Intake {i:02d}" for i in range(4, -1, -1)]
    assert "Showing cohorts 26 to 30 of 30, newest first." in second.content.decode()
    # A page past the end shows the last page rather than failing.
    assert client.get(DASHBOARD + "?page=99").context["page"].number == 2


def test_the_page_links_keep_the_filters(client_for, head):
    standard = factories.StandardFactory()
    for i in range(27):
        cohort = factories.CohortFactory(standard=standard, start_date=dt.date(2021, 1, 4) + dt.timedelta(days=i))
        factories.EnrolmentFactory(cohort=cohort)
    response = client_for(head).get(DASHBOARD + f"?standard={standard.pk}")
    assert response.context["source"] == "live"
    assert len(response.context["cohort_rows"]) == 25
    assert f"standard={standard.pk}&amp;page=2" in response.content.decode() or (
        f"page=2&amp;standard={standard.pk}" in response.content.decode()
    )


def test_the_headline_says_cohorts_are_compared_where_only_the_total_has_no_national_figure(client_for, head, cohort):
    """Was: "No national … is loaded" above a chart comparing cohorts with their level's figure."""
    make_snapshot(cohort)  # compared with NARTs 60.5% (achievement) and Ofqual 89.7% (first attempt)
    make_snapshot(None, benchmarks=False)
    body = client_for(head).get(DASHBOARD).content.decode()
    assert ("No national achievement rate for all standards together is loaded, so this total is not compared. "
            "Cohorts are compared with the figure for their own standard or level") in body
    assert "No national achievement rate is loaded, so this rate is not compared" not in body
    assert "No national pass rate is loaded, so this rate is not compared" in body  # no cohort has one either
