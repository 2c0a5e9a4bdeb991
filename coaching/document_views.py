"""The signed documents: an enrolment's training plan (every version) and progress reviews, signed by all three.

Mounted at ``/documents/`` (namespace ``documents``). Who sees a document
(``academy.view_documents``, then ``document_enrolments``): a lead, the enrolment's
coach, the apprentice (their own), and their line manager; anyone else's is a 404, a
head of data gets 403. Who signs is ``coaching.signing.party_for``; who drafts and
changes a plan is ``coaching.plans.may_change_plan``. Every page's queries are fixed in
number (tests assert it). PDFs are drawn by WeasyPrint (``coaching.pdf``).
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from academy.concurrency import StaleEdit
from academy.decorators import perm_required
from academy.pages import form_page
from academy.rules import is_coach, is_lead, is_learner, is_line_manager
from cohorts.models import Enrolment

from . import pdf, plans, signing
from .forms import SignatureForm, TrainingPlanForm, apply_service_errors
from .models import ProgressReview, Signature, TrainingPlan

VIEW = "academy.view_documents"


def document_enrolments(user):
    """Return the enrolments whose documents ``user`` may read (an ``Enrolment`` queryset)."""
    if is_lead(user):
        return Enrolment.objects.all()
    if is_coach(user):
        return Enrolment.objects.filter(coach=user)
    if is_learner(user):
        return Enrolment.objects.filter(learner__user=user)
    if is_line_manager(user):
        return Enrolment.objects.filter(learner__line_manager=user, learner__anonymised_at__isnull=True)
    return Enrolment.objects.none()


def _enrolment(request, enrolment_pk: int) -> Enrolment:
    return get_object_or_404(document_enrolments(request.user)
                             .select_related("learner__line_manager", "learner__user", "cohort__standard", "coach"),
                             pk=enrolment_pk)


def _signatures():
    return Prefetch("signatures", queryset=Signature.objects.select_related("signer").order_by("signed_at", "id"))


def _crumbs(request, enrolment: Enrolment) -> list[tuple[str, str]]:
    """Breadcrumbs back to where this user came from: their home, then the apprentice's record."""
    user = request.user
    if is_learner(user):
        return [("My apprenticeship", reverse("portal:learner_home"))]
    if is_line_manager(user):
        return [("My apprentices", reverse("portal:line_manager_home")),
                (enrolment.learner.full_name, reverse("portal:line_manager_learner", args=[enrolment.learner_id]))]
    home = ("My learners", reverse("coach:home")) if is_coach(user) else ("Learners", reverse("learners:list"))
    return [home, (enrolment.learner.full_name, reverse("coach:enrolment", args=[enrolment.pk]))]


def _sign_form(request, document, state, form: SignatureForm | None = None) -> SignatureForm | None:
    """Return the sign form when the user signs for a party that has not signed this content, else ``None``.

    ``form`` is one to show again (a refused signing: its errors and comment kept).
    """
    party = signing.party_for(request.user, document.enrolment)
    if party is None or party in state.signed:
        return None
    form = form or SignatureForm(initial={"sha256": state.sha256})
    form.party = Signature.Party(party)
    return form


def _plan_page(request, enrolment: Enrolment, plan: TrainingPlan | None, *, form: SignatureForm | None = None
               ) -> HttpResponse:
    versions = list(TrainingPlan.objects.filter(enrolment=enrolment).prefetch_related(_signatures())
                    .order_by("-number"))
    newest = versions[0] if versions else None
    if plan is None:
        plan = newest
    else:
        plan = next(version for version in versions if version.pk == plan.pk)
    for version in versions:
        version.enrolment = enrolment
        version.state = signing.state_of(version, version.signatures.all())
    context = {"enrolment": enrolment, "learner": enrolment.learner, "plan": plan, "versions": versions,
               "crumbs": _crumbs(request, enrolment), "may_change": plans.may_change_plan(request.user, enrolment)
               and enrolment.status not in plans.ENDED}
    if plan is not None:
        context.update(is_current=plan is newest, state=plan.state,
                       sign_form=_sign_form(request, plan, plan.state, form) if plan is newest else None,
                       differences=plans.differences(plan, enrolment) if context["may_change"] else [],
                       unchecked_minimum=plans.unchecked_minimum(plan, enrolment) if context["may_change"] else None)
    return render(request, "documents/plan.html", context)


