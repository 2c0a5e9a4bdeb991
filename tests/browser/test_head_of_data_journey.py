"""A head of data signs in, reads and filters the dashboard, visits every tab, opens a chart's
data and the board report, and downloads the CSV.

Every page visited passes axe-core (WCAG 2.2 A/AA) with no console errors and is
screenshotted at desktop and mobile widths into artifacts/screenshots/. The board report
is also printed to artifacts/board-report.pdf with the print stylesheet.
"""
import csv
import io
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from django.conf import settings

from cohorts.models import Standard


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
    v.go("/dashboard/")  # as a returning reader sees it: no sign-in banner, details closed
    v.page.wait_for_selector(".dashboard-chart .main-svg")
    v.screenshot("dashboard", readme="dashboard")

    with v.page.expect_download() as download_info:
        v.page.click("text=Download as CSV")
    path = download_info.value.path()
    rows = list(csv.DictReader(io.StringIO(open(path, encoding="utf-8-sig").read())))
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


DASHBOARD_TABS = {
    "Overview": ("/dashboard/", "Cohort dashboard – Academy"),
    "Standards and levels": ("/dashboard/benchmarks-by-standard/", "Standards and levels – Cohort dashboard – Academy"),
    "Trends": ("/dashboard/trends/", "Trends – Cohort dashboard – Academy"),
    "Teams": ("/dashboard/teams/", "Teams – Cohort dashboard – Academy"),
    "Coaching": ("/dashboard/coaching/", "Coaching – Cohort dashboard – Academy"),
}


# The charts with no data table (their text alternative) after them: a table may serve a
# run of charts (the trends page's intake and results share one month-by-month table).
CHARTS_WITHOUT_TABLE = """() => {
    const all = [...document.querySelectorAll('.dashboard-chart, table')];
    return all.filter((el, i) => {
        if (!el.classList.contains('dashboard-chart')) return false;
        let next = i + 1;
        while (all[next] && all[next].classList.contains('dashboard-chart')) next++;
        return !all[next];
    }).map(el => el.id);
}"""


# Each drawn chart's legend against its axis titles and tick labels: the pairs whose boxes
# overlap (was: legends over the axis titles and over the cohort names).
LEGEND_OVERLAPS = """() => {
    const box = (el) => el.getBoundingClientRect();
    const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom
        && a.width > 0 && b.width > 0;
    const found = [];
    document.querySelectorAll('.js-plotly-plot').forEach((plot) => {
        const legend = plot.querySelector('.legend');
        if (!legend) return;
        const others = plot.querySelectorAll('.g-xtitle, .g-ytitle, .xtick text, .ytick text');
        others.forEach((other) => {
            if (meet(box(legend), box(other))) found.push(plot.id + ': ' + (other.textContent || '').trim());
        });
    });
    return found;
}"""


# Tick labels a reader has to tilt their head for, or that run into each other on one axis
# (was: cohort names and months written vertically on a phone, team names over each other).
TICK_PROBLEMS = """() => {
    const found = [];
    document.querySelectorAll('.js-plotly-plot').forEach((plot) => {
        ['.xtick text', '.ytick text'].forEach((selector) => {
            const ticks = [...plot.querySelectorAll(selector)].filter((t) => (t.textContent || '').trim());
            ticks.forEach((t) => {
                if (/rotate\\((-?[1-9])/.test(t.getAttribute('transform') || '')) {
                    found.push(plot.id + ' tilted: ' + t.textContent.trim());
                }
            });
            const boxes = ticks.map((t) => t.getBoundingClientRect());
            for (let i = 1; i < boxes.length; i++) {
                const a = boxes[i - 1], b = boxes[i];
                if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) {
                    found.push(plot.id + ' overlapping: ' + ticks[i - 1].textContent.trim() + ' / ' + ticks[i].textContent.trim());
                }
            }
        });
    });
    return found;
}"""


def _charts_are_readable(v, label):
    """Every chart is drawn, its legend covers no axis title or tick label, no tick label is tilted
    or runs into another, at desktop and phone width."""
    for width, height in ((1280, 900), (390, 844)):
        v.page.set_viewport_size({"width": width, "height": height})
        v.page.wait_for_timeout(300)  # plotly redraws on resize (responsive: true)
        assert v.page.locator(".js-plotly-plot").count() >= 1, label
        assert v.page.evaluate(LEGEND_OVERLAPS) == [], (label, width)
        assert v.page.evaluate(TICK_PROBLEMS) == [], (label, width)
    v.page.set_viewport_size({"width": 1280, "height": 900})


