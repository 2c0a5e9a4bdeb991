"""The demo's progress reviews and off-the-job training (``demo.seed.learners``, run by ``seed_demo``)."""
from decimal import Decimal

import pytest

from coaching.models import OffTheJobActivity, ProgressReview
from coaching.risk import learner_risks
from cohorts.models import Enrolment
from demo.seed import DEMO_TODAY, seed_demo
from tests import factories


@pytest.fixture
def seeded(db):
    factories.StandardFactory(reference="ST0118", title="Data analyst", level=4)
    factories.StandardFactory(reference="ST0795", title="Data technician", level=3)
    return seed_demo(password="demo-test-password")


def snapshot():
    reviews = list(ProgressReview.objects.order_by("enrolment__learner__employee_number", "date")
                   .values_list("enrolment__learner__employee_number", "date", "rag"))
    activities = list(OffTheJobActivity.objects.order_by("enrolment__learner__employee_number", "date", "category")
                      .values_list("enrolment__learner__employee_number", "date", "category", "hours"))
    return reviews, activities


def test_the_demo_has_learners_at_risk_for_different_reasons_and_most_near_plan(seeded):
    risks = learner_risks(Enrolment.objects.filter(status="active"), today=DEMO_TODAY)
    reasons = {code for r in risks for code in r.reason_codes}
    assert {"otj_behind", "review_overdue", "no_shows"} <= reasons
    assert any(not r.at_risk for r in risks)
    near_plan = [r for r in risks if r.otj_behind is not None and abs(r.otj_behind) <= 0.1]
    assert len(near_plan) >= len(risks) - 1
    # Completers logged at least about their whole plan; every enrolment has reviews and other training.
    completed = Enrolment.objects.filter(status="completed")
    for r in learner_risks(completed, today=DEMO_TODAY):
        assert r.otj_logged >= r.enrolment.planned_otj_hours * Decimal("0.95")
    assert not Enrolment.objects.filter(progress_reviews__isnull=True).exists()
    assert set(OffTheJobActivity.objects.values_list("category", flat=True)) >= {"training_day", "self_study"}
    assert not OffTheJobActivity.objects.filter(date__gt=DEMO_TODAY).exists()


def test_the_demo_reviews_and_training_are_the_same_every_run(seeded):
    first = snapshot()
    seed_demo(password="demo-test-password")
    assert snapshot() == first
