"""Changing and deleting progress reviews and off-the-job training (coaching.services, coach views).

The rule is the sessions' rule: who logged it may change or delete it for 14 days after
logging it, then only a lead; another coach never; a stale form is refused; history keeps
who did it. Progress-review notes are shown only to the learner's coach and leads.
"""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from academy.concurrency import StaleEdit
from coaching import services as coaching
from coaching.models import OffTheJobActivity, ProgressReview
from tests import factories

TODAY = dt.date(2024, 6, 3)
pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolment(coach):
    return factories.EnrolmentFactory(coach=coach, start_date=dt.date(2024, 1, 8),
                                      cohort=factories.CohortFactory(start_date=dt.date(2024, 1, 8)))


@pytest.fixture
def review(enrolment, coach):
    return coaching.record_review(enrolment=enrolment, by=coach, date=dt.date(2024, 4, 2), rag="amber",
                                  agreed_actions="Finish the SQL module", notes="Worried about workload",
                                  today=TODAY)


@pytest.fixture
def activity(enrolment, coach):
    return coaching.log_otj_activity(enrolment=enrolment, by=coach, date=dt.date(2024, 4, 3),
                                     category="training_day", hours=Decimal("7"), description="Power BI day",
                                     today=TODAY)


# --- Services ------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "coach_may"), [(dt.timedelta(days=14), True),
                                               (dt.timedelta(days=14, minutes=1), False)])
def test_who_logged_a_review_or_training_may_change_it_for_14_days_then_only_a_lead(
        review, activity, coach, other_coach, lead, age, coach_may):
    for record in (review, activity):
        now = record.created_at + age
        assert coaching.can_change_record(coach, record, now=now) is coach_may
        assert coaching.can_change_record(lead, record, now=now) is True
        assert coaching.can_change_record(other_coach, record, now=record.created_at) is False


def test_a_review_is_edited_validated_and_kept_in_history(review, coach):
    coaching.edit_review(review=review, by=coach, expected_version=1, today=TODAY, rag="green",
                         line_manager_attended=False)
    review.refresh_from_db()
    assert (review.rag, review.line_manager_attended, review.version) == ("green", False, 2)
    assert (review.history.first().history_type, review.history.first().history_user) == ("~", coach)

    with pytest.raises(ValidationError) as caught:
        coaching.edit_review(review=review, by=coach, expected_version=2, today=TODAY,
                             learner_attended=False, coach_attended=False)
    assert "learner_attended" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        coaching.edit_review(review=review, by=coach, expected_version=2, today=TODAY, date=dt.date(2024, 7, 1))
    assert "date" in caught.value.message_dict
    review.refresh_from_db()
    assert (review.learner_attended, review.date, review.version) == (True, dt.date(2024, 4, 2), 2)


def test_a_stale_review_form_is_refused(review, coach, lead):
    coaching.edit_review(review=review, by=lead, expected_version=1, today=TODAY, agreed_actions="Lead's text")
    with pytest.raises(StaleEdit):
        coaching.edit_review(review=review, by=coach, expected_version=1, today=TODAY, agreed_actions="Coach's")
    review.refresh_from_db()
    assert review.agreed_actions == "Lead's text"


def test_training_is_edited_with_its_hours_checked(activity, coach):
    coaching.edit_otj_activity(activity=activity, by=coach, expected_version=1, today=TODAY, hours=Decimal("6.5"))
    activity.refresh_from_db()
    assert (activity.hours, activity.version) == (Decimal("6.50"), 2)
    with pytest.raises(ValidationError) as caught:
        coaching.edit_otj_activity(activity=activity, by=coach, expected_version=2, today=TODAY, hours=Decimal(25))
    assert "hours" in caught.value.message_dict
    with pytest.raises(TypeError):
        coaching.edit_otj_activity(activity=activity, by=coach, expected_version=2, today=TODAY, enrolment=None)


