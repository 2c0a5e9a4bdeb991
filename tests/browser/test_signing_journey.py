"""The apprentice (on a phone) and the line manager sign the training plan and a progress review;
the coach changes the plan and all three sign the new version; a page opened before a change
cannot be signed. Every page passes axe-core, fits a 390 px phone, and logs no console error.

The demo (demo/seed/documents.py): learner@'s plan version 2 is signed by the coach and waits
for learner@ and manager@; her latest progress review waits for both too.
"""
import re

from coaching.models import Signature, TrainingPlan

PHONE = {"width": 390, "height": 844}


def _phone(visitor, email):
    v = visitor()
    v.page.set_viewport_size(PHONE)
    v.sign_in(email)
    return v


def _checked(v):
    assert v.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], v.page.url
    assert v.axe_violations() == [], v.page.url


def _sign(v, comment=""):
    if comment:
        v.page.get_by_label("Comment").fill(comment)
    v.page.get_by_label("I have read this document and I agree to it").check()
    v.page.get_by_role("button", name="Sign", exact=True).click()
    v.page.wait_for_load_state("networkidle")


def _follow(v, name):
    v.page.get_by_role("link", name=re.compile(name)).first.click()
    v.page.wait_for_load_state("networkidle")


def test_all_three_sign_the_plan_and_a_review_and_sign_again_after_a_change(visitor, demo):
    learner = _phone(visitor, "learner@example.org")
    waiting = learner.page.inner_text("main")
    assert "Sign the training plan: version 2" in waiting and "Sign the progress review of" in waiting
    _follow(learner, "^Read and sign the training plan")
    assert "Awaiting the apprentice's and the line manager's signatures" in learner.page.inner_text("main")
    _checked(learner)
    learner.screenshot("apprentice-plan-to-sign")
    learner.page.get_by_role("button", name="Sign", exact=True).click()  # without ticking the box
    learner.page.wait_for_load_state("networkidle")
    assert "Tick the box to confirm" in learner.page.inner_text("main")
    _sign(learner)
    assert "You signed it as apprentice" in learner.page.inner_text("main")
    assert "Awaiting the line manager's signature" in learner.page.inner_text("main")

    manager = _phone(visitor, "manager@example.org")
    _follow(manager, "^Read and sign the training plan")
    _checked(manager)
    _sign(manager, comment="Wednesdays are booked for Holly.")
    text = manager.page.inner_text("main")
    assert "Signed by all three" in text and "Comment: Wednesdays are booked for Holly." in text
    manager.go("/my/apprentices/")
    _follow(manager, "^Read and sign the progress review")
    _checked(manager)
    assert "Awaiting the apprentice's and the line manager's signatures" in manager.page.inner_text("main")
    _sign(manager)
    learner.go("/my/")
    _follow(learner, "^Read and sign the progress review")
    _sign(learner)
    assert "Signed by all three" in learner.page.inner_text("main")
    _checked(learner)
    learner.go("/my/")
    assert "Nothing is waiting for you" in learner.page.inner_text("main")

    # The coach changes the signed plan: version 3, which all three must sign again.
    version2 = TrainingPlan.objects.get(enrolment__learner__user__email="learner@example.org", number=2)
    coach = visitor()
    coach.sign_in("coach@example.org")
    coach.go(f"/coach/enrolments/{version2.enrolment_id}/")
    _follow(coach, "^Version 2: signed by all three")
    coach.page.get_by_role("link", name="Change the training plan").click()
    coach.page.wait_for_load_state("networkidle")
    assert "saving makes version 3" in coach.page.inner_text("main")
    assert coach.axe_violations() == []
    delivery = coach.page.get_by_label("How off-the-job training is delivered")
    delivery.fill(delivery.input_value() + " Plus a data protection workshop in March 2027.")
    coach.page.get_by_role("button", name="Save the training plan").click()
    coach.page.wait_for_load_state("networkidle")
    assert "Version 3 of the training plan saved" in coach.page.inner_text("main")
    assert "Not signed yet" in coach.page.inner_text("main")

    # The apprentice opens version 3; the coach changes the draft again before she signs.
    learner.go("/my/")
    _follow(learner, "^Read and sign the training plan")
    assert "Training plan: version 3" in learner.page.inner_text("main")
    coach.page.get_by_role("link", name="Change the training plan").click()
    coach.page.wait_for_load_state("networkidle")
    delivery = coach.page.get_by_label("How off-the-job training is delivered")
    delivery.fill(delivery.input_value().replace("March 2027", "April 2027"))
    coach.page.get_by_role("button", name="Save the training plan").click()
    coach.page.wait_for_load_state("networkidle")
    _sign(learner)
    text = learner.page.inner_text("main")
    assert "changed since you opened it, so it was not signed" in text and "April 2027" in text
    assert not Signature.objects.filter(training_plan__number=3, party="apprentice").exists()

    _sign(coach)
    _sign(learner)
    manager.go("/my/apprentices/")
    _follow(manager, "^Read and sign the training plan")
    _sign(manager)
    text = manager.page.inner_text("main")
    assert "Signed by all three" in text and "April 2027" in text
    _follow(manager, "^Version 2")
    text = manager.page.inner_text("main")
    assert "Version 2 was replaced by version 3" in text and "Signed by all three" in text
    assert "data protection workshop" not in text  # version 2 reads as it was signed
    assert learner.console_errors == [] and manager.console_errors == [] and coach.console_errors == []
