"""Cohort and enrolment pages of the lead's workspace, and one small page per status change.

Leads manage everything (``academy.manage_academy``); a coach may read the enrolments
they coach (others are 404); a head of data gets 403. Views parse input, ask
``academy.rules``, call ``cohorts.services`` and render; after a POST they redirect with
a success message. Refused changes (``TransitionError``) are shown on the form, naming
the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from academy.changes import cohorts_changed
from academy.dates import uk_date
from academy.decorators import perm_required
from academy.history import change_history
from academy.pages import form_page, is_filtered, list_export_views, named_record_form_page, paginate, save_form
from learners.models import Learner
from learners.services import lookup_label, search_learners

from . import services
from .exports import ENROLMENT_COLUMNS, enrolment_rows
from .forms import (
    MISSING_ULN,
    CohortFilterForm,
    CohortForm,
    CompleteForm,
    EndBreakForm,
    EnrolmentCreateForm,
    EnrolmentEditForm,
    EnrolmentFilterForm,
    GatewayForm,
    ResultForm,
    StartBreakForm,
    StartEpaForm,
    WithdrawForm,
)
from .models import AssessmentResult, Cohort, Enrolment, EnrolmentStatusChange
from .rules import visible_enrolments

Status = Enrolment.Status


# --- Cohorts -----------------------------------------------------------------------


def _status_counts():
    return {
        "enrolment_count": Count("enrolments", distinct=True),
        "active_count": Count(
            "enrolments",
            filter=Q(
                enrolments__status__in=[
                    Status.ACTIVE,
                    Status.BREAK_IN_LEARNING,
                    Status.GATEWAY,
                    Status.END_POINT_ASSESSMENT,
                ]
            ),
            distinct=True,
        ),
        "completed_count": Count("enrolments", filter=Q(enrolments__status=Status.COMPLETED), distinct=True),
        "withdrawn_count": Count("enrolments", filter=Q(enrolments__status=Status.WITHDRAWN), distinct=True),
    }


@perm_required("academy.manage_academy")
def cohort_list(request: HttpRequest) -> HttpResponse:
    """List cohorts (newest first) with enrolment counts by status in one query; search and standard filter."""
    form = CohortFilterForm(request.GET or None)
    values = form.filters() if request.GET else {}
    cohorts = Cohort.objects.with_standard().annotate(**_status_counts()).order_by("-start_date", "name")
    query = (values.get("q") or "").strip()
    if query:
        cohorts = cohorts.filter(Q(name__icontains=query) | Q(provider__icontains=query))
    if values.get("standard"):
        cohorts = cohorts.filter(standard=values["standard"])
    page = paginate(request, cohorts)
    return render(request, "cohorts/list.html", {"page": page, "form": form, "filtered": is_filtered(request)})


@perm_required("academy.manage_academy")
def cohort_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a cohort, its enrolments (25 a page, with learners, teams and coaches) and its change history."""
    cohort = get_object_or_404(Cohort.objects.with_standard().annotate(**_status_counts()), pk=pk)
    enrolments = cohort.enrolments.select_related("learner__team", "coach").order_by(
        "learner__last_name", "learner__first_name", "id"
    )
    history = change_history(cohort.history.select_related("history_user"))
    return render(
        request, "cohorts/detail.html", {"cohort": cohort, "page": paginate(request, enrolments), "history": history}
    )


@perm_required("academy.manage_academy")
def cohort_create(request: HttpRequest) -> HttpResponse:
    """Add a cohort."""
    form, cohort = save_form(request, CohortForm, what="cohort", changed=lambda c: cohorts_changed(c.pk))
    if cohort:
        messages.success(request, f"The cohort {cohort.name} was added. Now enrol learners on it.")
        return redirect("cohorts:detail", pk=cohort.pk)
    return named_record_form_page(request, form, None, noun="cohort", namespace="cohorts")


