"""Subject access and erasure reach training plans, signatures and what the apprentice wrote in their training log."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from coaching import plans, services, signing
from coaching.models import OffTheJobActivity, Signature, TrainingPlan
from privacy.services import anonymise_learner, subject_access_data
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def signed(coach):
    apprentice = factories.ApprenticeFactory(full_name="Ann Smith")
    enrolment = factories.EnrolmentFactory(coach=coach, learner__user=apprentice, start_date=TODAY - dt.timedelta(days=60),
                                           planned_end_date=TODAY + dt.timedelta(days=500), planned_otj_hours=400)
    plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values={
        "start_date": enrolment.start_date, "planned_end_date": enrolment.planned_end_date,
        "planned_otj_hours": Decimal(400), "otj_delivery": "Day release", "prior_learning": "Ann's A-level maths",
        "prior_learning_reduction_hours": Decimal(10), "english_maths": "achieved",
        "english_maths_detail": "Ann holds GCSE English", "roles_and_responsibilities": "Agreed",
        "concerns": "Coach first"})
    signing.sign(document=plan, by=apprentice, shown_sha256=plan.content_sha256, comment="Ann agrees")
    signing.sign(document=plan, by=coach, shown_sha256=plan.content_sha256, comment="About Ann")
    activity = services.log_otj_activity(enrolment=enrolment, by=apprentice, date=TODAY - dt.timedelta(days=2),
                                         category="self_study", hours=2, learning="Ann learned DAX",
                                         link="https://example.org/ann")
    return {"learner": enrolment.learner, "plan": plan, "activity": activity}


def test_subject_access_lists_plans_and_signatures(signed):
    data = subject_access_data(signed["learner"])
    assert [row["prior_learning"] for row in data["training_plans"]] == ["Ann's A-level maths"]
    assert [(row["party"], row["comment"]) for row in data["signatures"]] == [
        ("Apprentice", "Ann agrees"), ("Training provider (coach)", "About Ann")]


def test_erasure_blanks_the_apprentices_words_and_name_and_verify_skips_them(signed, capsys):
    anonymise_learner(learner=signed["learner"])
    plan = TrainingPlan.objects.get(pk=signed["plan"].pk)
    assert (plan.prior_learning, plan.english_maths_detail, plan.planned_otj_hours) == ("", "", Decimal(400))
    names = dict(Signature.objects.filter(training_plan=plan).values_list("party", "signer_name"))
    assert names["apprentice"] == f"Anonymised learner {signed['learner'].pk}" and names["provider"] != ""
    assert set(Signature.objects.values_list("comment", flat=True)) == {""}
    activity = OffTheJobActivity.objects.get(pk=signed["activity"].pk)
    assert (activity.learning, activity.link, activity.hours) == ("", "", Decimal(2))
    call_command("verify")
    out = capsys.readouterr().out
    assert "0 signatures checked" in out and "2 of erased learners not checked" in out
