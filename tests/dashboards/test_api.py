"""The read-only API: token authentication, permissions per role, pseudonyms, pagination, filters,
query counts and the OpenAPI schema."""
import datetime as dt
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openapi_spec_validator import validate
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dashboards.api.serializers import pseudonym
from tests import factories

ENDPOINTS = ("api:cohorts", "api:enrolments", "api:results", "api:metrics")
PSEUDONYM = re.compile(r"^L-[0-9a-f]{16}$")


def api_for(user=None, key=None) -> APIClient:
    """Return an API client sending ``user``'s token (created here), or ``key`` as given, or nothing."""
    client = APIClient()
    if user is not None:
        key = Token.objects.get_or_create(user=user)[0].key
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def data(db, coach):
    """Two cohorts on two standards; three enrolments in two teams; two results."""
    analyst = factories.StandardFactory(reference="ST0118", title="Data analyst", level=4)
    technician = factories.StandardFactory(reference="ST0795", title="Data technician", level=3)
    cohort_a = factories.CohortFactory(name="Analyst 2024", standard=analyst, start_date=dt.date(2024, 1, 8))
    cohort_t = factories.CohortFactory(name="Technician 2025", standard=technician, start_date=dt.date(2025, 3, 3))
    revenues = factories.TeamFactory(name="Revenues and Benefits")
    safeguarding = factories.TeamFactory(name="Children's Safeguarding")
    e1 = factories.EnrolmentFactory(cohort=cohort_a, coach=coach, learner__team=revenues,
                                    learner__first_name="Rhys", learner__last_name="Gallagher",
                                    learner__work_email="rhys.gallagher@council.example.org",
                                    status="end_point_assessment")
    e2 = factories.EnrolmentFactory(cohort=cohort_a, learner__team=safeguarding, status="end_point_assessment")
    e3 = factories.EnrolmentFactory(cohort=cohort_t, coach=coach, learner__team=safeguarding)
    r1 = factories.AssessmentResultFactory(enrolment=e1, grade="distinction", date=dt.date(2026, 1, 20))
    r2 = factories.AssessmentResultFactory(enrolment=e2, grade="pass", date=dt.date(2026, 5, 4))
    return {"cohorts": (cohort_a, cohort_t), "enrolments": (e1, e2, e3), "results": (r1, r2),
            "teams": (revenues, safeguarding), "standards": (analyst, technician)}


# --- Authentication and permissions ---------------------------------------------------


@pytest.mark.parametrize("name", ENDPOINTS + ("api:schema",))
def test_no_token_is_401_and_an_invalid_token_is_401(db, name):
    url = reverse(name)
    missing = api_for().get(url)
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == "Token"
    invalid = api_for(key="not-a-real-token").get(url)
    assert invalid.status_code == 401
    assert b"Invalid token." in invalid.content  # JSON for lists; the schema view answers in its own format


@pytest.mark.parametrize("name", ENDPOINTS + ("api:schema",))
def test_a_coach_token_is_403_and_leads_and_heads_are_allowed(coach, lead, head, data, name):
    url = reverse(name)
    denied = api_for(coach).get(url)
    assert denied.status_code == 403
    assert b"may not use the API" in denied.content
    assert api_for(lead).get(url).status_code == 200
    assert api_for(head).get(url).status_code == 200


def test_a_token_of_a_deactivated_user_is_401(head, data):
    client = api_for(head)
    head.is_active = False
    head.save()
    assert client.get(reverse("api:cohorts")).status_code == 401


def test_the_api_is_read_only(lead, data):
    response = api_for(lead).post(reverse("api:cohorts"), {"name": "x"}, format="json")
    assert response.status_code == 405


# --- Pseudonyms -----------------------------------------------------------------------


def test_a_head_of_data_sees_pseudonyms_only(head, data):
    e1 = data["enrolments"][0]
    response = api_for(head).get(reverse("api:enrolments"))
    body = response.content.decode()
    assert "Rhys" not in body and "Gallagher" not in body and "council.example.org" not in body
    assert e1.learner.uln not in body and e1.learner.employee_number not in body
    first = response.json()["results"][0]
    assert first["id"] == e1.pk
    assert PSEUDONYM.match(first["learner"])
    assert first["learner"] == pseudonym(e1.learner_id)
    assert "learner_identity" not in first
    results = api_for(head).get(reverse("api:results")).json()["results"]
    assert results[0]["learner"] == first["learner"], "the same learner has the same pseudonym everywhere"
    assert "learner_identity" not in results[0]


