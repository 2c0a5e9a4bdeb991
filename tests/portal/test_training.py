"""Off-the-job training the apprentice logs: logged at once, confirmed or returned by the coach, sent again."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching import risk, services, training
from coaching.models import OffTheJobActivity
from cohorts import services as cohort_services
from cohorts.models import Enrolment
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def apprentice(coach):
    user = factories.ApprenticeFactory(email="ann@council.example.org")
    enrolment = factories.EnrolmentFactory(coach=coach, learner__user=user, learner__first_name="Ann",
                                           learner__last_name="Smith", cohort__start_date=TODAY - dt.timedelta(days=200))
    return {"user": user, "enrolment": enrolment}


def _figures(enrolment):
    return risk.learner_risks(Enrolment.objects.filter(pk=enrolment.pk), today=TODAY)[0]


def _log(client, **overrides):
    data = {"date": (TODAY - dt.timedelta(days=3)).strftime("%d/%m/%Y"), "hours": "3.5", "category": "self_study",
            "description": "Power BI course, module 3", "learning": "DAX measures", "link": ""}
    return client.post(reverse("portal:training_create"), {**data, **overrides})


def test_logged_returned_sent_again_confirmed_and_the_confirmed_total_moves(client_for, apprentice, coach):
    enrolment = apprentice["enrolment"]
    response = _log(client_for(apprentice["user"]))
    assert response.status_code == 302
    activity = OffTheJobActivity.objects.get(enrolment=enrolment)
    assert (activity.status, activity.learning, activity.recorded_by) == ("submitted", "DAX measures", apprentice["user"])
    figures = _figures(enrolment)
    assert (figures.otj_logged, figures.otj_confirmed, figures.otj_waiting_hours) == (Decimal("3.5"), 0, Decimal("3.5"))

    coach_client = client_for(coach)
    assert "1 off-the-job training entry" in coach_client.get(reverse("coach:home")).content.decode()
    assert "DAX measures" in coach_client.get(reverse("coach:training_queue")).content.decode()
    empty = coach_client.post(reverse("coach:training_return", args=[activity.pk]), {"return_reason": " ", "version": 1})
    assert "Say why you are returning this training" in empty.content.decode()
    coach_client.post(reverse("coach:training_return", args=[activity.pk]),
                      {"return_reason": "Add the module you finished", "version": 1})
    activity.refresh_from_db()
    assert (activity.status, activity.return_reason, activity.reviewed_by) == ("returned", "Add the module you finished", coach)
    assert _figures(enrolment).otj_logged == 0  # returned counts as neither

    client = client_for(apprentice["user"])
    home = client.get(reverse("portal:learner_home")).content.decode()
    assert "Training returned" in home and "Add the module you finished" in home
    client.post(reverse("portal:training_edit", args=[activity.pk]), {
        "date": activity.date.strftime("%d/%m/%Y"), "hours": "4", "category": "self_study",
        "description": "Power BI course, module 3 and 4", "learning": "DAX measures", "link": "", "version": 2})
    activity.refresh_from_db()
    assert (activity.status, activity.hours, activity.return_reason) == ("submitted", Decimal("4.00"), "")
    assert activity.history.filter(return_reason="Add the module you finished").exists()  # the reason stays in history

    coach_client = client_for(coach)
    coach_client.post(reverse("coach:training_confirm", args=[activity.pk]), {"version": activity.version})
    activity.refresh_from_db()
    assert activity.status == "confirmed"
    figures = _figures(enrolment)
    assert (figures.otj_logged, figures.otj_confirmed, figures.otj_waiting_hours) == (Decimal("4"), Decimal("4"), 0)
    edit = client_for(apprentice["user"]).get(reverse("portal:training_edit", args=[activity.pk]))
    assert edit.status_code == 403  # confirmed training is the coach's record now


def test_a_stale_confirmation_is_refused(client_for, apprentice, coach):
    activity = services.log_otj_activity(enrolment=apprentice["enrolment"], by=apprentice["user"],
                                         date=TODAY - dt.timedelta(days=1), category="self_study", hours=2)
    training.resubmit_training(activity=activity, by=apprentice["user"], expected_version=1, hours=Decimal("3"))
    response = client_for(coach).post(reverse("coach:training_confirm", args=[activity.pk]), {"version": 1}, follow=True)
    assert "This training changed since you opened the page" in response.content.decode()
    activity.refresh_from_db()
    assert activity.status == "submitted"


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"date": (TODAY + dt.timedelta(days=1)).strftime("%d/%m/%Y")}, "date", "cannot be in the future"),
    ({"hours": "25"}, "hours", "no more than 24"),
    ({"hours": "0"}, "hours", "more than 0"),
    ({"date": "01/01/2001"}, "date", "cannot be before the enrolment start date"),
    ({"link": "not a link"}, "link", "Link must be a web address"),
])
def test_bad_training_is_refused_on_its_field(client_for, apprentice, overrides, field, words):
    response = _log(client_for(apprentice["user"]), **overrides)
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors.get(field, []))
    assert not OffTheJobActivity.objects.exists()


def test_no_training_inside_a_break_in_learning_or_after_the_end(apprentice, lead):
    enrolment = apprentice["enrolment"]
    cohort_services.start_break(enrolment=enrolment, by=lead, on=TODAY - dt.timedelta(days=30), reason="Illness")
    enrolment.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.log_otj_activity(enrolment=enrolment, by=lead, date=TODAY - dt.timedelta(days=10),
                                  category="self_study", hours=2)
    assert "inside a break in learning" in refused.value.message_dict["date"][0]
    Enrolment.objects.filter(pk=enrolment.pk).update(actual_end_date=TODAY - dt.timedelta(days=60))
    enrolment.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.log_otj_activity(enrolment=enrolment, by=lead, date=TODAY - dt.timedelta(days=40),
                                  category="self_study", hours=2)
    assert "after the apprenticeship ended" in refused.value.message_dict["date"][0]


def test_people_act_only_on_their_own(client_for, apprentice, other_coach, coach):
    activity = services.log_otj_activity(enrolment=apprentice["enrolment"], by=apprentice["user"],
                                         date=TODAY - dt.timedelta(days=1), category="self_study", hours=2)
    stranger = factories.ApprenticeFactory(email="zed@council.example.org")
    factories.EnrolmentFactory(learner__user=stranger)
    assert client_for(stranger).get(reverse("portal:training_edit", args=[activity.pk])).status_code == 404
    assert client_for(other_coach).post(reverse("coach:training_confirm", args=[activity.pk]),
                                        {"version": 1}).status_code == 404
    assert "Nothing to confirm" in client_for(other_coach).get(reverse("coach:training_queue")).content.decode()
    activity.refresh_from_db()
    assert activity.status == "submitted"


def test_the_queue_query_count_does_not_grow(client_for, apprentice, coach):
    client = client_for(coach)
    for _ in range(2):
        services.log_otj_activity(enrolment=apprentice["enrolment"], by=apprentice["user"],
                                  date=TODAY - dt.timedelta(days=1), category="self_study", hours=1)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("coach:training_queue"))
    for _ in range(10):
        other = factories.EnrolmentFactory(coach=coach, cohort__start_date=TODAY - dt.timedelta(days=100))
        user = factories.ApprenticeFactory()
        services.log_otj_activity(enrolment=other, by=user, date=TODAY - dt.timedelta(days=1),
                                  category="self_study", hours=1)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("coach:training_queue"))
    assert len(few.captured_queries) == len(many.captured_queries)


def test_the_metrics_leave_returned_training_out(apprentice, coach):
    from outcomes.metrics import recompute_metrics
    from outcomes.models import CohortMetrics

    kept = services.log_otj_activity(enrolment=apprentice["enrolment"], by=apprentice["user"],
                                     date=TODAY - dt.timedelta(days=2), category="self_study", hours=2)
    returned = services.log_otj_activity(enrolment=apprentice["enrolment"], by=apprentice["user"],
                                         date=TODAY - dt.timedelta(days=1), category="self_study", hours=5)
    training.return_training(activity=returned, by=coach, reason="Not off-the-job", expected_version=1)
    recompute_metrics()
    assert kept.status == "submitted"
    assert CohortMetrics.objects.get(key="all").otj_hours_logged == Decimal("2.00")


def test_the_training_form_says_optional_once(client_for, apprentice):
    page = client_for(apprentice["user"]).get(reverse("portal:training_create")).content.decode()
    assert "Link (optional)" in page and "(optional) (optional)" not in page
