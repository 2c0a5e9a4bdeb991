"""Fuzzing the read-only API's query parameters with hypothesis: a 200, a 400 naming the parameter, never a 500.

Arbitrary values (and arbitrary extra parameters) for every filter, the page and the
page size go to each list as a head of data would send them. A 200 is a well-formed page
(``count``, ``results`` no longer than the page size cap); a 400 names a parameter
that was sent; a page number out of range is DRF's 404 "Invalid page."; nothing is ever
written.
"""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cohorts.models import AssessmentResult, Enrolment
from dashboards.api.filters import PARAMETERS
from tests import factories

ENDPOINTS = ("/api/cohorts/", "/api/enrolments/", "/api/results/", "/api/metrics/")
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
VALUE = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**64).map(str),
    st.sampled_from(["", "0", "1", "7", "8", "2026-11-29", "29/11/2026", "31/02/2024", "2026-13-01",
                     "9999-12-31", "0001-01-01", "1e309", "NaN", "' OR 1=1 --", "%00", "\x00", "a" * 500]),
)
PARAMS = st.dictionaries(
    st.one_of(st.sampled_from([*PARAMETERS, "page", "page_size"]), st.text(min_size=1, max_size=10)),
    VALUE, max_size=5,
)


@pytest.fixture
def api(db, head):
    cohort = factories.CohortFactory(start_date=dt.date(2024, 1, 8))
    enrolment = factories.EnrolmentFactory(cohort=cohort, status="end_point_assessment")
    factories.AssessmentResultFactory(enrolment=enrolment, grade="merit", date=dt.date(2026, 1, 20))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=head)[0].key}")
    return client


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), params=PARAMS)
def test_any_query_is_a_page_or_a_clear_refusal(api, endpoint, params):
    counts = (Enrolment.objects.count(), AssessmentResult.objects.count())
    response = api.get(endpoint, params)

    assert response.status_code in (200, 400, 404), (endpoint, params, response.status_code)
    body = response.json()
    if response.status_code == 200:
        assert isinstance(body["count"], int) and len(body["results"]) <= 500
    elif response.status_code == 404:
        assert "page" in params and body == {"detail": "Invalid page."}, (params, body)
    else:
        assert set(body) <= set(params) | {"detail", "non_field_errors"} and body, body
    assert (Enrolment.objects.count(), AssessmentResult.objects.count()) == counts