def test_a_lead_sees_the_learners_identity(lead, data):
    e1 = data["enrolments"][0]
    first = api_for(lead).get(reverse("api:enrolments")).json()["results"][0]
    assert first["learner"] == pseudonym(e1.learner_id)
    assert first["learner_identity"] == {
        "id": e1.learner_id, "first_name": "Rhys", "last_name": "Gallagher",
        "work_email": "rhys.gallagher@council.example.org", "employee_number": e1.learner.employee_number,
        "uln": e1.learner.uln,
    }
    result = api_for(lead).get(reverse("api:results")).json()["results"][0]
    assert result["learner_identity"]["work_email"] == "rhys.gallagher@council.example.org"


def test_pseudonyms_differ_between_learners_and_change_with_the_key(data):
    e1, e2, _ = data["enrolments"]
    first = pseudonym(e1.learner_id)
    assert first != pseudonym(e2.learner_id)
    with override_settings(ACADEMY_PSEUDONYM_KEY="another-key"):
        assert pseudonym(e1.learner_id) != first


# --- Content, pagination, filters -----------------------------------------------------


def test_cohorts_list_their_standard_band_and_enrolments(head, data):
    body = api_for(head).get(reverse("api:cohorts")).json()
    assert body["count"] == 2 and body["page"] == 1 and body["page_size"] == 100
    assert body["results"][0] == {
        "id": data["cohorts"][0].pk, "name": "Analyst 2024",
        "standard": {"id": data["standards"][0].pk, "reference": "ST0118", "title": "Data analyst", "level": 4,
                     "max_funding_gbp": 15000},
        "provider": "Example Training Ltd", "provider_ukprn": "", "start_date": "2024-01-08", "enrolments": 2,
    }


def test_a_page_size_above_the_maximum_is_capped(head, data):
    body = api_for(head).get(reverse("api:enrolments"), {"page_size": 100000}).json()
    assert body["page_size"] == 500
    with override_settings(ACADEMY_API_MAX_PAGE_SIZE=2):
        capped = api_for(head).get(reverse("api:enrolments"), {"page_size": 50}).json()
        assert capped["page_size"] == 2
        assert len(capped["results"]) == 2
        assert capped["count"] == 3
        assert "page=2" in capped["next"]


def test_a_page_size_of_zero_or_junk_falls_back_to_the_default(head, data):
    assert api_for(head).get(reverse("api:cohorts"), {"page_size": "lots"}).json()["page_size"] == 100


@pytest.mark.parametrize("param,key,expected", [
    ("team", lambda d: d["teams"][1].pk, {"e2", "e3"}),
    ("cohort", lambda d: d["cohorts"][1].pk, {"e3"}),
    ("standard", lambda d: d["standards"][0].pk, {"e1", "e2"}),
    ("level", lambda d: 3, {"e3"}),
    ("coach", lambda d: d["enrolments"][0].coach_id, {"e1", "e3"}),
])
def test_enrolments_filter_like_the_dashboard(head, data, param, key, expected):
    ids = {e.pk: name for name, e in zip(("e1", "e2", "e3"), data["enrolments"])}
    body = api_for(head).get(reverse("api:enrolments"), {param: key(data)}).json()
    assert {ids[row["id"]] for row in body["results"]} == expected


def test_results_and_cohorts_filter_by_date_range(head, data):
    client = api_for(head)
    results = client.get(reverse("api:results"), {"from": "01/04/2026", "to": "2026-12-31"}).json()["results"]
    assert [r["id"] for r in results] == [data["results"][1].pk]
    cohorts = client.get(reverse("api:cohorts"), {"team": data["teams"][0].pk}).json()["results"]
    assert [c["name"] for c in cohorts] == ["Analyst 2024"]
    before = client.get(reverse("api:enrolments"), {"to": "2024-12-31"}).json()["results"]
    assert {r["id"] for r in before} == {data["enrolments"][0].pk, data["enrolments"][1].pk}


