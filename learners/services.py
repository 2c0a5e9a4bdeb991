"""Finding learners: search by name, number or email, and the list page's filters."""

from __future__ import annotations

from django.db.models import Q, QuerySet

LOOKUP_LIMIT = 10


def lookup_label(learner) -> str:
    """Return how a learner is offered in a lookup: "Priya Shah (EMP0042, Housing)" (name, number, team)."""
    return f"{learner.full_name} ({learner.employee_number}, {learner.team.name})"


def lookup_learners(learners: QuerySet, query: str) -> list[dict]:
    """Return up to ``LOOKUP_LIMIT`` learners matching ``query`` as ``{"value", "label"}`` dicts (one query).

    ``value`` is the employee number; ``label`` is ``lookup_label``. Fewer than two
    characters give an empty list. Ordered by last name, first name.
    """
    query = (query or "").strip()
    if len(query) < 2:
        return []
    found = search_learners(learners, query).select_related("team").order_by("last_name", "first_name", "pk")
    return [{"value": learner.employee_number, "label": lookup_label(learner)} for learner in found[:LOOKUP_LIMIT]]


# --- Filtering ---------------------------------------------------------------------


def search_learners(learners: QuerySet, query: str) -> QuerySet:
    """Return ``learners`` matching ``query`` in name, work email, employee number or ULN.

    Each word must match the first name, last name or work email ("Priya Shah" finds
    Priya Shah); the whole query may also be an exact employee number or ULN.
    """
    query = (query or "").strip()
    if not query:
        return learners
    condition = Q(employee_number__iexact=query) | Q(uln=query)
    words = Q()
    for word in query.split():
        words &= Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(work_email__icontains=word)
    return learners.filter(condition | words)


def filter_learners(
    learners: QuerySet,
    *,
    query: str = "",
    team=None,
    standard=None,
    cohort=None,
    status: str = "",
    coach=None,
    missing_uln: bool = False,
) -> QuerySet:
    """Return ``learners`` narrowed by search text and filters (each ``None``/empty means any).

    ``standard``, ``cohort``, ``status`` and ``coach`` all apply to the same enrolment
    (a learner on a withdrawn and an active enrolment is found by "active" only through
    the active one). ``missing_uln`` keeps learners whose ULN is not known yet. The
    result is distinct.
    """
    learners = search_learners(learners, query)
    if missing_uln:
        learners = learners.filter(uln="")
    if team is not None:
        learners = learners.filter(team=team)
    enrolment = {}
    if standard is not None:
        enrolment["enrolments__cohort__standard"] = standard
    if cohort is not None:
        enrolment["enrolments__cohort"] = cohort
    if status:
        enrolment["enrolments__status"] = status
    if coach is not None:
        enrolment["enrolments__coach"] = coach
    if enrolment:
        learners = learners.filter(**enrolment).distinct()
    return learners
