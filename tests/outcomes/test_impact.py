"""Business impact: recording, totals by kind and team, value for the levy, the demo's records."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.template import Context, RequestContext, Template
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demo.seed import seed_impact_records
from outcomes import impact
from outcomes.impact import annual_levy, format_impact, format_money, impact_totals, levy_value
from outcomes.metrics import recompute_metrics
from outcomes.models import ImpactRecord
from tests import factories

LIST = reverse("impact:list")
NEW = reverse("impact:create")
LEVY = reverse("impact:levy")
Kind = ImpactRecord.Kind


def make(kind, value, team=None, title="Impact", date=dt.date(2026, 3, 31)):
    return ImpactRecord.objects.create(title=title, kind=kind, value=Decimal(str(value)), team=team,
                                       evidence="Measured", date=date)


@pytest.fixture
def teams(db):
    return factories.TeamFactory(name="Revenues and Benefits"), factories.TeamFactory(name="Children's Safeguarding")


def test_money_is_formatted_in_pounds():
    assert format_money(Decimal("3500000")) == "£3,500,000"
    assert format_money(Decimal("1234.5")) == "£1,234.50"
    assert format_money(None) == "unknown"
    assert format_impact(Kind.HOURS_PER_YEAR, Decimal("260.00")) == "260 hours a year"
    assert format_impact(Kind.TIME_REDUCED, Decimal("50")) == "50%"


def test_totals_add_money_and_hours_but_not_percentages(teams):
    revenues, safeguarding = teams
    make(Kind.MONEY, 3500000, revenues)
    make(Kind.MONEY, 250000.50, revenues)
    make(Kind.HOURS_PER_YEAR, 260, safeguarding)
    make(Kind.TIME_REDUCED, 50, safeguarding)
    make(Kind.TIME_REDUCED, 20)
    with CaptureQueriesContext(connection) as ctx:
        totals = impact_totals()
    assert len(ctx.captured_queries) == 1  # grouped by team and kind
    by_kind = {t.kind: t for t in totals["by_kind"]}
    assert by_kind[Kind.MONEY].total == Decimal("3750000.50") and by_kind[Kind.MONEY].text == "£3,750,000.50"
    assert by_kind[Kind.HOURS_PER_YEAR].text == "260 hours a year"
    assert by_kind[Kind.TIME_REDUCED].total is None
    assert by_kind[Kind.TIME_REDUCED].text == "2 records, up to 50%"
    assert totals["count"] == 5
    assert [t.team for t in totals["by_team"]] == ["Children's Safeguarding", "Revenues and Benefits", "No team"]
    safeguarding_totals = {t.kind: t.text for t in totals["by_team"][0].totals}
    assert safeguarding_totals == {Kind.MONEY: "None recorded", Kind.HOURS_PER_YEAR: "260 hours a year",
                                   Kind.TIME_REDUCED: "1 record, up to 50%"}


def test_the_database_refuses_a_percentage_above_100(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        make(Kind.TIME_REDUCED, 101)


# --- Pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("role,status", [("coach", 403), ("lead", 200), ("head", 200)])
def test_who_may_read_impact(client_for, coach, lead, head, role, status):
    user = {"coach": coach, "lead": lead, "head": head}[role]
    assert client_for(user).get(LIST).status_code == status
    assert client_for(user).get(LEVY).status_code == status


def test_only_leads_may_record_or_change_impact(client_for, head, coach, teams):
    record = make(Kind.MONEY, 1, teams[0])
    for user in (head, coach):
        assert client_for(user).get(NEW).status_code == 403
        assert client_for(user).post(NEW, {"title": "x"}).status_code == 403
        assert client_for(user).get(reverse("impact:edit", args=[record.pk])).status_code == 403
    assert ImpactRecord.objects.count() == 1


def test_a_lead_records_impact_with_its_learners(client_for, lead, teams):
    revenues = teams[0]
    first = factories.LearnerFactory(team=revenues, employee_number="001565")
    second = factories.LearnerFactory(team=revenues, employee_number="002001")
    response = client_for(lead).post(NEW, {
        "title": "Debt resolved", "kind": "money", "value": "3500000", "team": revenues.pk, "date": "31/03/2026",
        "evidence": "Recovery reports for 12 months", "link": "intranet.example.org/report",
        "employee_numbers": "001565, 002001\n001565",
    })
    assert response.status_code == 302 and response["Location"] == LIST
    record = ImpactRecord.objects.get()
    assert (record.title, record.kind, record.value, record.team, record.date, record.recorded_by) == (
        "Debt resolved", "money", Decimal("3500000.00"), revenues, dt.date(2026, 3, 31), lead)
    assert record.link == "https://intranet.example.org/report"
    assert set(record.learners.all()) == {first, second}
    page = client_for(lead).get(LIST).content.decode()
    assert "£3,500,000" in page and "Debt resolved" in page and "31 March 2026" in page


def test_the_form_names_unknown_learners_and_a_percentage_above_100(client_for, lead, db):
    response = client_for(lead).post(NEW, {
        "title": "Faster", "kind": "time_reduced", "value": "150", "date": "30/09/2026", "evidence": "Minutes",
        "employee_numbers": "X1 X2",
    })
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["value"] == ["A time reduction must be a percentage from 0 to 100"]
    assert errors["employee_numbers"] == ["No learner has employee number X1, X2"]
    assert ImpactRecord.objects.count() == 0


def test_a_lead_changes_a_record_and_the_history_says_who(client_for, lead, teams):
    record = make(Kind.HOURS_PER_YEAR, 200, teams[1], title="Report automated")
    learner = factories.LearnerFactory(team=teams[1], employee_number="003003")
    url = reverse("impact:edit", args=[record.pk])
    form = client_for(lead).get(url)
    assert form.status_code == 200
    response = client_for(lead).post(url, {
        "title": "Report automated", "kind": "hours_per_year", "value": "260", "team": teams[1].pk,
        "date": "30/06/2026", "evidence": "5 hours a week × 52", "employee_numbers": "003003",
    })
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.value == Decimal("260.00") and list(record.learners.all()) == [learner]
    latest = record.history.first()
    assert latest.value == Decimal("260.00") and latest.history_user == lead


def test_the_list_query_count_does_not_grow(client_for, head, teams):
    for n in range(3):
        make(Kind.MONEY, n, teams[0])
    client = client_for(head)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for n in range(20):
        make(Kind.HOURS_PER_YEAR, n, teams[n % 2])
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(few.captured_queries) == len(many.captured_queries)


# --- Value for the levy ---------------------------------------------------------------


@pytest.fixture
def academy(teams):
    """Two enrolments on ST0118 (band £15,000), one on ST0795 (band unknown); £3.5m, 260 hours, 50%."""
    analyst = factories.StandardFactory(reference="ST0118", title="Data analyst", level=4, max_funding_gbp=15000)
    technician = factories.StandardFactory(reference="ST0795", title="Data technician", level=3,
                                           max_funding_gbp=None)
    factories.EnrolmentFactory.create_batch(2, cohort__standard=analyst)
    factories.EnrolmentFactory(cohort__standard=technician, status="withdrawn", withdrawal_reason="44",
                               actual_end_date=dt.date(2024, 6, 1))
    make(Kind.MONEY, 3500000, teams[0])
    make(Kind.HOURS_PER_YEAR, 260, teams[1])
    make(Kind.TIME_REDUCED, 50)


def test_value_for_the_levy_counts_known_bands_and_leaves_unknown_ones_out(academy):
    with CaptureQueriesContext(connection) as ctx:
        value = levy_value()
    assert len(ctx.captured_queries) == 2  # enrolments by standard; impact by team and kind
    assert value.band_value_gbp == Decimal("30000")
    assert (value.enrolments_counted, value.enrolments_unknown_band) == (2, 1)
    assert [(b.reference, b.enrolments, b.band_gbp, b.value_gbp) for b in value.standards] == [
        ("ST0118", 2, 15000, 30000), ("ST0795", 1, None, None)]
    assert value.notes == ["Data technician (ST0795): funding band unknown in our data, so its 1 enrolment is left "
                           "out of the funding-band value."]
    assert value.money_impact_gbp == Decimal("3500000.00")
    assert value.ratio == Decimal("3500000") / Decimal("30000")
    assert value.ratio_text == "£116.67 recorded for every £1 of funding-band value"
    assert value.hours_per_year == Decimal("260.00") and value.hours_value_gbp is None
    assert any("full funding band" in a for a in value.assumptions)


def test_the_impact_page_says_what_the_academy_has_done(client_for, head, academy):
    """Reach, results against national, training delivered and the funding-band value with what it leaves out."""
    html = client_for(head).get(LIST).content.decode()
    assert "once the metrics have been computed" in html  # before the first metrics run
    factories.NationalBenchmarkFactory(measure="achievement_rate", scope="all", academic_year="2023/24", rate="0.605",
                                       source="DfE NARTs 2023/24")
    recompute_metrics()
    with CaptureQueriesContext(connection) as ctx:
        reach = impact.programme_reach()
    assert len(ctx.captured_queries) == 2
    assert (reach.enrolled, reach.in_learning, reach.withdrawn, reach.teams_reached, reach.teams_total) == (3, 2, 1, 3, 5)
    assert (reach.achievement["numerator"], reach.achievement["denominator"]) == (0, 1)
    html = client_for(head).get(LIST).content.decode()
    section = html[html.index('id="reach"'):html.index("Impact recorded")]
    assert "3 enrolments from 3 of 5 teams: 0 completed, 2 still learning, 1 withdrawn" in section
    assert "0.0%</strong> (0 of 1 leavers achieved)" in section and "National: 60.5% (2023/24" in section
    assert "No completed end-point assessments yet." in section
    assert "£30,000 at most: 2 enrolments" in section
    assert "1 of 3 enrolments are left out of this total" in section


def test_hours_are_valued_only_with_an_hourly_cost(academy):
    assert levy_value(hourly_cost_gbp=Decimal("25.50")).hours_value_gbp == Decimal("6630.00")
    with override_settings(ACADEMY_HOURLY_COST_GBP="20"):
        assert impact.default_hourly_cost() == Decimal("20")


def test_the_annual_levy_is_half_a_percent_less_the_allowance():
    assert annual_levy(Decimal("250000000")) == Decimal("1235000.00")
    assert annual_levy(Decimal("3000000")) == Decimal("0.00")
    assert annual_levy(Decimal("1000000")) == Decimal("0.00")


def test_the_levy_page_shows_the_figures_assumptions_and_unknown_band(client_for, head, academy):
    page = client_for(head).get(LEVY).content.decode()
    assert "£30,000" in page and "£3,500,000" in page
    assert "£116.67 recorded for every £1 of funding-band value" in page
    assert "Unknown" in page and "Left out" in page
    assert "funding band unknown in our data" in page
    assert "Each enrolment is counted at its standard&#x27;s full funding band" in page
    assert "Not valued in pounds" in page
    # Said where the total is shown, not only in the notes (was: 27 of 62 left out unnoticed).
    warning = page.split('id="levy-left-out"')[1].split("</div>")[0]
    assert ("1 of 3 enrolments are left out of this total: the funding band of Data technician (ST0795) is not in "
            "the reference data Academy holds.") in warning


def test_the_levy_page_values_hours_at_the_cost_given_and_the_levy_for_a_pay_bill(client_for, head, academy):
    page = client_for(head).get(LEVY, {"hourly_cost": "20", "pay_bill": "250000000"}).content.decode()
    assert "Valued at £5,200 a year" in page and "the hourly cost you gave" in page
    assert "£1,235,000 on a pay bill of £250,000,000" in page


def test_the_levy_page_reports_bad_input(client_for, head, academy):
    response = client_for(head).get(LEVY, {"hourly_cost": "-3"})
    assert response.status_code == 200
    assert response.context["form"].errors["hourly_cost"] == ["Hourly cost must be 0 or more"]
    assert response.context["value"].hours_value_gbp is None


# --- Dashboard panel, navigation, demo ------------------------------------------------


def _render_panel(user) -> str:
    request = RequestFactory().get("/dashboard/")
    request.user = user
    return Template("{% load impact %}{% impact_totals_panel %}").render(RequestContext(request, {}))


def test_the_dashboard_panel_shows_totals_to_leads_and_heads_only(head, coach, teams):
    make(Kind.MONEY, 3500000, teams[0])
    html = _render_panel(head)
    assert "Business impact" in html and "£3,500,000" in html and "Revenues and Benefits" in html
    assert _render_panel(coach).strip() == ""


@pytest.mark.parametrize("role,shown", [("coach", False), ("lead", True), ("head", True)])
def test_the_navigation_links_impact_by_role(client_for, coach, lead, head, role, shown):
    from academy.context_processors import navigation

    request = RequestFactory().get("/")
    request.user = {"coach": coach, "lead": lead, "head": head}[role]
    labels = [item.label for item in navigation(request)["nav_items"]]
    assert ("Impact" in labels) is shown


def test_the_demo_records_match_the_model_customer(db, lead):
    revenues = factories.TeamFactory(name="Revenues and Benefits")
    factories.TeamFactory(name="Children's Safeguarding")
    factories.TeamFactory(name="Climate and Environment (EV infrastructure)")
    learners = factories.LearnerFactory.create_batch(3, team=revenues)
    seed_impact_records(recorded_by=lead)
    seed_impact_records(recorded_by=lead)  # replacing, not adding
    records = {r.kind: r for r in ImpactRecord.objects.select_related("team")}
    assert len(records) == 3 and ImpactRecord.objects.count() == 3
    assert (records[Kind.MONEY].value, records[Kind.MONEY].team.name) == (Decimal("3500000.00"), "Revenues and Benefits")
    assert records[Kind.MONEY].learners.count() == 2
    assert set(records[Kind.MONEY].learners.all()) <= set(learners)
    assert (records[Kind.HOURS_PER_YEAR].value, records[Kind.HOURS_PER_YEAR].team.name) == (
        Decimal("260.00"), "Children's Safeguarding")
    assert (records[Kind.TIME_REDUCED].value, records[Kind.TIME_REDUCED].team.name) == (
        Decimal("50.00"), "Climate and Environment (EV infrastructure)")
    totals = {t.kind: t.text for t in impact_totals()["by_kind"]}
    assert totals == {Kind.MONEY: "£3,500,000", Kind.HOURS_PER_YEAR: "260 hours a year",
                      Kind.TIME_REDUCED: "1 record, up to 50%"}


def test_the_dashboard_overview_shows_impact_totals_and_links_to_the_exports(client_for, head, teams):
    from tests.dashboards.test_exports import make_snapshot

    make_snapshot(factories.CohortFactory())
    make_snapshot(None)
    make(Kind.MONEY, 3500000, teams[0])
    html = client_for(head).get(reverse("outcomes:dashboard")).content.decode()
    panel = html[html.index('id="impact-panel-heading"'):]
    assert "£3,500,000" in panel and "Revenues and Benefits" in panel
    assert reverse("exports:index") in html and reverse("exports:board_report") in html