@perm_required("academy.manage_academy")
def cohort_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a cohort; a save that lost a race with another user's save is refused (nothing lost)."""
    cohort = get_object_or_404(Cohort.objects.with_standard(), pk=pk)
    form, saved = save_form(request, CohortForm, instance=cohort, what="cohort",
                            changed=lambda c: cohorts_changed(c.pk))
    if saved:
        messages.success(request, f"The cohort {cohort.name} was saved.")
        return redirect("cohorts:detail", pk=cohort.pk)
    return named_record_form_page(request, form, cohort, noun="cohort", namespace="cohorts")


# --- Enrolments --------------------------------------------------------------------


def _filtered_enrolments(request: HttpRequest):
    """Return (filter form, enrolments the user may see matching the GET filters)."""
    form = EnrolmentFilterForm(request.GET or None, user=request.user)
    values = form.filters() if request.GET else {}
    enrolments = visible_enrolments(request.user)
    query = (values.get("q") or "").strip()
    if query:
        enrolments = enrolments.filter(learner__in=search_learners(Learner.objects.all(), query))
    for name, lookup in (
        ("team", "learner__team"),
        ("standard", "cohort__standard"),
        ("cohort", "cohort"),
        ("status", "status"),
        ("coach", "coach"),
    ):
        if values.get(name):
            enrolments = enrolments.filter(**{lookup: values[name]})
    if values.get("missing") == MISSING_ULN:
        enrolments = enrolments.filter(learner__uln="")
    return form, enrolments.order_by("learner__last_name", "learner__first_name", "cohort__start_date", "id")


@perm_required("academy.view_enrolment_list")
def enrolment_list(request: HttpRequest) -> HttpResponse:
    """List the enrolments the user may see with search and filters, 25 a page (2 queries for the rows: count, page)."""
    form, enrolments = _filtered_enrolments(request)
    enrolments = enrolments.select_related("learner__team", "cohort__standard", "coach")
    return render(
        request,
        "cohorts/enrolment_list.html",
        {
            "page": paginate(request, enrolments),
            "form": form,
            "filtered": is_filtered(request),
            "query_string": request.GET.urlencode(),
            "can_manage": request.user.has_perm("academy.manage_academy"),
            "can_export": request.user.has_perm("academy.export_learners"),
        },
    )


enrolment_export_csv, enrolment_export_xlsx = list_export_views(
    name="enrolments", filtered=_filtered_enrolments, rows=enrolment_rows, columns=ENROLMENT_COLUMNS
)


def _enrolment_for(request: HttpRequest, pk: int) -> Enrolment:
    return get_object_or_404(
        visible_enrolments(request.user).select_related("learner__team", "cohort__standard", "coach"), pk=pk
    )