def _open(v, locator):
    locator.click()
    v.page.wait_for_load_state("networkidle")


def test_every_tab_unfiltered_is_readable_at_desktop_and_phone_width(visitor, demo):
    """Unfiltered, the tabs have both standards' rows (was: forest plot names over each other, dates tilted)."""
    v = visitor()
    v.sign_in("head@example.org")
    for label, (path, _title) in DASHBOARD_TABS.items():
        v.go(path)
        _charts_are_readable(v, f"{label}, all standards")
    assert v.console_errors == []


def test_head_of_data_filters_the_dashboard_visits_every_tab_and_opens_the_board_report(visitor, demo):
    v = visitor()
    v.sign_in("head@example.org")
    assert v.page.locator("nav[aria-label=Menu] a").all_inner_texts() == ["Learners at risk", "Dashboard", "Impact",
                                                                          "Downloads"]
    headline = v.page.locator(".dashboard-measure", has=v.page.locator("#headline-distinction_merit_share"))
    assert "46 of 50 completed first-attempt EPAs" in headline.inner_text()

    # Filter by standard: the figures change and the filter is kept in the address.
    technician = Standard.objects.get(reference="ST0795")
    v.page.locator("summary", has_text="Filter the figures").click()
    v.page.get_by_label("Standard").select_option(str(technician.pk))
    _open(v, v.page.get_by_role("button", name="Apply filters"))
    assert parse_qs(urlparse(v.page.url).query)["standard"] == [str(technician.pk)]
    assert "Standard: Data technician (level 3, ST0795)" in v.page.inner_text(".govuk-inset-text")
    assert "18 of 22 completed first-attempt EPAs" in headline.inner_text()
    assert "81.8%" in headline.inner_text()

    # Every tab keeps the filter, has its own title, passes axe and logs no console error.
    for label, (path, title) in DASHBOARD_TABS.items():
        _open(v, v.page.locator("nav[aria-label='Dashboard pages']").get_by_role("link", name=label, exact=True))
        assert urlparse(v.page.url).path == path
        assert parse_qs(urlparse(v.page.url).query)["standard"] == [str(technician.pk)], label
        assert v.page.title() == title
        assert v.page.locator("nav[aria-label='Dashboard pages'] [aria-current=page]").inner_text() == label
        # Each drawn chart has its data as a table underneath (its text alternative).
        assert v.page.locator(".dashboard-chart").count() >= 1, label
        assert v.page.evaluate(CHARTS_WITHOUT_TABLE) == [], label
        _charts_are_readable(v, label)
        assert v.axe_violations() == [], label
        assert v.console_errors == [], label
        if label != "Overview":  # the overview is screenshotted unfiltered above
            v.screenshot(f"dashboard-{path.strip('/').split('/')[-1]}")

    # Open a chart's data table on the overview.
    _open(v, v.page.locator("nav[aria-label='Dashboard pages']").get_by_role("link", name="Overview"))
    details = v.page.locator("details", has=v.page.locator("summary", has_text="Show the data for this chart")).first
    details.locator("summary").click()
    assert details.get_attribute("open") is not None
    assert details.locator("table tbody tr").count() >= 1
    assert details.locator("table").is_visible()

    # The board report: a printable page honouring the filter, its charts as PNG images.
    _open(v, v.page.get_by_role("link", name="Printable board report"))
    assert urlparse(v.page.url).path == "/dashboard/exports/board-report/"
    assert v.page.title() == "Board report – Academy"
    assert "Standard: Data technician (level 3, ST0795)" in v.page.inner_text("#report-filters")
    images = v.page.locator("img.board-report__chart")
    assert images.count() >= 5
    for i in range(images.count()):
        assert "standard=" in images.nth(i).get_attribute("src")
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), images.nth(i).get_attribute("src")
    assert v.axe_violations() == []
    assert v.console_errors == []
    v.screenshot("board-report")
    # On paper: no navigation, the report only (saved as a PDF artifact for a look).
    v.page.emulate_media(media="print")
    assert not v.page.locator(".govuk-service-navigation").is_visible()
    assert not v.page.locator(".govuk-header").is_visible()
    assert v.page.locator("h1", has_text="board report").is_visible()
    pdf = Path(settings.BASE_DIR) / "artifacts" / "board-report.pdf"
    v.page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF")
