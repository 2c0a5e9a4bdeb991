"""Coaches see only their own learners; another coach's learner is a 404 (not a 403)."""
import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_learner(coach):
    return factories.EnrolmentFactory(coach=coach, learner__first_name="Priya", learner__last_name="Shah").learner


@pytest.fixture
def carols_learner(other_coach):
    return factories.EnrolmentFactory(coach=other_coach, learner__first_name="Tom", learner__last_name="Wright").learner


def test_it_shows_a_coach_their_own_learner(client_for, coach, bobs_learner):
    response = client_for(coach).get(reverse("learners:detail", args=[bobs_learner.pk]))
    assert response.status_code == 200
    assert "Priya Shah" in response.content.decode()


def test_it_hides_another_coachs_learner_with_404(client_for, coach, bobs_learner, carols_learner):
    response = client_for(coach).get(reverse("learners:detail", args=[carols_learner.pk]))
    assert response.status_code == 404


def test_it_lists_only_the_coachs_learners(client_for, coach, bobs_learner, carols_learner):
    body = client_for(coach).get(reverse("learners:list")).content.decode()
    assert "Priya" in body
    assert "Tom" not in body


def test_it_shows_a_lead_every_learner(client_for, lead, bobs_learner, carols_learner):
    body = client_for(lead).get(reverse("learners:list")).content.decode()
    assert "Priya" in body and "Tom" in body
    assert client_for(lead).get(reverse("learners:detail", args=[carols_learner.pk])).status_code == 200


def test_it_keeps_learner_pages_from_heads_of_data(client_for, head, bobs_learner):
    assert client_for(head).get(reverse("learners:list")).status_code == 403
    assert client_for(head).get(reverse("learners:detail", args=[bobs_learner.pk])).status_code == 403


def test_it_sends_anonymous_users_to_sign_in(client_for, bobs_learner):
    response = client_for(None).get(reverse("learners:detail", args=[bobs_learner.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_coach_sees_only_their_enrolments_of_a_shared_learner(client_for, coach, other_coach):
    """A learner on two cohorts with two coaches: each coach sees only their own enrolment."""
    mine = factories.EnrolmentFactory(coach=coach, cohort__name="Mine cohort")
    factories.EnrolmentFactory(coach=other_coach, learner=mine.learner, cohort__name="Theirs cohort")
    body = client_for(coach).get(reverse("learners:detail", args=[mine.learner.pk])).content.decode()
    assert "Mine cohort" in body
    assert "Theirs cohort" not in body


def test_learner_list_query_count_does_not_grow(client_for, lead, django_assert_max_num_queries):
    """Queries: session, user, count, page of learners with teams (select_related)."""
    factories.EnrolmentFactory.create_batch(3)
    c = client_for(lead)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        c.get(reverse("learners:list"))
    factories.EnrolmentFactory.create_batch(20)
    with CaptureQueriesContext(connection) as large:
        c.get(reverse("learners:list"))
    assert len(large) == len(small)