def test_old_records_are_refused_to_their_coach_and_deleted_by_a_lead(review, activity, coach, lead):
    for record, delete, model in ((review, coaching.delete_review, ProgressReview),
                                  (activity, coaching.delete_otj_activity, OffTheJobActivity)):
        later = record.created_at + dt.timedelta(days=15)
        kwarg = "review" if model is ProgressReview else "activity"
        with pytest.raises(PermissionDenied):
            delete(**{kwarg: record}, by=coach, now=later)
        assert model.objects.filter(pk=record.pk).exists()
        pk = record.pk
        delete(**{kwarg: record}, by=lead, now=later)
        assert not model.objects.filter(pk=pk).exists()
        gone = model.history.filter(id=pk).first()
        assert (gone.history_type, gone.history_user) == ("-", lead)


# --- Pages -------------------------------------------------------------------------------------


def test_the_coach_changes_a_review_from_the_learner_record(client_for, review, coach):
    client = client_for(coach)
    record_url = reverse("coach:enrolment", args=[review.enrolment_id])
    page = client.get(record_url).content.decode()
    edit_url = reverse("coach:review_edit", args=[review.pk])
    assert f'href="{edit_url}"' in page
    assert "Worried about workload" in page  # the learner's coach reads the review notes

    form = client.get(edit_url).content.decode()
    assert 'value="02/04/2024"' in form or 'value="2024-04-02"' in form
    response = client.post(edit_url, {
        "date": "02/04/2024", "attendees": ["learner", "coach"], "agreed_actions": "Finish the SQL module",
        "rag": "green", "notes": "Workload sorted", "version": "1", "next": record_url,
    })
    assert response.status_code == 302 and response["Location"] == record_url
    review.refresh_from_db()
    assert (review.rag, review.line_manager_attended, review.notes, review.version) == ("green", False,
                                                                                      "Workload sorted", 2)


def test_a_review_form_with_nobody_attending_shows_the_error_by_attendees(client_for, review, coach):
    response = client_for(coach).post(reverse("coach:review_edit", args=[review.pk]), {
        "date": "02/04/2024", "rag": "green", "version": "1",
    })
    assert response.status_code == 200
    assert "tick who attended" in response.context["form"].errors["attendees"][0]
    review.refresh_from_db()
    assert review.version == 1


def test_a_stale_training_form_keeps_the_input_and_says_why(client_for, activity, coach, lead):
    coaching.edit_otj_activity(activity=activity, by=lead, expected_version=1, description="Lead changed it")
    response = client_for(coach).post(reverse("coach:activity_edit", args=[activity.pk]), {
        "date": "03/04/2024", "category": "training_day", "hours": "5", "description": "Mine", "version": "1",
    })
    assert response.status_code == 200
    assert "Someone else changed this training after you opened it" in response.content.decode()
    assert response.context["form"]["description"].value() == "Mine"
    activity.refresh_from_db()
    assert (activity.description, activity.hours) == ("Lead changed it", Decimal("7.00"))


def test_training_is_deleted_after_confirmation(client_for, activity, coach):
    client = client_for(coach)
    url = reverse("coach:activity_delete", args=[activity.pk])
    confirm = client.get(url).content.decode()
    assert "Delete the training on 3 April 2024?" in confirm
    assert OffTheJobActivity.objects.filter(pk=activity.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not OffTheJobActivity.objects.filter(pk=activity.pk).exists()


def test_another_coach_gets_404_and_an_old_record_gets_403(client_for, review, coach, other_coach):
    assert client_for(other_coach).get(reverse("coach:review_edit", args=[review.pk])).status_code == 404
    ProgressReview.objects.filter(pk=review.pk).update(created_at=review.created_at - dt.timedelta(days=20))
    client = client_for(coach)
    assert client.get(reverse("coach:review_edit", args=[review.pk])).status_code == 403
    page = client.get(reverse("coach:enrolment", args=[review.enrolment_id])).content.decode()
    assert reverse("coach:review_edit", args=[review.pk]) not in page


def test_review_notes_are_only_for_the_learners_coach_and_leads(review, coach, other_coach, lead, head):
    from coaching.templatetags.learner_privacy import review_notes

    assert review_notes(review, coach) == "Worried about workload"
    assert review_notes(review, lead) == "Worried about workload"
    assert review_notes(review, other_coach) == ""
    assert review_notes(review, head) == ""
