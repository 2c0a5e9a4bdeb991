"""Leads create users and manage records in the admin; other roles cannot use it."""
import pytest
from django.urls import reverse

from academy.models import User
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_lead_can_create_a_coach_in_the_admin(client_for, lead):
    c = client_for(lead)
    assert c.get(reverse("admin:index")).status_code == 200
    assert c.get(reverse("admin:academy_user_add")).status_code == 200
    response = c.post(
        reverse("admin:academy_user_add"),
        {"email": "New.Coach@Example.org", "full_name": "New Coach", "role": "coach",
         "password1": "a-long-unusual-passphrase-42", "password2": "a-long-unusual-passphrase-42"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.coach@example.org")
    assert user.role == "coach" and user.is_staff is False
    assert user.check_password("a-long-unusual-passphrase-42")


@pytest.mark.parametrize("persona", ["coach", "head"])
def test_other_roles_cannot_use_the_admin(client_for, persona, request):
    user = request.getfixturevalue(persona)
    response = client_for(user).get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_the_admin_refuses_an_invalid_uln_naming_the_field(client_for, lead):
    team = factories.TeamFactory()
    response = client_for(lead).post(
        reverse("admin:learners_learner_add"),
        {"first_name": "Ann", "last_name": "Lee", "work_email": "ann@council.example.org",
         "employee_number": "000123", "uln": "9900000704", "team": team.pk},
    )
    assert response.status_code == 200
    assert "fails the check digit" in response.content.decode()
    from learners.models import Learner

    assert Learner.objects.count() == 0


def test_the_admin_refuses_an_end_date_before_the_start(client_for, lead):
    learner = factories.LearnerFactory()
    cohort = factories.CohortFactory()
    coach = factories.CoachFactory()
    response = client_for(lead).post(
        reverse("admin:cohorts_enrolment_add"),
        {"learner": learner.pk, "cohort": cohort.pk, "coach": coach.pk, "start_date": "08/01/2024",
         "planned_end_date": "01/01/2024", "planned_otj_hours": "400", "status": "active",
         "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 200
    assert "The planned end date must be after the start date." in response.content.decode()
