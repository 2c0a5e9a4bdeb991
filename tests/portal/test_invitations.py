"""Invitations: a lead brings apprentices and their line managers in; each gets a one-time link."""
import re

import pytest
from django.core import mail
from django.urls import reverse

from academy.models import AuditEvent, User
from learners.models import Learner
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort():
    """Three learners on one cohort: two share a line manager; one has no manager e-mail."""
    cohort = factories.CohortFactory(name="Data Analyst L4 — March 2026")
    people = [("Ann", "ann@council.example.org", "Maya Manager", "Maya.Manager@council.example.org"),
              ("Ben", "ben@council.example.org", "Maya Manager", "maya.manager@council.example.org"),
              ("Cal", "cal@council.example.org", "", "")]
    for first, email, manager, manager_email in people:
        factories.EnrolmentFactory(cohort=cohort, learner__first_name=first, learner__last_name="Smith",
                                   learner__work_email=email, learner__line_manager_name=manager,
                                   learner__line_manager_email=manager_email)
    return cohort


def _link(message) -> str:
    return re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body).group(1)


def test_a_lead_invites_a_cohort_and_each_person_once(client_for, lead, cohort, django_capture_on_commit_callbacks):
    client = client_for(lead)
    page = client.get(reverse("portal:invite_cohort", args=[cohort.pk])).content.decode()
    assert page.count("No account yet") == 5  # three learners, two with a manager e-mail
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:invite_cohort", args=[cohort.pk]))
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ann@council.example.org", "ben@council.example.org", "cal@council.example.org",
        "maya.manager@council.example.org"]
    manager = User.objects.get(email="maya.manager@council.example.org")
    assert (manager.role, manager.full_name, manager.has_usable_password()) == ("line_manager", "Maya Manager", False)
    assert set(Learner.objects.filter(line_manager=manager).values_list("first_name", flat=True)) == {"Ann", "Ben"}
    ann = Learner.objects.select_related("user").get(first_name="Ann")
    assert (ann.user.email, ann.user.role) == ("ann@council.example.org", "learner")
    manager_mail = next(m for m in mail.outbox if m.to == ["maya.manager@council.example.org"])
    assert "Ann Smith, Ben Smith" in manager_mail.body
    assert AuditEvent.objects.filter(action="invitation").count() == 4
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages[0].endswith("4 invitations sent; 1 skipped.")
    assert "Line manager of Cal Smith not invited: no line manager e-mail is recorded for this learner." in messages


def test_the_link_sets_a_password_once_and_the_apprentice_signs_in(client, client_for, lead, cohort,
                                                                    django_capture_on_commit_callbacks):
    learner = Learner.objects.get(first_name="Ann")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(lead).post(reverse("portal:invite_learner", args=[learner.pk]))
    link = _link(next(m for m in mail.outbox if m.to == ["ann@council.example.org"]))
    client.logout()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    client.post(set_url, {"password1": "a-long-new-passphrase-26", "password2": "a-long-new-passphrase-26"})
    assert User.objects.get(email="ann@council.example.org").check_password("a-long-new-passphrase-26")
    again = client.get(link, follow=True).content.decode()
    assert "<title>Link not valid" in again  # used once, the link is spent
    assert client.login(email="ann@council.example.org", password="a-long-new-passphrase-26")
    assert client.get(reverse("home"))["Location"] == reverse("portal:learner_home")


def test_someone_with_another_role_or_already_signed_in_is_not_invited(client_for, lead, coach, cohort,
                                                                       django_capture_on_commit_callbacks):
    Learner.objects.filter(first_name="Ann").update(work_email=coach.email)
    ben_user = factories.ApprenticeFactory(email="ben@council.example.org")
    ben_user.last_login = ben_user.date_joined
    ben_user.save()
    Learner.objects.filter(first_name="Ben").update(user=ben_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(lead).post(reverse("portal:invite_cohort", args=[cohort.pk]))
    messages = [str(m) for m in response.wsgi_request._messages]
    assert f"Ann Smith not invited: {coach.email} already has an account as coach; an account has one role." in messages
    assert "Ben Smith not invited: already signed in with their account." in messages
    assert sorted(m.to[0] for m in mail.outbox) == ["cal@council.example.org", "maya.manager@council.example.org"]
    assert User.objects.get(email=coach.email).role == "coach"


def test_an_invitation_that_fails_sends_nothing_and_keeps_nothing(rf, lead, cohort, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    from portal import invitations

    def broken(*args, **kwargs):
        raise RuntimeError("directory down")

    monkeypatch.setattr(invitations, "_line_manager_accounts", broken)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        request = rf.post("/")
        request.user = lead
        invitations.invite_cohort(request, cohort)
    assert mail.outbox == []
    assert not User.objects.filter(role__in=["learner", "line_manager"]).exists()


def test_only_leads_invite(client_for, coach, head, cohort):
    for user in (coach, head, factories.ApprenticeFactory()):
        assert client_for(user).post(reverse("portal:invite_cohort", args=[cohort.pk])).status_code == 403
    assert mail.outbox == []
