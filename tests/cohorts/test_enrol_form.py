"""Enrolling a learner: the start date never back-dates silently, the learner is found by name or number."""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from academy.dates import add_months
from cohorts.models import Enrolment
from tests import factories

pytestmark = pytest.mark.django_db
ENROL = reverse("enrolments:create")
LOOKUP = reverse("learners:lookup")


@pytest.fixture
def priya(db):
    return factories.LearnerFactory(first_name="Priya", last_name="Shah", employee_number="EMP0042",
                                    team__name="Housing")


@pytest.fixture
def cohort(db):
    return factories.CohortFactory(start_date=dt.date(2025, 9, 15), standard__typical_duration_months=18)


def _post(client, **entries):
    data = {"learner": "", "cohort": "", "coach": "", "start_date": "", "planned_end_date": "",
            "planned_otj_hours": "300", **entries}
    return client.post(ENROL, data, follow=True)


def test_the_form_shows_today_as_the_start_and_asks_to_choose_a_cohort(client_for, lead, cohort):
    body = client_for(lead).get(ENROL).content.decode()
    assert f'value="{timezone.localdate():%d/%m/%Y}"' in body
    assert '<option value="" selected>Choose a cohort</option>' in body
    assert f'data-lookup-url="{LOOKUP}"' in body


def test_a_blank_start_date_is_today_not_the_cohorts_start(client_for, lead, priya, cohort):
    """Was: a 4 December starter recorded as starting on the cohort's 15 September 2025."""
    response = _post(client_for(lead), learner="EMP0042", cohort=cohort.pk)
    enrolment = Enrolment.objects.get(learner=priya)
    today = timezone.localdate()
    assert enrolment.start_date == today
    assert enrolment.planned_end_date == add_months(today, 18)
    assert "is before today" not in response.content.decode()


def test_a_start_before_today_is_kept_and_warned_about(client_for, lead, priya, cohort):
    response = _post(client_for(lead), learner="EMP0042", cohort=cohort.pk, start_date="15/09/2025")
    body = response.content.decode()
    assert Enrolment.objects.get(learner=priya).start_date == dt.date(2025, 9, 15)
    assert "The start date, 15 September 2025, is before today" in body


def test_an_enrolment_without_a_coach_is_warned_about(client_for, lead, coach, priya, cohort):
    without = _post(client_for(lead), learner="EMP0042", cohort=cohort.pk).content.decode()
    assert "No coach yet: until you choose one" in without
    other = factories.LearnerFactory(employee_number="EMP0043")
    with_coach = _post(client_for(lead), learner="EMP0043", cohort=cohort.pk, coach=coach.pk).content.decode()
    assert "No coach yet" not in with_coach and Enrolment.objects.get(learner=other).coach == coach


def test_the_planned_end_is_asked_for_by_name_where_the_standard_has_no_duration(client_for, lead, priya):
    cohort = factories.CohortFactory(standard__reference="ST9999", standard__title="Odd standard",
                                     standard__typical_duration_months=None)
    body = _post(client_for(lead), learner="EMP0042", cohort=cohort.pk).content.decode()
    assert "Enter the planned end date: ST9999 Odd standard has no typical duration to suggest one." in body
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize("typed", ["EMP0042", "emp0042", "Priya Shah", "shah", "Priya Shah (EMP0042, Housing)"])
def test_the_learner_is_found_by_number_name_or_the_lookups_label(client_for, lead, priya, cohort, typed):
    _post(client_for(lead), learner=typed, cohort=cohort.pk)
    assert Enrolment.objects.get().learner == priya


def test_a_shared_name_asks_for_more_and_an_unknown_one_says_so(client_for, lead, priya, cohort):
    factories.LearnerFactory(first_name="Priya", last_name="Shahid")
    client = client_for(lead)
    assert "2 or more learners match “Priya Shah”" in _post(client, learner="Priya Shah", cohort=cohort.pk).content.decode()
    assert "No learner matches “Nobody”" in _post(client, learner="Nobody", cohort=cohort.pk).content.decode()
    assert not Enrolment.objects.exists()


def test_the_lookup_returns_labels_by_last_name_in_one_query(client_for, lead, priya):
    factories.LearnerFactory(first_name="Amir", last_name="Shaw", employee_number="EMP0007", team__name="Finance")
    client = client_for(lead)
    assert client.get(LOOKUP, {"q": "s"}).json() == {"results": []}  # fewer than two characters
    with CaptureQueriesContext(connection) as few:
        results = client.get(LOOKUP, {"q": "sha"}).json()["results"]
    assert results == [
        {"value": "EMP0042", "label": "Priya Shah (EMP0042, Housing)"},
        {"value": "EMP0007", "label": "Amir Shaw (EMP0007, Finance)"},
    ]
    factories.LearnerFactory.create_batch(15, last_name="Shackleton")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(LOOKUP, {"q": "sha"}).json()["results"]) == 10
    assert len(many) == len(few)
