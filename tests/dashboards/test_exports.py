"""Exports: every dashboard and impact table as CSV and XLSX, charts as PNG, and who may download (the writer: tests/academy/test_exports.py).

``make_snapshot`` writes a ``CohortMetrics`` row as the metrics job does (Wilson interval,
exact binomial test), so the exports' content can be pinned cell by cell.
"""
import csv
import datetime as dt
import io
import shutil
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from academy.models import AuditEvent
from dashboards import chart_images
from academy.exports import XLSX_CONTENT_TYPE
from outcomes.models import CohortMetrics, ImpactRecord
from outcomes.stats import binomial_test, wilson_interval
from tests import factories

COMPUTED_AT = dt.datetime(2026, 11, 29, 10, 15, tzinfo=dt.timezone.utc)
NARTS = {"id": 1, "rate": 0.605, "academic_year": "2023/24", "period": "", "scope": "all",
         "scope_label": "all standards", "source": "DfE apprenticeship national achievement rate tables",
         "source_url": "https://explore-education-statistics.service.gov.uk/"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def rate_entry(numerator: int, denominator: int, benchmark: dict | None = None) -> dict:
    """Return one ``rates`` entry as ``outcomes.metrics`` writes it."""
    entry = {"numerator": numerator, "denominator": denominator, "rate": None, "ci_low": None, "ci_high": None,
             "year": "2025/26" if denominator else None, "small": denominator < 5, "benchmark": benchmark,
             "difference": None, "p_value": None, "significant": None}
    if denominator:
        low, high = wilson_interval(numerator, denominator)
        entry.update(rate=round(numerator / denominator, 6), ci_low=round(low, 6), ci_high=round(high, 6))
        if benchmark:
            p = binomial_test(numerator, denominator, benchmark["rate"])
            entry.update(difference=round(numerator / denominator - benchmark["rate"], 4),
                         p_value=float(f"{p:.4g}"), significant=p < 0.05)
    return entry


def make_snapshot(cohort=None, *, dm=(46, 50), achievement=(40, 50), **counts) -> CohortMetrics:
    """Create a snapshot: D/M share ``dm``, achievement ``achievement`` (against NARTs 60.5%), 60 enrolled."""
    fields = {"enrolled": 60, "active": 5, "on_break": 1, "at_gateway_or_epa": 2, "completed": 45, "withdrawn": 7,
              "leavers": achievement[1], "achievers": achievement[0], "epa_completed": dm[1],
              "distinction": dm[0] // 2, "merit": dm[0] - dm[0] // 2, "passed": max(dm[1] - dm[0] - 1, 0), "failed": 1 if dm[1] else 0,
              "coaching_sessions": 120, "coaching_hours": Decimal("90.00"), "otj_hours_logged": Decimal("1200.00"),
              "otj_hours_planned": Decimal("2400.00")}
    fields.update(counts)
    return CohortMetrics.objects.create(
        cohort=cohort, key=f"cohort:{cohort.pk}" if cohort else "all", computed_at=COMPUTED_AT,
        rates={"achievement_rate": rate_entry(*achievement, NARTS),
               "first_attempt_pass_rate": rate_entry(max(dm[1] - 1, 0), dm[1]),
               "distinction_merit_share": rate_entry(*dm)},
        **fields,
    )


@pytest.fixture
def cohort(db):
    standard = factories.StandardFactory(reference="ST0118", title="Data analyst", level=4)
    return factories.CohortFactory(name="Data Analyst L4 — January 2024", standard=standard)


@pytest.fixture
def snapshots(cohort):
    """One cohort (46 of 50 D/M, 40 of 50 achieved) and the all-cohorts row (the same figures)."""
    return make_snapshot(cohort), make_snapshot(None)


def table_url(name, fmt, query=""):
    return reverse("exports:table", kwargs={"name": name, "fmt": fmt}) + query


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, so Excel reads the £ sign"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(response):
    return load_workbook(io.BytesIO(response.content)).active


# --- Dashboard tables -----------------------------------------------------------------


def test_it_exports_the_enrolments_table_as_csv(client_for, head, snapshots):
    response = client_for(head).get(table_url("enrolments", "csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="academy-enrolments-')
    assert read_csv(response) == [
        ["cohort", "standard", "standard_title", "level", "enrolled", "active", "on_break", "at_gateway_or_epa",
         "withdrawn", "completed"],
        ["Data Analyst L4 — January 2024", "ST0118", "Data analyst", "4", "60", "5", "1", "2", "7", "45"],
        ["All cohorts", "", "", "", "60", "5", "1", "2", "7", "45"],
    ]


def test_it_exports_a_rate_table_with_counts_interval_and_national_source(client_for, lead, snapshots):
    low, high = wilson_interval(40, 50)
    p = binomial_test(40, 50, 0.605)
    rows = read_csv(client_for(lead).get(table_url("achievement", "csv")))
    assert rows[0] == ["cohort", "rate", "numerator", "denominator", "ci_low", "ci_high", "national_rate",
                       "national_source", "difference_pp", "p_value", "comparison"]
    cohort_row = rows[1]
    assert cohort_row[:8] == ["Data Analyst L4 — January 2024", "0.8000", "40", "50", f"{low:.4f}", f"{high:.4f}",
                              "0.6050", "DfE apprenticeship national achievement rate tables (2023/24)"]
    assert cohort_row[8] == "19.5"
    assert float(cohort_row[9]) == pytest.approx(float(f"{p:.4g}"))
    assert cohort_row[10].startswith("Statistically significant (exact binomial test, p ")


def test_it_exports_the_results_table_as_xlsx(client_for, head, snapshots):
    response = client_for(head).get(table_url("results", "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    sheet = read_xlsx(response)
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Cohort", "Distinction and merit share", "Distinction and merit share: numerator",
                          "Distinction and merit share: denominator"]
    row = {h: c.value for h, c in zip(header, sheet[2])}
    assert row["Cohort"] == "Data Analyst L4 — January 2024"
    assert row["Distinction and merit share"] == pytest.approx(0.92)
    assert row["Distinction and merit share: numerator"] == 46
    assert row["Achievement rate: denominator"] == 50
    assert row["Coaching hours per learner"] == pytest.approx(1.5)
    assert sheet.cell(row=2, column=2).number_format == "0.0%"


def test_an_empty_denominator_is_an_empty_cell_never_zero(client_for, lead, cohort):
    make_snapshot(cohort, dm=(0, 0), achievement=(0, 0))
    rows = read_csv(client_for(lead).get(table_url("distinction-merit", "csv")))
    assert rows[1][:4] == ["Data Analyst L4 — January 2024", "", "0", "0"]
    assert rows[1][-1] == "No results yet"


def test_a_filtered_export_holds_only_the_filtered_cohort(client_for, lead):
    """?cohort= is the dashboard's filter: the export is computed live over that cohort."""
    first = factories.EnrolmentFactory(cohort__name="Cohort A").cohort
    factories.EnrolmentFactory(cohort__name="Cohort B")
    rows = read_csv(client_for(lead).get(table_url("enrolments", "csv", f"?cohort={first.pk}")))
    assert [row[0] for row in rows[1:]] == ["Cohort A", "All cohorts"]
    assert rows[1][4] == "1"
    event = AuditEvent.objects.get(action="export")
    assert event.detail["filters"]["cohort_id"] == first.pk


def test_every_listed_table_downloads_in_both_formats_and_is_audited(client_for, head, snapshots):
    client = client_for(head)
    page = client.get(reverse("exports:index"))
    assert page.status_code == 200
    names = [t.name for section in page.context["sections"] for t in section["tables"]]
    for expected in ("enrolments", "results", "grades", "achievement", "coaching", "standards", "teams",
                     "trends-months", "coaching-coaches", "impact-records", "impact-by-team", "levy-value"):
        assert expected in names
    for name in names:
        for fmt in ("csv", "xlsx"):
            response = client.get(table_url(name, fmt))
            assert response.status_code == 200, (name, fmt)
            assert len(response.content) > 0
    events = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, user=head)
    assert events.count() == 2 * len(names)
    assert {(e.detail["export"], e.detail["format"]) for e in events} == {(n, f) for n in names for f in ("csv", "xlsx")}


def test_unknown_tables_and_formats_are_404(client_for, lead, snapshots):
    client = client_for(lead)
    assert client.get(table_url("nothing", "csv")).status_code == 404
    assert client.get(table_url("enrolments", "pdf")).status_code == 404


@pytest.mark.parametrize("role,status", [("coach", 403), ("lead", 200), ("head", 200)])
def test_only_leads_and_heads_may_export(client_for, coach, lead, head, snapshots, role, status):
    user = {"coach": coach, "lead": lead, "head": head}[role]
    assert client_for(user).get(table_url("enrolments", "xlsx")).status_code == status
    assert client_for(user).get(table_url("impact-records", "csv")).status_code == status


# --- Impact tables --------------------------------------------------------------------


@pytest.fixture
def impact(db, lead):
    team = factories.TeamFactory(name="Revenues and Benefits")
    learner = factories.LearnerFactory(team=team)
    record = ImpactRecord.objects.create(
        title="=Debt resolved", kind=ImpactRecord.Kind.MONEY, value=Decimal("3500000"), team=team,
        evidence="Recovery reports", link="https://intranet.example.org/r", date=dt.date(2026, 3, 31), recorded_by=lead)
    record.learners.add(learner)
    ImpactRecord.objects.create(title="Report automated", kind=ImpactRecord.Kind.HOURS_PER_YEAR, value=260,
                                evidence="Timesheets", date=dt.date(2026, 6, 30))
    return record


def test_it_exports_impact_records_with_dates_as_dates(client_for, head, impact):
    rows = read_csv(client_for(head).get(table_url("impact-records", "csv")))
    assert rows == [
        ["title", "kind", "value", "unit", "team", "learners", "evidence", "link", "date", "recorded_by"],
        ["Report automated", "Hours saved per year", "260", "hours a year", "", "0", "Timesheets", "", "2026-06-30", ""],
        ["'=Debt resolved", "Money recovered or saved (£)", "3500000", "£", "Revenues and Benefits", "1",
         "Recovery reports", "https://intranet.example.org/r", "2026-03-31", "Alice Lead"],
    ]
    sheet = read_xlsx(client_for(head).get(table_url("impact-records", "xlsx")))
    assert sheet["I3"].value == dt.datetime(2026, 3, 31) and sheet["I3"].number_format == "DD/MM/YYYY"
    assert sheet["A3"].value == "=Debt resolved" and sheet["A3"].data_type == "s" and sheet["A3"].quotePrefix


def test_it_exports_value_for_the_levy_with_unknown_bands_left_empty(client_for, lead, impact):
    known = factories.CohortFactory(standard=factories.StandardFactory(reference="ST0118", title="Data analyst",
                                                                       max_funding_gbp=15000))
    unknown = factories.CohortFactory(standard=factories.StandardFactory(reference="ST0795", title="Data technician",
                                                                         level=3, max_funding_gbp=None))
    factories.EnrolmentFactory.create_batch(2, cohort=known)
    factories.EnrolmentFactory(cohort=unknown)
    rows = read_csv(client_for(lead).get(table_url("levy-value", "csv")))
    assert rows == [
        ["item", "standard", "enrolments", "band", "value", "note"],
        ["Data analyst (level 4)", "ST0118", "2", "15000.00", "30000.00", ""],
        ["Data technician (level 3)", "ST0795", "1", "", "", "Funding band unknown: left out"],
        ["Funding-band value of enrolments", "", "2", "", "30000.00", "Each enrolment at its standard's full band"],
        ["Money recovered or saved (impact records)", "", "", "", "3500000.00", "1 record"],
        ["Hours saved a year (not valued in pounds)", "", "", "", "", "260 hours a year"],
    ]
    with_cost = read_csv(client_for(lead).get(table_url("levy-value", "csv", "?hourly_cost=20")))
    assert with_cost[-1] == ["Hours saved a year, valued at the hourly cost given", "", "", "", "5200.00",
                             "260 hours a year at £20 an hour"]


# --- Charts ---------------------------------------------------------------------------


def chart_url(name, query=""):
    return reverse("exports:chart", kwargs={"name": name}) + query


@override_settings(ACADEMY_CHART_RENDERER="matplotlib")
def test_the_server_side_fallback_draws_every_overview_chart(client_for, head, snapshots):
    client = client_for(head)
    for name in ("grades", "distinction-merit", "achievement", "first-attempt", "coaching"):
        response = client.get(chart_url(name))
        assert response.status_code == 200, name
        assert response["Content-Type"] == "image/png"
        assert response.content.startswith(PNG_MAGIC)
        assert response["X-Chart-Renderer"] == "matplotlib"
    assert AuditEvent.objects.filter(action="export", detail__format="png").count() == 5


@override_settings(ACADEMY_CHART_RENDERER="auto")
def test_auto_falls_back_to_matplotlib_and_says_so_when_kaleido_cannot_run(client_for, lead, snapshots, monkeypatch):
    def no_browser(*args, **kwargs):
        raise RuntimeError("No browser found at BROWSER_PATH='/nonexistent'")

    monkeypatch.setattr(chart_images, "_render_kaleido", no_browser)
    response = client_for(lead).get(chart_url("grades", "?level=4"))
    assert response.status_code == 200
    assert response.content.startswith(PNG_MAGIC)
    assert response["X-Chart-Renderer"] == "matplotlib"
    assert "kaleido" in response["X-Chart-Note"] and "No browser found" in response["X-Chart-Note"]


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("google-chrome") is None,
                    reason="kaleido needs Chromium or Chrome; the matplotlib fallback is tested above")
@override_settings(ACADEMY_CHART_RENDERER="kaleido")
def test_kaleido_draws_a_png_of_the_requested_size_here(client_for, head, snapshots):
    """Measured on this machine: plotly's static export with kaleido 1.x and /usr/bin/chromium."""
    from PIL import Image

    response = client_for(head).get(chart_url("achievement"))
    assert response.status_code == 200
    assert response["X-Chart-Renderer"] == "kaleido"
    assert "X-Chart-Note" not in response
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (chart_images.PNG_WIDTH, chart_images.PNG_HEIGHT))


def test_a_chart_without_data_is_404(client_for, lead, db):
    assert client_for(lead).get(chart_url("grades")).status_code == 404


def test_coaches_get_403_for_charts(client_for, coach, snapshots):
    assert client_for(coach).get(chart_url("grades")).status_code == 403


def test_the_fallback_draws_horizontal_and_grouped_bars():
    figure = {"data": [{"type": "bar", "orientation": "h", "name": "Enrolled", "x": [3, 1], "y": ["A", "B"]},
                       {"type": "bar", "orientation": "h", "name": "Completed", "x": [1, 0], "y": ["A", "B"]}],
              "layout": {"title": {"text": "Teams"}, "barmode": "group"}}
    assert chart_images.render_matplotlib(figure).startswith(PNG_MAGIC)