@perm_required("academy.view_enrolment_list")
def enrolment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an enrolment: details, the actions its status allows, status history, results and change history."""
    enrolment = _enrolment_for(request, pk)
    results = list(enrolment.assessment_results.order_by("attempt"))
    changes = (
        EnrolmentStatusChange.objects.filter(enrolment=enrolment)
        .select_related("changed_by")
        .order_by("effective_date", "changed_at", "id")
    )
    can_manage = request.user.has_perm("academy.manage_academy")
    actions, history = [], []
    if can_manage:
        for action in services.ACTIONS:
            if services.refusal(enrolment, action, results=results) is None:
                spec = TRANSITIONS[action]
                actions.append((spec.title, reverse(f"enrolments:{action}", args=[enrolment.pk]), spec.warning))
        records = [
            *enrolment.history.select_related("history_user"),
            *AssessmentResult.history.filter(enrolment_id=enrolment.pk).select_related("history_user"),
        ]
        history = change_history(
            records,
            subject=lambda r: (
                f"EPA result, attempt {r.attempt}" if isinstance(r, AssessmentResult.history.model) else "Enrolment"
            ),
        )
    return render(
        request,
        "cohorts/enrolment_detail.html",
        {
            "enrolment": enrolment,
            "results": results,
            "changes": changes,
            "actions": actions,
            "can_manage": can_manage,
            "history": history,
        },
    )


@perm_required("academy.manage_academy")
def enrolment_create(request: HttpRequest) -> HttpResponse:
    """Enrol a learner on a cohort (``?learner=<id>`` and ``?cohort=<id>`` prefill the form).

    The start date field shows today's date; a start before today is saved as entered
    and the confirmation warns that the plan counts from then.
    """
    initial = {"start_date": timezone.localdate()}
    learner = (
        Learner.objects.select_related("team").filter(pk=request.GET.get("learner") or 0).first()
        if request.GET.get("learner", "").isdigit()
        else None
    )
    if learner:
        initial["learner"] = lookup_label(learner)
    if request.GET.get("cohort", "").isdigit():
        initial["cohort"] = request.GET["cohort"]
    form = EnrolmentCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrolment = services.enrol_learner(
                learner=data["learner"],
                cohort=data["cohort"],
                coach=data["coach"],
                start_date=data["start_date"],
                planned_end_date=data["planned_end_date"],
                planned_otj_hours=data["planned_otj_hours"],
                contracted_hours_per_week=data["contracted_hours_per_week"],
                prior_learning_reduction_hours=data["prior_learning_reduction_hours"],
                by=request.user,
            )
        except services.TransitionError as error:
            _add_transition_error(form, error)
        else:
            messages.success(
                request,
                f"{enrolment.learner} was enrolled on {enrolment.cohort}, starting {uk_date(enrolment.start_date)} "
                f"with a planned end date of {uk_date(enrolment.planned_end_date)}.",
            )
            if enrolment.start_date < timezone.localdate():
                messages.warning(
                    request,
                    f"The start date, {uk_date(enrolment.start_date)}, is before today: off-the-job hours planned "
                    "to date and the risk checks count from then. Change the enrolment if that is wrong.",
                )
            if enrolment.coach_id is None:
                messages.warning(
                    request,
                    "No coach yet: until you choose one (Change the enrolment), no coach sees this learner or "
                    "their training to confirm.",
                )
            return redirect("enrolments:detail", pk=enrolment.pk)
    if learner:
        crumbs = [("Learners", reverse("learners:list")), (learner.full_name, learner.get_absolute_url())]
    else:
        crumbs = [("Enrolments", reverse("enrolments:list"))]
    return form_page(
        request,
        form,
        title="Enrol a learner on a cohort",
        heading=f"Enrol {learner.full_name if learner else 'a learner'} on a cohort",
        crumbs=crumbs,
        submit="Enrol",
        cancel_url=crumbs[-1][1],
        context={"learner": learner},
    )


@perm_required("academy.manage_academy")
def enrolment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an enrolment's coach, dates and hours; a stale save is refused (nothing lost)."""
    enrolment = get_object_or_404(Enrolment.objects.select_related("learner", "cohort__standard"), pk=pk)
    form, saved = save_form(request, EnrolmentEditForm, instance=enrolment, what="enrolment",
                            changed=lambda e: cohorts_changed(e.cohort_id))
    if saved:
        messages.success(request, f"The enrolment of {enrolment.learner} on {enrolment.cohort} was saved.")
        return redirect("enrolments:detail", pk=enrolment.pk)
    return form_page(
        request,
        form,
        title=f"Change the enrolment of {enrolment.learner.full_name}",
        caption=f"{enrolment.learner.full_name} on {enrolment.cohort.name}",
        heading="Change the coach, dates or hours",
        crumbs=[],  # cohorts/enrolment_edit.html draws the enrolment's own breadcrumbs
        submit="Save changes",
        cancel_url=reverse("enrolments:detail", args=[enrolment.pk]),
        template="cohorts/enrolment_edit.html",
        context={"enrolment": enrolment},
    )


# --- Status changes ----------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One status change page: its form, service, page title, button text, success message and an optional warning."""

    form: type[forms.Form]
    service: Callable
    title: str
    button: str
    success: Callable[[Enrolment, object], str]
    warning: bool = False
    intro: str = ""


