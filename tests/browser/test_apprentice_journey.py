"""The apprentice logs off-the-job training on a phone; the coach returns it; the apprentice
changes it and sends it again; the coach confirms it and the confirmed total moves. The line
manager reads their apprentices on a phone. Every page passes axe-core with no console errors.

The demo's apprentice (learner@example.org) is Holly Ellis, coached by coach@example.org;
manager@example.org manages her team.
"""
import re
from decimal import Decimal

from coaching.models import OffTheJobActivity

PHONE = {"width": 390, "height": 844}


def _confirmed_hours(v) -> Decimal:
    text = v.page.locator(".govuk-summary-card").first.inner_text()
    return Decimal(re.search(r"([\d.]+) hours confirmed", text).group(1))


def _phone_visitor(visitor, email):
    v = visitor()
    v.page.set_viewport_size(PHONE)
    v.sign_in(email)
    return v


def _fits(v):
    assert v.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], v.page.url
    assert v.axe_violations() == [], v.page.url


def test_training_is_logged_returned_sent_again_and_confirmed(visitor, demo):
    learner = _phone_visitor(visitor, "learner@example.org")
    assert learner.page.url.endswith("/my/")
    assert learner.page.title() == "My apprenticeship – Academy"
    before = _confirmed_hours(learner)
    _fits(learner)
    learner.screenshot("apprentice-home")

    learner.page.get_by_role("link", name="Log off-the-job training").click()
    learner.page.wait_for_load_state("networkidle")
    learner.page.get_by_label("Hours").fill("3")
    learner.page.get_by_label("Self-study and assignments").check()
    learner.page.get_by_label("What was it?").fill("Power BI course, module 3")
    learner.page.get_by_label("What did you learn?").fill("DAX measures and time intelligence")
    _fits(learner)
    learner.page.get_by_role("button", name="Log training").click()
    learner.page.wait_for_load_state("networkidle")
    assert "your coach will confirm them" in learner.page.locator(".govuk-notification-banner--success").inner_text()
    activity = OffTheJobActivity.objects.get(description="Power BI course, module 3")
    assert activity.status == "submitted"

    coach = visitor()
    coach.sign_in("coach@example.org")
    coach.page.get_by_role("link", name="Confirm or return training").click()
    coach.page.wait_for_load_state("networkidle")
    assert "DAX measures and time intelligence" in coach.page.inner_text("main")
    assert coach.axe_violations() == []
    coach.page.get_by_role("link", name=re.compile("^Return with a reason.*Holly Ellis")).click()
    coach.page.wait_for_load_state("networkidle")
    coach.page.get_by_label("Why are you returning it?").fill("Which modules? Add the module numbers you finished.")
    assert coach.axe_violations() == []
    coach.page.get_by_role("button", name="Return to the apprentice").click()
    coach.page.wait_for_load_state("networkidle")
    activity.refresh_from_db()
    assert activity.status == "returned"

    learner.go("/my/")
    assert "Which modules? Add the module numbers you finished." in learner.page.inner_text("main")
    learner.page.get_by_role("link", name=re.compile("^Change and send again")).click()
    learner.page.wait_for_load_state("networkidle")
    assert "Returned by Priya Shah" in learner.page.inner_text("main")
    learner.page.get_by_label("What was it?").fill("Power BI course, modules 3 and 4")
    learner.page.get_by_label("Hours").fill("4")
    _fits(learner)
    learner.page.get_by_role("button", name="Send to my coach again").click()
    learner.page.wait_for_load_state("networkidle")
    activity.refresh_from_db()
    assert (activity.status, activity.hours) == ("submitted", Decimal("4.00"))

    coach.go("/coach/training/")
    coach.page.get_by_role("button", name=re.compile("^Confirm.*Holly Ellis")).click()
    coach.page.wait_for_load_state("networkidle")
    assert "Confirmed 4 hours of Holly Ellis's training" in coach.page.inner_text("main")
    activity.refresh_from_db()
    assert activity.status == "confirmed"

    learner.go("/my/")
    assert _confirmed_hours(learner) == before + 4
    assert learner.console_errors == [] and coach.console_errors == []


def test_the_line_manager_reads_their_apprentices_on_a_phone(visitor, demo):
    manager = _phone_visitor(visitor, "manager@example.org")
    assert manager.page.url.endswith("/my/apprentices/")
    assert "Holly Ellis" in manager.page.inner_text("main")
    _fits(manager)
    manager.screenshot("line-manager-home")
    manager.page.get_by_role("link", name="Holly Ellis", exact=True).click()
    manager.page.wait_for_load_state("networkidle")
    assert "Coaching session notes are private" in manager.page.inner_text("main")
    _fits(manager)
    assert manager.console_errors == []
    manager.go("/coach/")
    assert manager.page.title() == "You do not have access to this page – Academy"
