"""The printable board report: headline figures with n of N and intervals, national figures with
sources, charts as PNG images from the export URLs with their data, impact, definitions, print CSS."""
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from academy.models import AuditEvent
from dashboards.report_views import figure_table
from outcomes.models import ImpactRecord
from outcomes.stats import wilson_interval
from tests import factories
from tests.dashboards.test_exports import cohort, make_snapshot  # noqa: F401  (the fixture is used by name)

REPORT = reverse("exports:board_report")


@pytest.fixture
def report_data(cohort, lead):  # noqa: F811
    make_snapshot(cohort)
    make_snapshot(None)
    team = factories.TeamFactory(name="Revenues and Benefits")
    ImpactRecord.objects.create(title="Debt resolved", kind="money", value=Decimal("3500000"), team=team,
                                evidence="Reports", date=dt.date(2026, 3, 31))
    ImpactRecord.objects.create(title="Report automated", kind="hours_per_year", value=260, evidence="Timesheets",
                                date=dt.date(2026, 6, 30))
    return cohort


def test_it_shows_headlines_with_counts_intervals_and_national_sources(client_for, head, report_data):
    response = client_for(head).get(REPORT)
    assert response.status_code == 200
    html = response.content.decode()
    low, high = wilson_interval(40, 50)
    row = html[html.index('id="report-headline-achievement_rate"'):]
    row = row[: row.index("</tr>")]
    assert "80.0%" in row and "40 of 50 leavers achieved" in row
    assert f"{low * 100:.1f}% to {high * 100:.1f}%" in row
    assert "60.5% (2023/24, DfE apprenticeship national achievement rate tables)" in row
    assert "https://explore-education-statistics.service.gov.uk/" in row
    assert "19.5 percentage points above the national rate" in row
    dm = html[html.index('id="report-headline-distinction_merit_share"'):]
    assert "92.0%" in dm[: dm.index("</tr>")] and "None published in our sources" in dm[: dm.index("</tr>")]


def test_charts_are_png_images_from_the_export_urls_with_their_data(client_for, head, report_data):
    html = client_for(head).get(REPORT).content.decode()
    sources = re.findall(r'<img class="board-report__chart" src="([^"]+)"', html)
    for name in ("grades", "distinction-merit", "achievement", "first-attempt", "coaching"):
        assert reverse("exports:chart", kwargs={"name": name}) in sources
    assert "Data: Achievement rate by cohort" in html
    assert all(src.startswith("/dashboard/exports/chart/") and src.split("?")[0].endswith(".png") for src in sources)


def test_the_images_it_points_at_are_pngs(client_for, head, report_data, settings):  # noqa: F811
    settings.ACADEMY_CHART_RENDERER = "matplotlib"
    client = client_for(head)
    html = client.get(REPORT).content.decode()
    first = re.search(r'<img class="board-report__chart" src="([^"]+)"', html).group(1)
    image = client.get(first.replace("&amp;", "&"))
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")


def test_it_carries_the_dashboard_filters_into_the_charts(client_for, lead, report_data):
    html = client_for(lead).get(REPORT, {"level": "4"}).content.decode()
    assert "This report covers only:" in html and "Level: 4" in html
    sources = re.findall(r'<img class="board-report__chart" src="([^"]+)"', html)
    assert sources and all(src.endswith("?level=4") for src in sources)
    assert AuditEvent.objects.get(action="export", detail__export="board-report").detail["filters"]["level"] == 4


def test_it_shows_impact_value_for_the_levy_and_definitions(client_for, head, report_data):
    html = client_for(head).get(REPORT).content.decode()
    assert "£3,500,000" in html and "260 hours a year" in html
    assert 'id="report-levy"' in html and "Funding-band value of enrolments" in html
    assert "The Wilson score interval" in html and "n of N" in html
    assert "Achievers divided by leavers" in html


def test_the_print_stylesheet_hides_navigation(client_for, head, report_data):
    html = client_for(head).get(REPORT).content.decode()
    assert 'href="/static/css/print.css"' in html
    css = (Path(settings.BASE_DIR) / "static" / "css" / "print.css").read_text()
    block = css[css.index("@media print"):]
    for selector in (".govuk-header", ".govuk-service-navigation", ".govuk-breadcrumbs", ".govuk-footer",
                     ".govuk-button", ".govuk-skip-link"):
        assert selector in block
    assert "display: none !important" in block
    assert "break-inside: avoid" in block


@pytest.mark.parametrize("role,status", [("coach", 403), ("lead", 200), ("head", 200)])
def test_who_may_see_the_report(client_for, coach, lead, head, report_data, role, status):
    user = {"coach": coach, "lead": lead, "head": head}[role]
    assert client_for(user).get(REPORT).status_code == status


def test_without_metrics_it_says_so(client_for, lead, db):
    html = client_for(lead).get(REPORT).content.decode()
    assert "The all-cohorts figures have not been computed yet." in html
    assert "No cohort has been computed yet, so there are no charts." in html


def test_figure_table_reads_vertical_and_horizontal_bars():
    figure = {"data": [{"type": "bar", "name": "Enrolled", "orientation": "h", "x": [3, 1], "y": ["A", "B"]},
                       {"type": "bar", "name": "Completed", "orientation": "h", "x": [2], "y": ["A"]}]}
    assert figure_table(figure) == {"columns": ["Enrolled", "Completed"], "rows": [("A", [3, 2]), ("B", [1, None])]}


def test_figure_table_writes_categories_as_text_not_plotly_markup():
    """Wrapped names lose their <br> (was printed 12 times on the board report); date axes read as months."""
    cohorts = {"data": [{"type": "bar", "name": "Coaching<br>hours", "x": ["Data Technician L3<br>January 2024"],
                         "y": [4]}]}
    assert figure_table(cohorts) == {"columns": ["Coaching hours"], "rows": [("Data Technician L3 January 2024", [4])]}
    months = {"layout": {"xaxis": {"type": "date"}},
              "data": [{"type": "bar", "name": "Started", "x": ["2025-03-01", "2025-04-01"], "y": [2, 0]}]}
    assert figure_table(months)["rows"] == [("March 2025", [2]), ("April 2025", [0])]
