"""The lead's compliance page: training plans and progress reviews waiting for signatures, with days waiting; CSV too.

``/documents/compliance/`` (``academy.view_compliance``, leads). Two lists, 25 a page
each (``?plans=`` and ``?reviews=``), oldest wait first; the rows' signatures load in one
query per list, so the queries do not grow with the academy (tests assert it).
"""
from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from academy.decorators import perm_required
from academy.exports import DATE, INT, TEXT, Column
from academy.pages import PAGE_SIZE, export_response

from . import compliance as unsigned
from . import signing
from .models import Signature, TrainingPlan


def _plan_rows(enrolments, *, today) -> list:
    """Attach ``plan`` (with ``state``, or ``None``) and ``days`` to each enrolment of a page (one query)."""
    enrolments = list(enrolments)
    plans = {plan.pk: plan for plan in TrainingPlan.objects.filter(pk__in=[e.plan_id for e in enrolments if e.plan_id])
             .prefetch_related(Prefetch("signatures", queryset=Signature.objects.order_by("signed_at", "id")))}
    for enrolment in enrolments:
        enrolment.plan = plans.get(enrolment.plan_id)
        if enrolment.plan is not None:
            enrolment.plan.state = signing.state_of(enrolment.plan, enrolment.plan.signatures.all())
        enrolment.days = unsigned.days_waiting(enrolment.waiting_since, today)
    return enrolments


def _review_rows(reviews, *, today) -> list:
    reviews = list(reviews)
    for review in reviews:
        review.state = signing.state_of(review, review.signatures.all())
        review.days = unsigned.days_waiting(review.waiting_since, today)
    return reviews


def _plans():
    return unsigned.plans_unsigned().select_related("learner", "cohort", "coach")


def _reviews():
    return (unsigned.reviews_unsigned().select_related("enrolment__learner", "enrolment__cohort", "enrolment__coach")
            .prefetch_related(Prefetch("signatures", queryset=Signature.objects.order_by("signed_at", "id"))))


@perm_required("academy.view_compliance")
def compliance(request: HttpRequest) -> HttpResponse:
    """List enrolments without a current plan signed by all three, and reviews missing signatures."""
    today = timezone.localdate()
    plans = Paginator(_plans(), PAGE_SIZE).get_page(request.GET.get("plans"))
    reviews = Paginator(_reviews(), PAGE_SIZE).get_page(request.GET.get("reviews"))
    return render(request, "documents/compliance.html", {
        "plans": plans, "plan_rows": _plan_rows(plans.object_list, today=today),
        "reviews": reviews, "review_rows": _review_rows(reviews.object_list, today=today),
        "today": today, "risk_days": unsigned.REVIEW_UNSIGNED_RISK_DAYS,
    })


def _missing(document) -> str:
    return "; ".join(signing.PARTY_NOUNS[party].removeprefix("the ") for party in document.state.missing)


@perm_required("academy.view_compliance")
def compliance_csv(request: HttpRequest) -> HttpResponse:
    """Download both lists as one CSV: a row per document waiting for signatures, oldest wait first."""
    today = timezone.localdate()

    class Rows:
        """The two lists as one iterable for ``export_response`` (reads each in chunks)."""

        def iterator(self, chunk_size):
            for page in Paginator(_plans(), chunk_size):
                for enrolment in _plan_rows(page.object_list, today=today):
                    plan = enrolment.plan
                    yield {"document": "training plan", "learner": enrolment.learner.full_name,
                           "cohort": enrolment.cohort.name, "coach": str(enrolment.coach or ""),
                           "version": plan.number if plan else None,
                           "waiting_for": _missing(plan) if plan else "no plan yet",
                           "waiting_since": enrolment.waiting_since, "days": enrolment.days}
            for page in Paginator(_reviews(), chunk_size):
                for review in _review_rows(page.object_list, today=today):
                    enrolment = review.enrolment
                    yield {"document": f"progress review of {review.date:%d/%m/%Y}",
                           "learner": enrolment.learner.full_name, "cohort": enrolment.cohort.name,
                           "coach": str(enrolment.coach or ""), "version": review.version,
                           "waiting_for": _missing(review), "waiting_since": review.waiting_since,
                           "days": review.days}

    columns = [Column(key, label, kind, value=lambda row, key=key: row[key]) for key, label, kind in (
        ("document", "Document", TEXT), ("learner", "Learner", TEXT), ("cohort", "Cohort", TEXT),
        ("coach", "Coach", TEXT), ("version", "Version", INT), ("waiting_for", "Waiting for", TEXT),
        ("waiting_since", "Waiting since", DATE), ("days", "Days waiting", INT))]
    return export_response(request, rows=Rows(), columns=columns, name="unsigned-documents", fmt="csv",
                           what="unsigned documents")
