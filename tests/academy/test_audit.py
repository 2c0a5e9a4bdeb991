"""The audit log: sign-ins (with IP), failed sign-ins, sign-outs, exports, reads of a learner's page."""
import pytest
from django.core.cache import cache
from django.urls import reverse

from academy.audit import record
from academy.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_a_sign_in_is_recorded_with_the_ip_address(client, coach):
    response = client.post(
        reverse("account_login"), {"login": coach.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="sign_in")
    assert (event.user, event.ip_address, event.object_id) == (coach, "203.0.113.7", str(coach.pk))
    assert event.detail == {"method": "password"}


def test_a_failed_sign_in_is_recorded_without_the_typed_address(client, coach):
    client.post(reverse("account_login"), {"login": coach.email, "password": "wrong-password-1"}, REMOTE_ADDR="198.51.100.2")
    client.post(reverse("account_login"), {"login": "nobody@example.org", "password": "wrong-password-1"})
    events = list(AuditEvent.objects.filter(action="sign_in_failed").order_by("id"))
    assert [(e.user, e.object_id, e.detail) for e in events] == [
        (None, str(coach.pk), {"known_account": True}),
        (None, "", {"known_account": False}),
    ]
    assert events[0].ip_address == "198.51.100.2"
    assert "nobody@example.org" not in str([e.detail for e in events])


def test_a_sign_out_is_recorded(client_for, coach):
    client = client_for(coach)
    client.post(reverse("account_logout"))
    assert AuditEvent.objects.filter(action="sign_out", user=coach).count() == 1


def test_the_dashboard_export_is_recorded(client_for, head):
    response = client_for(head).get(reverse("outcomes:export_csv"))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="export")
    assert event.user == head
    assert event.detail["export"] == "dashboard"
    assert event.detail["file"].endswith(".csv")


@pytest.fixture
def learner(coach):
    return factories.EnrolmentFactory(coach=coach).learner


def test_a_lead_reading_a_learner_page_is_recorded(client_for, lead, learner):
    assert client_for(lead).get(reverse("learners:detail", args=[learner.pk])).status_code == 200
    event = AuditEvent.objects.get(action="view_learner")
    assert (event.user, event.object_type, event.object_id) == (lead, "learners.learner", str(learner.pk))


def test_the_learners_own_coach_reading_their_page_is_not_recorded(client_for, coach, learner):
    assert client_for(coach).get(reverse("learners:detail", args=[learner.pk])).status_code == 200
    assert not AuditEvent.objects.filter(action="view_learner").exists()


def test_another_coach_gets_404_and_nothing_is_read(client_for, other_coach, learner):
    assert client_for(other_coach).get(reverse("learners:detail", args=[learner.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="view_learner").exists()


def test_record_takes_the_user_from_the_request_and_the_object_type(rf, lead, learner):
    request = rf.get("/", REMOTE_ADDR="192.0.2.1")
    request.user = lead
    event = record(request=request, action=AuditEvent.Action.EXPORT, obj=learner, detail={"rows": 3})
    assert (event.user, event.object_type, event.object_id, event.ip_address, event.detail) == (
        lead, "learners.learner", str(learner.pk), "192.0.2.1", {"rows": 3},
    )