TRANSITIONS = {
    "start_break": Transition(
        StartBreakForm,
        services.start_break,
        "Start a break in learning",
        "Record the break",
        lambda e, r: f"{e.learner} is on a break in learning from {uk_date(e.status_changes.last().effective_date)}.",
        intro="A break in learning is agreed with the employer and the apprentice intends to return. "
        "It cannot be recorded after gateway.",
    ),
    "end_break": Transition(
        EndBreakForm,
        services.end_break,
        "Return from a break in learning",
        "Record the return",
        lambda e, r: (
            f"{e.learner} is back in learning. The planned end date moved by {e.break_length_days} "
            f"day{'s' if e.break_length_days != 1 else ''} to {uk_date(e.planned_end_date)}."
        ),
        intro="The planned end date moves later by the length of the break.",
    ),
    "move_to_gateway": Transition(
        GatewayForm,
        services.move_to_gateway,
        "Move to gateway",
        "Move to gateway",
        lambda e, r: f"{e.learner} is at gateway.",
        intro="Gateway is when the employer and provider agree the apprentice is ready for end-point assessment.",
    ),
    "start_epa": Transition(
        StartEpaForm,
        services.start_epa,
        "Move to end-point assessment",
        "Move to end-point assessment",
        lambda e, r: f"{e.learner} is in end-point assessment.",
    ),
    "record_result": Transition(
        ResultForm,
        services.record_result,
        "Record the end-point assessment result",
        "Record the result",
        lambda e, r: f"{r.get_grade_display()} at attempt {r.attempt} was recorded for {e.learner}.",
    ),
    "complete": Transition(
        CompleteForm,
        services.complete,
        "Complete the enrolment",
        "Complete the enrolment",
        lambda e, r: f"The enrolment of {e.learner} on {e.cohort} is completed.",
        intro="Complete an enrolment when the latest end-point assessment result is a pass, merit or distinction, "
        "or when it is a fail and the apprentice will not resit.",
    ),
    "withdraw": Transition(
        WithdrawForm,
        services.withdraw,
        "Withdraw from the apprenticeship",
        "Withdraw",
        lambda e, r: f"{e.learner} was withdrawn from {e.cohort}.",
        warning=True,
        intro="Withdrawal ends the enrolment. It cannot be undone here.",
    ),
}


def _add_transition_error(form: forms.Form, error: services.TransitionError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _transition_view(action: str):
    spec = TRANSITIONS[action]

    @perm_required("academy.manage_academy")
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        enrolment = get_object_or_404(Enrolment.objects.select_related("learner", "cohort__standard", "coach"), pk=pk)
        initial = {"version": enrolment.version}
        if action == "record_result":
            last = enrolment.assessment_results.order_by("-attempt").first()
            initial["attempt"] = last.attempt + 1 if last else 1
        form = spec.form(request.POST or None, initial=initial)
        refused = services.refusal(enrolment, action)
        if request.method == "POST" and form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            try:
                outcome = spec.service(
                    enrolment=enrolment, by=request.user, expected_version=form.cleaned_data["version"], **data
                )
            except services.TransitionError as error:
                _add_transition_error(form, error)
            else:
                enrolment = outcome if isinstance(outcome, Enrolment) else Enrolment.objects.get(pk=enrolment.pk)
                enrolment.break_length_days = getattr(outcome, "break_length_days", 0)
                messages.success(request, spec.success(enrolment, outcome))
                if action == "end_break" and enrolment.break_length_days < services.SHORT_BREAK_DAYS:
                    messages.warning(
                        request,
                        f"The break lasted {enrolment.break_length_days} days. Under the ESFA funding rules, leave or "
                        "absences of up to 4 weeks are not breaks in learning: check it should have been recorded.",
                    )
                return redirect("enrolments:detail", pk=enrolment.pk)
        return render(
            request,
            "cohorts/transition.html",
            {"enrolment": enrolment, "form": form, "spec": spec, "action": action, "refused": refused},
        )

    view.__name__ = action
    view.__doc__ = f"{spec.title}: a small form; the change is made by ``cohorts.services.{spec.service.__name__}``."
    return view


start_break = _transition_view("start_break")
end_break = _transition_view("end_break")
move_to_gateway = _transition_view("move_to_gateway")
start_epa = _transition_view("start_epa")
record_result = _transition_view("record_result")
complete = _transition_view("complete")
withdraw = _transition_view("withdraw")
