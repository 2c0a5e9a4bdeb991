"""API filters: the dashboard's filters (``outcomes.filters``), applied to each list.

Query parameters, as on the dashboard: ``cohort``, ``standard``, ``team``, ``coach``
(database ids), ``level`` (2–7), ``from`` and ``to`` (dates, 2026-11-29 or 29/11/2026).
An invalid value is a 400 response naming the parameter (the dashboard page shows the
unfiltered figures instead; an API client must not silently get everything).

What the date range means per list, as on the dashboard: enrolments in learning at
some time in the range (started on or before ``to``, not ended before ``from``);
results dated in the range; cohorts with at least one such enrolment.
"""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from rest_framework.exceptions import ValidationError

from cohorts.models import Enrolment
from dashboards.filters import DashboardFilterForm
from outcomes.filters import DashboardFilters
from outcomes.metrics import enrolment_filter

# OpenAPI description of each parameter (used by the views' ``extend_schema``).
PARAMETERS = {
    "cohort": ("integer", "Only this cohort (id)."),
    "standard": ("integer", "Only cohorts of this apprenticeship standard (id)."),
    "level": ("integer", "Only standards of this level (2 to 7)."),
    "team": ("integer", "Only learners in this team (id)."),
    "coach": ("integer", "Only enrolments assigned to this coach (user id)."),
    "from": ("string", "Start of the date range (inclusive), 2026-11-29 or 29/11/2026."),
    "to": ("string", "End of the date range (inclusive), 2026-11-29 or 29/11/2026."),
}


def parse(query) -> DashboardFilters:
    """Return the filters in ``query`` (``request.query_params``); raise DRF ``ValidationError`` (400) when invalid."""
    if not any((query.get(param) or "").strip() for param in DashboardFilterForm.PARAMS):
        return DashboardFilters()
    form = DashboardFilterForm(query)
    if not form.is_valid():
        reverse = {field: param for param, field in DashboardFilterForm.PARAMS.items()}
        raise ValidationError(
            {reverse.get(field, field): [str(message) for message in messages] for field, messages in form.errors.items()}
        )
    return form.filters()


def enrolment_q(filters: DashboardFilters, prefix: str = "", *, dates: bool = True) -> Q:
    """Return ``Q`` for enrolments (or rows reached through ``prefix``, e.g. "enrolment__") matching ``filters``.

    With ``dates``, the date range keeps enrolments in learning at some time in it.
    """
    q = enrolment_filter(filters, prefix)  # cohort, standard, level, team, coach: as the dashboard filters
    if dates and filters.date_to is not None:
        q &= Q(**{f"{prefix}start_date__lte": filters.date_to})
    if dates and filters.date_from is not None:
        q &= Q(**{f"{prefix}actual_end_date__isnull": True}) | Q(**{f"{prefix}actual_end_date__gte": filters.date_from})
    return q


def filter_enrolments(queryset, filters: DashboardFilters):
    return queryset.filter(enrolment_q(filters))


def filter_results(queryset, filters: DashboardFilters):
    """Results of matching enrolments, dated in the range."""
    queryset = queryset.filter(enrolment_q(filters, "enrolment__", dates=False))
    if filters.date_from is not None:
        queryset = queryset.filter(date__gte=filters.date_from)
    if filters.date_to is not None:
        queryset = queryset.filter(date__lte=filters.date_to)
    return queryset


def filter_cohorts(queryset, filters: DashboardFilters):
    """Cohorts matching the cohort, standard and level filters; with a team, coach or date filter,
    only cohorts with at least one matching enrolment (one ``EXISTS`` subquery, no duplicates)."""
    if filters.cohort_id is not None:
        queryset = queryset.filter(pk=filters.cohort_id)
    if filters.standard_id is not None:
        queryset = queryset.filter(standard_id=filters.standard_id)
    if filters.level is not None:
        queryset = queryset.filter(standard__level=filters.level)
    if filters.team_id is not None or filters.coach_id is not None or filters.has_date_range:
        matching = Enrolment.objects.filter(enrolment_q(filters), cohort_id=OuterRef("pk"))
        queryset = queryset.filter(Exists(matching))
    return queryset
