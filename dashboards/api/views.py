"""Read-only API views: cohorts, enrolments, results, metrics (lists), and the token page.

Each list is one paginated query with its related rows joined (``select_related``) plus
the page's ``COUNT``; enrolments and results are ordered by id (an index scan: a page
never sorts the whole table), so the number of queries does not grow with the data. Filters:
``dashboards.api.filters``. Permissions: ``dashboards.api.permissions.CanUseApi``.
"""
from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.generics import ListAPIView

from academy.decorators import perm_required
from cohorts.models import AssessmentResult, Cohort, Enrolment
from dashboards.readers import live_metrics
from outcomes.models import CohortMetrics

from . import filters as api_filters
from .permissions import CanUseApi, may_see_identity
from .serializers import (
    CohortSerializer,
    EnrolmentSerializer,
    EnrolmentWithIdentitySerializer,
    MetricsSerializer,
    ResultSerializer,
    ResultWithIdentitySerializer,
)
from .tokens import issue_token, revoke_token

FILTER_PARAMETERS = [
    OpenApiParameter(
        name,
        OpenApiTypes.INT if kind == "integer" else OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=False,
        description=description,
    )
    for name, (kind, description) in api_filters.PARAMETERS.items()
]
IDENTITY_NOTE = (
    " Learners are named by a stable pseudonym (`learner`); `learner_identity` (name, email, employee number, "
    "ULN) is present only when the token's user is an apprenticeship lead."
)


class _ReadOnlyList(ListAPIView):
    permission_classes = [CanUseApi]

    def filters(self):
        if not hasattr(self, "_filters"):
            self._filters = api_filters.parse(self.request.query_params)
        return self._filters


@extend_schema(summary="List cohorts", parameters=FILTER_PARAMETERS,
               description="Cohorts by start date, with their standard and enrolment count.")
class CohortList(_ReadOnlyList):
    serializer_class = CohortSerializer

    def get_queryset(self):
        # A correlated count: computed for the page's cohorts only, not by grouping every enrolment.
        enrolments = (
            Enrolment.objects.filter(cohort=OuterRef("pk")).order_by().values("cohort").annotate(n=Count("*"))
        )
        queryset = Cohort.objects.select_related("standard").annotate(
            enrolment_count=Coalesce(Subquery(enrolments.values("n")), 0)
        )
        return api_filters.filter_cohorts(queryset, self.filters()).order_by("start_date", "name", "id")


@extend_schema(summary="List enrolments", parameters=FILTER_PARAMETERS, responses=EnrolmentWithIdentitySerializer,
               description="Enrolments in the order they were recorded (by id)." + IDENTITY_NOTE)
class EnrolmentList(_ReadOnlyList):
    def get_serializer_class(self):
        return EnrolmentWithIdentitySerializer if may_see_identity(self.request.user) else EnrolmentSerializer

    def get_queryset(self):
        queryset = Enrolment.objects.select_related("learner__team", "cohort__standard", "coach")
        return api_filters.filter_enrolments(queryset, self.filters()).order_by("id")  # the primary key: a page reads 100 rows, it never sorts them all


@extend_schema(summary="List end-point assessment results", parameters=FILTER_PARAMETERS,
               responses=ResultWithIdentitySerializer,
               description="EPA results (every attempt), in the order they were recorded (by id)." + IDENTITY_NOTE)
class ResultList(_ReadOnlyList):
    def get_serializer_class(self):
        return ResultWithIdentitySerializer if may_see_identity(self.request.user) else ResultSerializer

    def get_queryset(self):
        queryset = AssessmentResult.objects.select_related("enrolment__learner", "enrolment__cohort__standard")
        return api_filters.filter_results(queryset, self.filters()).order_by("id")


@extend_schema(
    summary="List cohort metrics",
    parameters=FILTER_PARAMETERS,
    description=(
        "The dashboard's figures: one row per cohort, then the all-cohorts row (key \"all\"). Without filters, the "
        "snapshots the metrics job last wrote; with filters, computed now over the filtered set, as the dashboard does."
    ),
)
class MetricsList(_ReadOnlyList):
    serializer_class = MetricsSerializer

    def get_queryset(self):
        filters = self.filters()
        if filters.is_filtered:
            return live_metrics(filters)["snapshots"]
        return CohortMetrics.objects.select_related("cohort__standard").order_by("cohort__start_date", "key")


# --- The token page (a Django page, not part of the API) -------------------------------


@perm_required("academy.use_api")
def token(request: HttpRequest) -> HttpResponse:
    """Show, create (replacing any old one) or revoke the signed-in user's own API token.

    POST ``action=create`` shows the new key once on the response page; ``action=revoke``
    deletes the token, so tools using it get 401 from then on.
    """
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            new_key = issue_token(user=request.user)
        elif action == "revoke":
            deleted = revoke_token(user=request.user)
            messages.success(request, "Your API token was revoked." if deleted else "You had no API token.")
            return redirect("api:token")
    existing = Token.objects.filter(user=request.user).first()
    return render(
        request,
        "outcomes/api/token.html",
        {"token": existing, "new_key": new_key, "identity": may_see_identity(request.user)},
    )


# Endpoints listed on the API's page, in the order a newcomer reads them: (URL name, what it returns).
ENDPOINTS = (
    ("api:cohorts", "Cohorts with their standard, provider and start date."),
    ("api:enrolments", "Enrolments with status and dates; learners named only for leads, by pseudonym otherwise."),
    ("api:results", "End-point assessment results: grade, attempt and date."),
    ("api:metrics", "Each cohort's latest metrics snapshot: counts, rates with 95% intervals, national figures."),
)


@perm_required("academy.use_api")
def index(request: HttpRequest) -> HttpResponse:
    """Describe the read-only API at ``/api/``: how to authenticate, the endpoints, the schema and the explorer."""
    endpoints = [{"url": reverse(name), "text": text} for name, text in ENDPOINTS]
    return render(request, "outcomes/api/index.html", {"endpoints": endpoints,
                                                         "identity": may_see_identity(request.user)})


@perm_required("academy.use_api")
def docs(request: HttpRequest) -> HttpResponse:
    """Show the API explorer (Swagger UI, vendored): the OpenAPI schema read with the signed-in session; GET only."""
    return render(request, "outcomes/api/docs.html", {"schema_url": reverse("api:schema") + "?format=json"})