def test_an_invalid_filter_is_400_naming_the_parameter(head, data):
    response = api_for(head).get(reverse("api:enrolments"), {"level": "9", "from": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()) == {"level", "from"}


def test_metrics_are_the_snapshots_and_filtered_metrics_are_computed_live(head, data):
    from outcomes.metrics import recompute_metrics

    recompute_metrics()
    client = api_for(head)
    rows = client.get(reverse("api:metrics")).json()["results"]
    assert {r["key"] for r in rows} == {"all", f"cohort:{data['cohorts'][0].pk}", f"cohort:{data['cohorts'][1].pk}"}
    everyone = next(r for r in rows if r["key"] == "all")
    assert everyone["enrolled"] == 3 and everyone["epa_completed"] == 2
    assert everyone["rates"]["distinction_merit_share"]["numerator"] == 1
    filtered = client.get(reverse("api:metrics"), {"team": data["teams"][0].pk}).json()["results"]
    live_all = next(r for r in filtered if r["key"] == "all")
    assert live_all["enrolled"] == 1 and live_all["distinction"] == 1


# --- Query counts ---------------------------------------------------------------------


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_list_query_counts_do_not_grow_with_the_data(lead, data, name):
    """Queries: the token with its user, the page's COUNT, the page's rows with related rows joined
    (metrics: the snapshots). The same with 3 or 23 enrolments, and with a filter."""
    client = api_for(lead)
    url = reverse(name)
    few = _queries(client, url)
    more_cohort = factories.CohortFactory(standard=data["standards"][0])
    for _ in range(20):
        enrolment = factories.EnrolmentFactory(cohort=more_cohort, status="end_point_assessment")
        factories.AssessmentResultFactory(enrolment=enrolment)
    many = _queries(client, url)
    assert few == many
    assert few <= 3
    filtered_few = _queries(client, url, {"team": data["teams"][0].pk})
    factories.EnrolmentFactory.create_batch(5, cohort=more_cohort, learner__team=data["teams"][0])
    assert _queries(client, url, {"team": data["teams"][0].pk}) == filtered_few


# --- Schema ---------------------------------------------------------------------------


def test_the_openapi_schema_is_valid_and_documents_every_endpoint(head, data):
    response = api_for(head).get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)  # openapi-spec-validator: raises on an invalid OpenAPI 3 document
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/api/cohorts/", "/api/enrolments/", "/api/results/", "/api/metrics/"}
    parameters = {p["name"] for p in spec["paths"]["/api/enrolments/"]["get"]["parameters"]}
    assert {"page", "page_size", "cohort", "standard", "level", "team", "coach", "from", "to"} <= parameters
    schemes = spec["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["type"] == "apiKey" and schemes["tokenAuth"]["in"] == "header"


# --- Tokens ---------------------------------------------------------------------------


def test_a_user_creates_and_revokes_their_own_token(client_for, head):
    client = client_for(head)
    page = client.get(reverse("api:token"))
    assert page.status_code == 200 and "You have no token" in page.content.decode()
    created = client.post(reverse("api:token"), {"action": "create"})
    key = Token.objects.get(user=head).key
    assert key in created.content.decode()
    assert api_for(key=key).get(reverse("api:cohorts")).status_code == 200
    again = client.get(reverse("api:token")).content.decode()
    assert key not in again, "the key is shown once"
    client.post(reverse("api:token"), {"action": "revoke"})
    assert not Token.objects.filter(user=head).exists()
    assert api_for(key=key).get(reverse("api:cohorts")).status_code == 401


def test_coaches_cannot_reach_the_token_page(client_for, coach):
    assert client_for(coach).get(reverse("api:token")).status_code == 403
    assert client_for(coach).post(reverse("api:token"), {"action": "create"}).status_code == 403
    assert not Token.objects.filter(user=coach).exists()


def test_the_command_creates_a_token_for_a_head_and_refuses_a_coach(head, coach):
    out = io.StringIO()
    call_command("create_api_token", "DAVE@example.org", stdout=out)
    assert out.getvalue().strip() == Token.objects.get(user=head).key
    with pytest.raises(CommandError, match="may not use the API"):
        call_command("create_api_token", coach.email)
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "nobody@example.org")
