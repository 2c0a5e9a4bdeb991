"""The apprentice's home and the line manager's pages: their own records only, fixed query counts."""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learners.models import Learner
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def apprentice(coach):
    """An apprentice with an account, a line manager with an account, sessions, a review and training."""
    user = factories.ApprenticeFactory(email="ann@council.example.org")
    manager = factories.LineManagerFactory(email="maya@council.example.org", full_name="Maya Manager")
    enrolment = factories.EnrolmentFactory(coach=coach, learner__user=user, learner__line_manager=manager,
                                           learner__first_name="Ann", learner__last_name="Smith",
                                           cohort__start_date=dt.date(2025, 9, 15))
    factories.CoachingSessionFactory(enrolment=enrolment, topics="SQL joins", notes="Ann finds joins hard")
    factories.OffTheJobActivityFactory(enrolment=enrolment, hours=3, description="Power BI course")
    return {"user": user, "manager": manager, "enrolment": enrolment}


def _add_records(enrolment, n):
    for i in range(n):
        factories.CoachingSessionFactory(enrolment=enrolment, date=enrolment.start_date + dt.timedelta(days=20 + i))
        factories.OffTheJobActivityFactory(enrolment=enrolment, date=enrolment.start_date + dt.timedelta(days=20 + i))


def test_the_apprentice_sees_their_own_apprenticeship(client_for, apprentice, other_coach):
    stranger = factories.EnrolmentFactory(coach=other_coach, learner__first_name="Zed", learner__last_name="Other")
    factories.OffTheJobActivityFactory(enrolment=stranger, description="Zed's secret course")
    html = client_for(apprentice["user"]).get(reverse("portal:learner_home")).content.decode()
    assert "Ann Smith" in html and "Line manager: Maya Manager" in html
    assert "4.0 hours logged" in html  # 1 hour from the attended session + 3 hours of training
    assert "Power BI course" in html and "SQL joins" in html and "Ann finds joins hard" in html  # their own notes
    assert "Zed" not in html
    assert "The minimum for your apprenticeship:" in html


def test_an_apprentice_account_not_yet_linked_is_told_what_to_do(client_for):
    html = client_for(factories.ApprenticeFactory()).get(reverse("portal:learner_home")).content.decode()
    assert "Your account is not linked to an apprenticeship yet" in html


def test_the_line_manager_sees_their_apprentices_without_coaching_notes(client_for, apprentice, other_coach):
    factories.EnrolmentFactory(coach=other_coach, learner__first_name="Zed", learner__last_name="Other")
    client = client_for(apprentice["manager"])
    home = client.get(reverse("portal:line_manager_home")).content.decode()
    assert "Ann Smith" in home and "Zed" not in home
    assert "4.0 hours logged" in home
    learner = apprentice["enrolment"].learner
    page = client.get(reverse("portal:line_manager_learner", args=[learner.pk])).content.decode()
    assert "Power BI course" in page and "Ann finds joins hard" not in page
    other = Learner.objects.get(first_name="Zed")
    assert client.get(reverse("portal:line_manager_learner", args=[other.pk])).status_code == 404


@pytest.mark.parametrize("name", ["portal:learner_home", "portal:line_manager_home"])
def test_the_query_count_does_not_grow_with_the_records(client_for, apprentice, name):
    user = apprentice["user"] if name == "portal:learner_home" else apprentice["manager"]
    client = client_for(user)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(name)).status_code == 200
    _add_records(apprentice["enrolment"], 12)
    factories.EnrolmentFactory(learner=apprentice["enrolment"].learner)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse(name))
    assert len(few.captured_queries) == len(many.captured_queries)


def test_the_lead_sees_account_states_on_the_learner_page(client_for, lead, apprentice):
    learner = apprentice["enrolment"].learner
    html = client_for(lead).get(learner.get_absolute_url()).content.decode()
    assert "Invited, not signed in yet" in html  # the apprentice and the manager have never signed in
    assert reverse("portal:invite_learner", args=[learner.pk]) in html


def test_the_migration_links_line_managers_by_email_in_any_capitals(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("learners.migrations.0007_learner_line_manager_account")
    manager = factories.LineManagerFactory(email="maya@council.example.org")
    linked = factories.LearnerFactory(line_manager_email="Maya@Council.example.org")
    unlinked = factories.LearnerFactory(line_manager_email="nobody@council.example.org", line_manager_name="No Body")
    migration.link_line_managers(apps, None)
    linked.refresh_from_db()
    unlinked.refresh_from_db()
    assert (linked.line_manager, unlinked.line_manager, unlinked.line_manager_name) == (manager, None, "No Body")