@perm_required(VIEW)
def plan_current(request: HttpRequest, enrolment_pk: int) -> HttpResponse:
    """Show the newest version of the enrolment's training plan, its signatures and earlier versions."""
    return _plan_page(request, _enrolment(request, enrolment_pk), None)


def _plan(request, plan_pk: int) -> TrainingPlan:
    return get_object_or_404(TrainingPlan.objects.filter(enrolment__in=document_enrolments(request.user))
                             .select_related("enrolment"), pk=plan_pk)


@perm_required(VIEW)
def plan_version(request: HttpRequest, plan_pk: int) -> HttpResponse:
    """Show one version of a training plan as it was signed (earlier versions stay readable)."""
    plan = _plan(request, plan_pk)
    return _plan_page(request, _enrolment(request, plan.enrolment_id), plan)


@perm_required(VIEW)
def plan_edit(request: HttpRequest, enrolment_pk: int) -> HttpResponse:
    """Draft the plan (version 1), change a draft, or make a new version of a signed plan (lead or coach)."""
    enrolment = _enrolment(request, enrolment_pk)
    if not plans.may_change_plan(request.user, enrolment):
        raise PermissionDenied("Only a lead or the apprentice's coach can change the training plan.")
    plan = plans.current_plan(enrolment)
    signed = plan is not None and plan.signatures.exists()
    initial = plans.initial_values(enrolment, plan) | {"number": plan.number if plan else 0,
                                                        "version": plan.version if plan else 0}
    form = TrainingPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved, new_version = plans.save_plan(enrolment=enrolment, by=request.user, values=form.values(),
                                                 expected_number=form.cleaned_data["number"] or 0,
                                                 expected_version=form.cleaned_data["version"])
        except ValidationError as error:
            apply_service_errors(form, error)
        except StaleEdit:
            messages.warning(request, "Someone else changed this training plan while you were editing it, so your "
                                      "changes have not been saved. Here it is as it is now.")
            return redirect("documents:plan", enrolment.pk)
        else:
            if new_version and saved.number > 1:
                messages.success(request, f"Version {saved.number} of the training plan saved. The apprentice, the "
                                          "line manager and the coach each need to sign it.")
            else:
                messages.success(request, f"Training plan version {saved.number} saved.")
            return redirect("documents:plan", enrolment.pk)
    if plan is None:
        heading, intro = "Draft the training plan", "Filled in from the enrolment. Once saved, the apprentice, the " \
                                                    "line manager and the coach each sign it."
    elif signed:
        heading = f"Change the training plan (makes version {plan.number + 1})"
        intro = (f"Version {plan.number} has been signed, so saving makes version {plan.number + 1}, which the "
                 "apprentice, the line manager and the coach each need to sign again. Version "
                 f"{plan.number} stays readable as it was signed.")
    else:
        heading, intro = f"Change the draft training plan (version {plan.number})", \
            "Nobody has signed this version yet, so it is changed as it is."
    return form_page(request, form, heading=heading, crumbs=_crumbs(request, enrolment)
                     + [("Training plan", reverse("documents:plan", args=[enrolment.pk]))],
                     submit="Save the training plan", cancel_url=reverse("documents:plan", args=[enrolment.pk]),
                     caption=f"{enrolment.learner.full_name}, {enrolment.cohort.name}",
                     template="documents/plan_form.html", context={"intro": intro})


