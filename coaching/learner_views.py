"""The learner pages of the lead's workspace: the list (with enrolment filters and downloads), a learner's page, add and change.

A lead sees and manages every learner; a coach sees only their own learners, read-only
(others are 404); a head of data gets 403 (no learner-level pages). The learner's page
shows their enrolments with status history and coaching, so it is built here, in the
lowest app that knows all of them (docs/architecture.md).
"""
from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, DecimalField, Max, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from academy.audit import record_learner_read
from academy.changes import records_changed
from academy.decorators import perm_required
from academy.history import change_history
from academy.pages import form_page, is_filtered, list_export_views, paginate, save_form
from cohorts.exports import LEARNER_COLUMNS, learner_rows
from cohorts.forms import MISSING_ULN, EnrolmentFilterForm
from cohorts.models import Enrolment, EnrolmentStatusChange
from learners.forms import LearnerForm
from learners.models import Learner
from learners.rules import visible_learners
from learners.services import filter_learners, lookup_learners

from .models import CoachingSession


def _filtered_learners(request: HttpRequest):
    """Return (filter form, learners the user may see matching the GET filters)."""
    form = EnrolmentFilterForm(request.GET or None, user=request.user)
    values = form.filters() if request.GET else {}
    coach = request.user if request.user.is_coach else values.get("coach")
    learners = filter_learners(
        visible_learners(request.user),
        query=values.get("q") or "",
        team=values.get("team"),
        standard=values.get("standard"),
        cohort=values.get("cohort"),
        status=values.get("status") or "",
        coach=coach,
        missing_uln=values.get("missing") == MISSING_ULN,
    )
    return form, learners.order_by("last_name", "first_name", "id")


@perm_required("academy.view_learner_list")
def learner_list(request: HttpRequest) -> HttpResponse:
    """List the learners the user may see: search, filters (team, standard, cohort, status, coach), 25 a page.

    Queries do not grow with the rows: the page of learners with teams, then one
    prefetch of their enrolments with cohorts.
    """
    form, learners = _filtered_learners(request)
    shown = Enrolment.objects.select_related("cohort").order_by("cohort__start_date", "id")
    if request.user.is_coach:
        shown = shown.filter(coach=request.user)
    learners = learners.select_related("team").prefetch_related(
        Prefetch("enrolments", queryset=shown, to_attr="listed_enrolments")
    )
    return render(
        request,
        "learners/list.html",
        {
            "page": paginate(request, learners),
            "form": form,
            "query": request.GET.get("q", "").strip(),
            "filtered": is_filtered(request),
            "query_string": request.GET.urlencode(),
            "can_manage": request.user.has_perm("academy.manage_academy"),
            "can_export": request.user.has_perm("academy.export_learners"),
        },
    )


@perm_required("academy.manage_academy")
def learner_lookup(request: HttpRequest) -> JsonResponse:
    """Return the learners matching ``?q=`` for the enrol form's lookup: ``{"results": [{"value", "label"}]}``.

    Up to ``learners.services.LOOKUP_LIMIT`` results, by last name; fewer than two
    characters give none. One query (plus the user's), whatever the number of learners.
    """
    return JsonResponse({"results": lookup_learners(visible_learners(request.user), request.GET.get("q", ""))})


learner_export_csv, learner_export_xlsx = list_export_views(
    name="learners", filtered=_filtered_learners, rows=learner_rows, columns=LEARNER_COLUMNS
)


def _get_learner_for_user(request, pk):
    """Return the learner ``pk`` if the user may see it, else raise ``Http404``."""
    return get_object_or_404(visible_learners(request.user).with_team().select_related("user", "line_manager"), pk=pk)


@perm_required("academy.view_learner_list")
def learner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one learner: details, each enrolment with status, status history, coaching summary and EPA results.

    Leads also see the change history of the learner's record.
    """
    learner = _get_learner_for_user(request, pk)
    record_learner_read(request, learner)  # audit: anyone but the learner's coach
    otj_logged = (
        CoachingSession.objects.filter(enrolment=OuterRef("pk"), attendance="attended")
        .values("enrolment")
        .annotate(total=Sum("otj_hours"))
        .values("total")
    )
    enrolments = (
        Enrolment.objects.filter(learner=learner)
        .select_related("cohort__standard", "coach")
        .prefetch_related(
            "assessment_results",
            Prefetch(
                "status_changes",
                queryset=EnrolmentStatusChange.objects.select_related("changed_by").order_by(
                    "effective_date", "changed_at", "id"
                ),
            ),
        )
        .annotate(
            sessions_attended=Count("coaching_sessions", filter=Q(coaching_sessions__attendance="attended")),
            last_session=Max("coaching_sessions__date", filter=Q(coaching_sessions__attendance="attended")),
            coaching_otj_hours=Coalesce(
                Subquery(otj_logged, output_field=DecimalField()), Value(0), output_field=DecimalField()
            ),
        )
        .order_by("cohort__start_date", "id")
    )
    if request.user.is_coach:
        enrolments = enrolments.filter(coach=request.user)
    can_manage = request.user.has_perm("academy.manage_academy")
    history = change_history(learner.history.select_related("history_user")) if can_manage else []
    return render(
        request,
        "learners/detail.html",
        {"learner": learner, "enrolments": enrolments, "can_manage": can_manage, "history": history},
    )


@perm_required("academy.manage_academy")
def learner_create(request: HttpRequest) -> HttpResponse:
    """Add a learner; on success go to their page to enrol them on a cohort."""
    form, learner = save_form(request, LearnerForm, what="learner", changed=lambda _learner: records_changed())
    if learner:
        messages.success(request, f"{learner.full_name} was added. Now enrol them on a cohort.")
        return redirect(learner)
    return _learner_form_page(request, form, None)


@perm_required("academy.manage_academy")
def learner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a learner's details; a save that lost a race with another user's save is refused (nothing lost)."""
    learner = get_object_or_404(Learner.objects.with_team(), pk=pk)
    form, saved = save_form(request, LearnerForm, instance=learner, what="learner",
                            changed=lambda _learner: records_changed())
    if saved:
        messages.success(request, f"{learner.full_name}'s details were saved.")
        return redirect(learner)
    return _learner_form_page(request, form, learner)


def _learner_form_page(request: HttpRequest, form, learner) -> HttpResponse:
    list_url = reverse("learners:list")
    crumbs = [("Learners", list_url)]
    if learner:
        crumbs.append((learner.full_name, learner.get_absolute_url()))
    return form_page(
        request,
        form,
        heading=f"Change {learner.full_name}’s details" if learner else "Add a learner",
        crumbs=crumbs,
        submit="Save changes" if learner else "Add learner",
        cancel_url=learner.get_absolute_url() if learner else list_url,
        context={"learner": learner},
    )
