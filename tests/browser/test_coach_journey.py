"""A coach signs in, logs a session from a learner's row on "My learners" and sees the risk flag clear.

The demo's Holly Ellis (coach@example.org's learner) is at risk with "No session in 30
days" and "Two no-shows in a row". An attended session dated today clears both, whatever
the date the suite runs on. Every page passes axe-core with no console errors.
"""
from django.utils import timezone

from coaching.models import CoachingSession

LEARNER = "Holly Ellis"


def _row(v, name):
    return v.page.locator("table.academy-risk-table tbody tr", has=v.page.locator("th a", has_text=name))


def test_coach_logs_a_session_from_the_learner_row_and_the_risk_flag_clears(visitor, demo):
    v = visitor()
    v.sign_in("coach@example.org")
    assert v.page.url.endswith("/coach/")
    assert v.page.title() == "My learners – Academy"
    nav = v.page.locator("nav[aria-label=Menu]").inner_text()
    assert "My learners" in nav and "Dashboard" not in nav and "Import" not in nav
    row = _row(v, LEARNER)
    assert row.count() == 1
    assert "No session in 30 days" in row.inner_text()
    assert "Two no-shows in a row" in row.inner_text()
    assert v.axe_violations() == []
    v.go("/coach/")  # as the coach comes back to it: no sign-in banner
    v.screenshot("coach-home", readme="coach-home")
    row = _row(v, LEARNER)

    row.get_by_role("link", name=f"Log session for {LEARNER}").click()
    v.page.wait_for_load_state("networkidle")
    assert "Log a coaching session" in v.page.title()
    assert v.page.locator("h1").inner_text() == "Log a coaching session"
    today = timezone.localdate()
    assert v.page.get_by_label("Date of the session", exact=True).input_value() == f"{today:%d/%m/%Y}"
    assert v.axe_violations() == []
    v.screenshot("coach-log-session")

    v.page.get_by_label("Duration in minutes").fill("45")
    v.page.get_by_label("In person").check()
    v.page.get_by_label("Attended", exact=True).check()
    v.page.get_by_label("Topics").fill("Power BI dashboards, portfolio evidence")
    v.page.get_by_role("button", name="Save session").click()
    v.page.wait_for_load_state("networkidle")

    assert v.page.url.split("?")[0].endswith("/coach/")
    banner = v.page.locator(".govuk-notification-banner--success")
    assert f"Session on {today.day} {today:%B %Y} logged." in banner.inner_text()
    row = _row(v, LEARNER)
    assert "No session in 30 days" not in row.inner_text()
    assert "Two no-shows in a row" not in row.inner_text()
    assert f"{today.day} {today:%b %Y}" in row.inner_text()  # last session
    session = CoachingSession.objects.filter(enrolment__learner__first_name="Holly", date=today).get()
    assert session.duration_minutes == 45 and session.attendance == CoachingSession.Attendance.ATTENDED
    assert v.axe_violations() == []
    assert v.console_errors == []
