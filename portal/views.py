"""The apprentice's home, the line manager's pages, and the lead's invitation pages.

- ``learner_home`` (``academy.view_learner_home``): the signed-in apprentice's own
  apprenticeship: every enrolment with its figures and the rules behind them, recent
  coaching sessions, progress reviews and off-the-job training, what waits for them.
- ``line_manager_home`` / ``line_manager_learner`` (``academy.view_line_manager_home``):
  the learners whose line manager the user is (``Learner.line_manager``); any other
  learner is 404.
- ``invite_learner`` / ``invite_cohort`` (``academy.invite_people``, leads): a page that
  says who will be invited, and a POST that invites (``portal.invitations``).

Every page's queries are fixed in number, whatever the records (tests assert it).
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from academy.concurrency import StaleEdit
from academy.dates import uk_date
from academy.decorators import perm_required
from academy.pages import form_page, paginate
from coaching import compliance, risk, services, signing, training
from coaching.forms import TrainingForm, apply_service_errors
from coaching.models import CoachingSession, OffTheJobActivity, ProgressReview
from cohorts.models import Cohort, Enrolment
from learners.models import Learner

from . import invitations

RECENT = 5  # sessions, reviews and activities shown on a home page


def _enrolment_cards(enrolments, *, today) -> list[dict]:
    """Return one dict per enrolment: ``enrolment``, ``figures`` (``risk.LearnerRisk``), ``rules``."""
    figures = risk.learner_risks(enrolments, today=today)
    return [{"enrolment": f.enrolment, "figures": f, "rules": risk.enrolment_rules(f.enrolment, f)} for f in figures]


def _with_state(reviews) -> list[ProgressReview]:
    """Return ``reviews`` (signatures prefetched) each with ``state`` (``coaching.signing.state_of``)."""
    reviews = list(reviews)
    for review in reviews:
        review.state = signing.state_of(review, review.signatures.all())
    return reviews


def _records(enrolment_ids: list[int]) -> dict:
    """Return the latest ``RECENT`` sessions, reviews (with their signatures' state) and activities (4 queries)."""
    return {
        "sessions": list(CoachingSession.objects.filter(enrolment_id__in=enrolment_ids)
                         .select_related("enrolment__learner", "coach").order_by("-date", "-id")[:RECENT]),
        "reviews": _with_state(ProgressReview.objects.filter(enrolment_id__in=enrolment_ids)
                               .prefetch_related("signatures").order_by("-date", "-id")[:RECENT]),
        "activities": list(OffTheJobActivity.objects.filter(enrolment_id__in=enrolment_ids)
                           .order_by("-date", "-id")[:RECENT]),
    }


def _enrolments_of(learner: Learner):
    return (Enrolment.objects.filter(learner=learner)
            .select_related("learner", "cohort__standard", "coach").order_by("-start_date", "-id"))


@perm_required("academy.view_learner_home")
def learner_home(request: HttpRequest) -> HttpResponse:
    """Show the apprentice their apprenticeship (or say the account is not linked to one yet)."""
    learner = Learner.objects.filter(user=request.user).select_related("team", "line_manager").first()
    today = timezone.localdate()
    waiting_plans, waiting_reviews = compliance.waiting_for(request.user)
    context = {"learner": learner, "today": today, "cards": [], "sessions": [], "reviews": [], "activities": [],
               "returned": [], "waiting_plans": waiting_plans, "waiting_reviews": waiting_reviews}
    if learner is not None:
        cards = _enrolment_cards(_enrolments_of(learner), today=today)
        ids = [card["enrolment"].pk for card in cards]
        context.update(cards=cards, **_records(ids), can_log=any(card["figures"].in_learning for card in cards),
                       returned=list(OffTheJobActivity.objects.filter(enrolment_id__in=ids,
                                                                     status=OffTheJobActivity.Status.RETURNED)
                                     .select_related("reviewed_by").order_by("date", "id")))
    return render(request, "portal/learner_home.html", context)


def _own_learner(request) -> Learner:
    learner = Learner.objects.filter(user=request.user).first()
    if learner is None:
        raise Http404("Your account is not linked to an apprenticeship yet")
    return learner


@perm_required("academy.view_learner_home")
def training_list(request: HttpRequest) -> HttpResponse:
    """List the apprentice's own off-the-job training, newest first, 25 a page, each with its state."""
    learner = _own_learner(request)
    activities = (OffTheJobActivity.objects.filter(enrolment__learner=learner)
                  .select_related("enrolment__cohort", "reviewed_by").order_by("-date", "-id"))
    return render(request, "portal/training_list.html", {"page": paginate(request, activities)})


def _training_crumbs():
    return [("My apprenticeship", reverse("portal:learner_home")), ("My training", reverse("portal:training_list"))]


@perm_required("academy.view_learner_home")
def training_create(request: HttpRequest) -> HttpResponse:
    """Log off-the-job training on the apprentice's enrolment in learning (submitted for the coach to confirm)."""
    learner = _own_learner(request)
    enrolment = (Enrolment.objects.filter(learner=learner, status=Enrolment.Status.ACTIVE)
                 .select_related("cohort").order_by("-start_date", "-id").first())
    if enrolment is None:
        messages.warning(request, "You are not in learning, so there is no apprenticeship to log training against.")
        return redirect("portal:learner_home")
    form = TrainingForm(request.POST or None, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            services.log_otj_activity(enrolment=enrolment, by=request.user, **values)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{float(values['hours']):g} hours on {uk_date(values['date'])} logged: "
                                      "your coach will confirm them.")
            return redirect("portal:training_list")
    return form_page(request, form, heading="Log off-the-job training", crumbs=_training_crumbs(),
                     submit="Log training", cancel_url=reverse("portal:training_list"),
                     caption=enrolment.cohort.name)


@perm_required("academy.view_learner_home")
def training_edit(request: HttpRequest, activity_pk: int) -> HttpResponse:
    """Change training the apprentice logged (until confirmed) and send it to the coach again."""
    activity = get_object_or_404(OffTheJobActivity.objects.select_related("enrolment__cohort"),
                                 pk=activity_pk, enrolment__learner__user=request.user)
    if not training.may_resubmit(request.user, activity):
        raise PermissionDenied("Confirmed training cannot be changed; ask your coach.")
    form = TrainingForm(request.POST or None, initial=TrainingForm.initial_for(activity))
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            training.resubmit_training(activity=activity, by=request.user,
                                       expected_version=form.cleaned_data["version"] or 0, **values)
        except ValidationError as error:
            apply_service_errors(form, error)
        except StaleEdit:
            messages.warning(request, "This training changed since you opened it (your coach may have confirmed "
                                      "it): here it is as it is now.")
            return redirect("portal:training_list")
        else:
            messages.success(request, "Training sent to your coach again.")
            return redirect("portal:training_list")
    return form_page(request, form, heading="Change off-the-job training", crumbs=_training_crumbs(),
                     submit="Send to my coach again", cancel_url=reverse("portal:training_list"),
                     caption=activity.enrolment.cohort.name,
                     template="portal/training_form.html", context={"activity": activity})


@perm_required("academy.view_line_manager_home")
def line_manager_home(request: HttpRequest) -> HttpResponse:
    """List the line manager's apprentices in learning with their off-the-job hours and next review."""
    today = timezone.localdate()
    enrolments = (Enrolment.objects.filter(learner__line_manager=request.user, learner__anonymised_at__isnull=True)
                  .select_related("learner", "cohort__standard", "coach")
                  .order_by("learner__last_name", "learner__first_name", "-start_date", "id"))
    rows = risk.learner_risks(enrolments, today=today)
    waiting_plans, waiting_reviews = compliance.waiting_for(request.user)
    return render(request, "portal/line_manager_home.html", {
        "waiting_plans": waiting_plans, "waiting_reviews": waiting_reviews,
        "in_learning": [row for row in rows if row.in_learning],
        "finished": [row for row in rows if not row.in_learning],
        "today": today,
    })


@perm_required("academy.view_line_manager_home")
def line_manager_learner(request: HttpRequest, learner_pk: int) -> HttpResponse:
    """Show one of the line manager's apprentices: figures, reviews and off-the-job training (no coaching notes)."""
    learner = get_object_or_404(Learner.objects.select_related("team"), pk=learner_pk, anonymised_at__isnull=True)
    if not request.user.has_perm("learners.view_as_line_manager", learner):
        raise Http404("Not one of your apprentices")
    today = timezone.localdate()
    cards = _enrolment_cards(_enrolments_of(learner), today=today)
    records = _records([card["enrolment"].pk for card in cards])
    return render(request, "portal/line_manager_learner.html", {
        "learner": learner, "cards": cards, "reviews": records["reviews"], "activities": records["activities"],
        "today": today,
    })


def _invitation_page(request, *, title: str, back_url: str, people: list[Learner], invite) -> HttpResponse:
    """GET: the learners (with ``user`` and ``line_manager`` loaded) and their account state; POST: ``invite()``."""
    if request.method == "POST":
        run = invite()
        level = messages.SUCCESS if run.count("invited", "invited again", "linked") else messages.WARNING
        messages.add_message(request, level, f"{title}: {run.summary}.")
        for outcome in run.outcomes:
            if outcome.status == "skipped":
                messages.warning(request, f"{outcome.name} not invited: {outcome.reason}.")
        return redirect(back_url)
    return render(request, "portal/invite.html", {"title": title, "back_url": back_url, "people": people,
                                                  "sso": invitations.sso_enabled()})


@perm_required("academy.invite_people")
def invite_learner(request: HttpRequest, learner_pk: int) -> HttpResponse:
    """GET: say who will be invited (the learner and their line manager); POST: invite them."""
    learner = get_object_or_404(Learner.objects.select_related("user", "line_manager"), pk=learner_pk,
                                anonymised_at__isnull=True)
    return _invitation_page(
        request, title=f"Invite {learner.full_name}", back_url=learner.get_absolute_url(),
        people=[learner], invite=lambda: invitations.invite_learner(request, learner),
    )


@perm_required("academy.invite_people")
def invite_cohort(request: HttpRequest, cohort_pk: int) -> HttpResponse:
    """GET: list the cohort's learners and line managers with their account state; POST: invite them all."""
    cohort = get_object_or_404(Cohort, pk=cohort_pk)
    learners = (Learner.objects.filter(enrolments__cohort=cohort, anonymised_at__isnull=True).distinct()
                .select_related("user", "line_manager").order_by("last_name", "first_name", "id"))
    return _invitation_page(
        request, title=f"Invite the learners of {cohort.name}", back_url=reverse("cohorts:detail", args=[cohort.pk]),
        people=list(learners), invite=lambda: invitations.invite_cohort(request, cohort),
    )