def _signed(request, document, *, back: str, page) -> HttpResponse:
    """Handle a POSTed sign form for ``document``: redirect to ``back`` once signed.

    A refused signing shows the page again (``page(document, form)``) with the comment as
    typed: the form's errors when it was incomplete, or the document as it is now, with a
    message, when it changed since it was opened.
    """
    form = SignatureForm(request.POST)
    if not form.is_valid():
        return page(document, form)
    try:
        signature = signing.sign(document=document, by=request.user, shown_sha256=form.cleaned_data["sha256"],
                                 comment=form.cleaned_data["comment"], request=request)
    except signing.StaleDocument as stale:
        messages.warning(request, stale.message)
        current = stale.current
        current.refresh_from_db()
        return page(current, SignatureForm(initial={"sha256": current.content_sha256,
                                                    "comment": form.cleaned_data["comment"]}))
    except ValidationError as error:
        for message in error.messages:
            messages.warning(request, message)
        return redirect(back)
    messages.success(request, f"You signed it as {signature.get_party_display().lower()}.")
    return redirect(back)


@perm_required(VIEW)
@require_POST
def plan_sign(request: HttpRequest, plan_pk: int) -> HttpResponse:
    """Sign a plan version (POST: ``sha256`` shown, optional ``comment``, ``confirm``)."""
    plan = _plan(request, plan_pk)
    enrolment = _enrolment(request, plan.enrolment_id)
    return _signed(request, plan, back=reverse("documents:plan_version", args=[plan.pk]),
                   page=lambda document, form: _plan_page(request, enrolment, document, form=form))


def _review(request, review_pk: int) -> ProgressReview:
    return get_object_or_404(ProgressReview.objects.filter(enrolment__in=document_enrolments(request.user))
                             .select_related("enrolment__learner__line_manager", "enrolment__learner__user",
                                             "enrolment__cohort", "enrolment__coach", "recorded_by")
                             .prefetch_related(_signatures()), pk=review_pk)


def _review_page(request, review: ProgressReview, form: SignatureForm | None = None) -> HttpResponse:
    state = signing.state_of(review, review.signatures.all())
    return render(request, "documents/review.html", {
        "review": review, "enrolment": review.enrolment, "learner": review.enrolment.learner, "state": state,
        "sign_form": _sign_form(request, review, state, form), "crumbs": _crumbs(request, review.enrolment),
    })


@perm_required(VIEW)
def review_detail(request: HttpRequest, review_pk: int) -> HttpResponse:
    """Show a progress review as the three agree it, its signatures, and the sign form for a party yet to sign."""
    return _review_page(request, _review(request, review_pk))


@perm_required(VIEW)
@require_POST
def review_sign(request: HttpRequest, review_pk: int) -> HttpResponse:
    """Sign a progress review (POST as ``plan_sign``)."""
    review = _review(request, review_pk)
    return _signed(request, review, back=reverse("documents:review", args=[review.pk]),
                   page=lambda document, form: _review_page(request, _review(request, document.pk), form))


@perm_required(VIEW)
def plan_pdf(request: HttpRequest, plan_pk: int) -> HttpResponse:
    """Download one plan version with its signatures as a PDF (``coaching.pdf``)."""
    plan = get_object_or_404(TrainingPlan.objects.filter(enrolment__in=document_enrolments(request.user))
                             .select_related("enrolment__learner", "enrolment__cohort", "enrolment__coach")
                             .prefetch_related(_signatures()), pk=plan_pk)
    state = signing.state_of(plan, plan.signatures.all())
    return pdf.response(request, "documents/plan_pdf.html", {"plan": plan, "state": state,
                                                             "enrolment": plan.enrolment},
                        filename=f"training-plan-{plan.enrolment_id}-v{plan.number}.pdf")


@perm_required(VIEW)
def review_pdf(request: HttpRequest, review_pk: int) -> HttpResponse:
    """Download a progress review with its signatures as a PDF."""
    review = _review(request, review_pk)
    state = signing.state_of(review, review.signatures.all())
    return pdf.response(request, "documents/review_pdf.html", {"review": review, "state": state,
                                                               "enrolment": review.enrolment},
                        filename=f"progress-review-{review.pk}-{review.date:%Y-%m-%d}.pdf")
