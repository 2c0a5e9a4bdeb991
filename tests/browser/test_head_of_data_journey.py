"""A head of data signs in, reads the dashboard, opens a chart's data and downloads the CSV.

Every page visited passes axe-core (WCAG 2.2 A/AA) and is screenshotted at desktop and
mobile widths into artifacts/screenshots/.
"""
import csv
import io


def test_sign_in_page_is_accessible(visitor, demo):
    v = visitor()
    v.go("/accounts/login/")
    assert v.page.title() == "Sign in – Academy"
    assert v.axe_violations() == []
    v.screenshot("sign-in")


def test_head_of_data_reads_the_dashboard_and_downloads_the_csv(visitor, demo):
    v = visitor()
    v.sign_in("head@example.org")
    assert v.page.url.endswith("/dashboard/")
    headline = v.page.locator("#headline-distinction_merit_share").locator("..")
    text = v.page.inner_text("main")
    assert "92.0%" in text
    assert "46 of 50 completed first-attempt EPAs" in text
    assert "60.5%" in text  # national achievement rate 2023/24, the latest published
    assert headline.count() == 1

    # Charts are drawn by the vendored plotly (no CDN), each with a data table.
    v.page.wait_for_selector(".dashboard-chart .main-svg")
    assert v.page.locator(".dashboard-chart .main-svg").count() >= 3
    summary = v.page.locator("summary", has_text="Show the data for this chart").first
    summary.click()
    assert v.page.locator("details[open] table").first.is_visible()

    assert v.axe_violations() == []
    assert v.console_errors == []
    v.screenshot("dashboard")

    with v.page.expect_download() as download_info:
        v.page.click("text=Download as CSV")
    path = download_info.value.path()
    rows = list(csv.DictReader(io.StringIO(open(path, encoding="utf-8").read())))
    total = next(r for r in rows if r["cohort"] == "All cohorts")
    assert total["distinction_merit_rate"] == "0.9200"
    assert total["national_achievement_rate"] == "0.6050"


def test_lead_and_coach_pages_are_accessible(visitor, demo):
    lead = visitor()
    lead.sign_in("lead@example.org")
    lead.go("/learners/")
    assert lead.page.locator("table tbody tr").count() == 25  # first page of 62
    assert lead.axe_violations() == []
    lead.screenshot("learners")
    lead.page.locator("table tbody tr a").first.click()
    lead.page.wait_for_load_state("networkidle")
    assert "/learners/" in lead.page.url
    assert lead.axe_violations() == []
    lead.screenshot("learner")
    assert lead.console_errors == []

    coach = visitor()
    coach.sign_in("coach@example.org")
    coach.go("/learners/")
    assert coach.axe_violations() == []
