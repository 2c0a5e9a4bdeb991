"""The coach's pages: their learners at a glance, a learner's coaching record, and the short forms.

Views parse input, ask ``academy.rules``, call ``coaching.services`` / ``coaching.risk`` and
render. A coach reaches only enrolments they coach: anything else is a 404 (via
``cohorts.rules.visible_enrolments``), and nothing is written. Leads reach every enrolment;
heads of data read the risk view only.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from academy.concurrency import StaleEdit
from academy.dates import uk_date
from academy.decorators import perm_required
from academy.pages import form_page, sort_headers
from cohorts.models import Enrolment
from cohorts.rules import visible_enrolments

from . import compliance, risk, services, signing, training
from .forms import ActivityForm, ReturnTrainingForm, ReviewForm, RiskFilterForm, SessionForm, apply_service_errors
from .models import CoachingSession, OffTheJobActivity, ProgressReview, TrainingPlan

RISK_PAGE_SIZE = 50
COLUMNS = (
    # (sort key, heading)
    ("name", "Learner"),
    ("last_session", "Last session"),
    ("next_session", "Next session"),
    ("sessions", "Sessions this quarter"),
    ("otj", "Off-the-job hours"),
    ("review", "Days since progress review"),
    ("risk", "Risk"),
)


def _sorted_rows(request: HttpRequest, enrolments, *, related: bool = True) -> tuple[list, str, bool]:
    key, descending = risk.parse_sort(request.GET.get("sort"))
    if "sort" not in request.GET or not request.GET.get("sort"):
        key, descending = "risk", False
    rows = risk.learner_risks(enrolments, today=timezone.localdate(), related=related)
    return risk.sort_risks(rows, key=key, descending=descending), key, descending


def _overdue(rows) -> list:
    return sorted((r for r in rows if r.review_overdue), key=lambda r: (r.review_due.value, r.enrolment.pk))


OVERDUE_SHOWN = 20  # the risk view lists the most overdue reviews; filters narrow the rest


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show a coach their current learners with the figures and risk flags; leads and heads go to the risk view."""
    if request.user.has_perm("academy.view_risk"):
        return redirect("coach:risk")
    if not request.user.has_perm("academy.view_coach_home"):
        raise PermissionDenied
    enrolments = visible_enrolments(request.user).filter(status__in=risk.CURRENT_STATUSES)
    rows, key, descending = _sorted_rows(request, enrolments)
    waiting_plans, waiting_reviews = compliance.waiting_for(request.user)
    return render(request, "coach/home.html", {
        "rows": rows,
        "headers": sort_headers(request, key, descending, COLUMNS, descending_first=risk.DESCENDING_BY_DEFAULT),
        "overdue": _overdue(rows),
        "at_risk_count": sum(r.at_risk for r in rows),
        "training_waiting": training.waiting_for(request.user).count(),
        "waiting_plans": waiting_plans,
        "waiting_reviews": waiting_reviews,
        "waiting_count": len(waiting_plans) + len(waiting_reviews),
        "today": timezone.localdate(),
        "show_coach": False,
        "can_act": True,
    })


@perm_required("academy.view_risk")
def risk_view(request: HttpRequest) -> HttpResponse:
    """Show leads and heads of data the risk view across all coaches, filterable by coach, team and cohort."""
    form = RiskFilterForm(request.GET or None)
    enrolments = Enrolment.objects.filter(status__in=risk.CURRENT_STATUSES)
    if form.is_bound and form.is_valid():
        if form.cleaned_data["coach"]:
            enrolments = enrolments.filter(coach=form.cleaned_data["coach"])
        if form.cleaned_data["team"]:
            enrolments = enrolments.filter(learner__team=form.cleaned_data["team"])
        if form.cleaned_data["cohort"]:
            enrolments = enrolments.filter(cohort=form.cleaned_data["cohort"])
    # Every enrolment's figures without its related objects; then those objects for the
    # rows shown only (one query), so the page costs the same whatever is not shown.
    rows, key, descending = _sorted_rows(request, enrolments, related=False)
    page = Paginator(rows, RISK_PAGE_SIZE).get_page(request.GET.get("page"))
    overdue = _overdue(rows)
    shown_overdue = overdue[:OVERDUE_SHOWN]
    risk.load_related([*page.object_list, *shown_overdue])
    columns = (*COLUMNS[:1], ("coach", "Coach"), *COLUMNS[1:])
    return render(request, "coach/risk.html", {
        "form": form,
        "page": page,
        "rows": page.object_list,
        "headers": sort_headers(request, key, descending, columns, descending_first=risk.DESCENDING_BY_DEFAULT),
        "overdue": shown_overdue,
        "overdue_count": len(overdue),
        "total": len(rows),
        "at_risk_count": sum(r.at_risk for r in rows),
        "today": timezone.localdate(),
        "show_coach": True,
        "can_act": request.user.is_lead,
    })


def _enrolment_for(request: HttpRequest, pk: int) -> Enrolment:
    """Return enrolment ``pk`` if the user coaches it (or is a lead), else raise ``Http404``."""
    enrolment = get_object_or_404(
        visible_enrolments(request.user).select_related("learner__team", "cohort__standard", "coach"), pk=pk
    )
    if not request.user.has_perm("learners.coach_enrolment", enrolment):
        raise PermissionDenied
    return enrolment


def _next_url(request: HttpRequest, enrolment: Enrolment) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return reverse("coach:enrolment", args=[enrolment.pk])


@perm_required("academy.view_learner_list")
def enrolment_record(request: HttpRequest, enrolment_pk: int) -> HttpResponse:
    """Show one enrolment's coaching record: figures with the rules behind them, sessions, reviews, activities."""
    enrolment = _enrolment_for(request, enrolment_pk)
    today = timezone.localdate()
    figures = risk.learner_risks(Enrolment.objects.filter(pk=enrolment.pk), today=today)[0]
    sessions = _changeable(request, enrolment, enrolment.coaching_sessions.select_related("coach").order_by("-date", "-id"))
    rules = risk.enrolment_rules(enrolment, figures)
    plan = TrainingPlan.objects.filter(enrolment=enrolment).prefetch_related("signatures").order_by("-number").first()
    reviews = _changeable(request, enrolment, enrolment.progress_reviews.prefetch_related("signatures")
                          .order_by("-date", "-id"))
    for review in reviews:
        review.state = signing.state_of(review, review.signatures.all())
    return render(request, "coach/enrolment.html", {
        "plan": plan,
        "plan_state": signing.state_of(plan, plan.signatures.all()) if plan else None,
        "enrolment": enrolment,
        "learner": enrolment.learner,
        "figures": figures,
        "sessions": sessions,
        "reviews": reviews,
        "activities": _changeable(request, enrolment, enrolment.otj_activities.order_by("-date", "-id")),
        "otj_minimum": rules.otj_minimum,
        "review_interval": rules.review_interval,
        "minimum_duration": rules.minimum_duration,
        "today": today,
    })


def _changeable(request: HttpRequest, enrolment: Enrolment, records) -> list:
    """Return ``records`` of ``enrolment`` (sessions, reviews or activities) each with ``can_change`` for this user."""
    records = list(records)
    for record in records:
        record.enrolment = enrolment
        record.can_change = services.can_change_record(request.user, record)
    return records


def _form_page(request, *, form, enrolment, title, button, next_url, extra=None):
    return render(request, "coach/form.html", {
        "form": form, "enrolment": enrolment, "learner": enrolment.learner, "title": title,
        "button": button, "next": next_url, **(extra or {}),
    })


def _submitted(request: HttpRequest, form, save) -> bool:
    """Return whether a POSTed ``form`` was valid and ``save(cleaned_data)`` succeeded.

    The service's ``ValidationError`` is put on the form's fields (``apply_service_errors``).
    """
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        save(form.cleaned_data)
    except ValidationError as error:
        apply_service_errors(form, error)
        return False
    return True


@perm_required("academy.view_learner_list")
def session_create(request: HttpRequest, enrolment_pk: int) -> HttpResponse:
    """Log a coaching session on an enrolment (GET: the form, date defaulting to today; POST: save)."""
    enrolment = _enrolment_for(request, enrolment_pk)
    next_url = _next_url(request, enrolment)
    if request.method == "POST":
        form = SessionForm(request.POST)
    else:
        form = SessionForm(initial={"date": timezone.localdate(), "duration_minutes": 60})

    def save(data):
        services.log_session(enrolment=enrolment, by=request.user, **{k: v for k, v in data.items() if k != "version"})

    if _submitted(request, form, save):
        messages.success(request, f"Session on {uk_date(form.cleaned_data['date'])} logged.")
        return redirect(next_url)
    return _form_page(request, form=form, enrolment=enrolment, title="Log a coaching session",
                      button="Save session", next_url=next_url)


def _record_for(request: HttpRequest, model, pk: int, perm: str, what: str):
    """Return the ``model`` row ``pk`` (a session, review or activity) if it is on an enrolment the user may see.

    404 otherwise; 403 (``PermissionDenied``) when the user may see it but not change it
    (``perm``: only a lead after 14 days).
    """
    record = get_object_or_404(
        model.objects.select_related("enrolment__learner", "enrolment__cohort").filter(
            enrolment__in=visible_enrolments(request.user)
        ),
        pk=pk,
    )
    if not request.user.has_perm(perm, record):
        raise PermissionDenied(f"Only a lead can change {what} more than 14 days after it was logged.")
    return record


def _edit_record(request: HttpRequest, record, *, form_class, initial: dict, values, edit, title: str, what: str,
                 done: str) -> HttpResponse:
    """Show and handle the edit form of ``record``: ``edit(values(form), expected_version)`` on a valid POST.

    Service errors go by their fields; a stale edit keeps the user's input and says so.
    """
    enrolment = record.enrolment
    next_url = _next_url(request, enrolment)
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                edit(values(form), form.cleaned_data["version"] or record.version)
            except ValidationError as error:
                apply_service_errors(form, error)
            except StaleEdit:
                form.add_error(None, f"Someone else changed this {what} after you opened it. "
                                     "Reload the page to see their changes, then make yours again.")
            else:
                messages.success(request, done)
                return redirect(next_url)
    else:
        form = form_class(initial=initial)
    return _form_page(request, form=form, enrolment=enrolment, title=title, button="Save changes",
                      next_url=next_url, extra={"record": record})


def _delete_record(request: HttpRequest, record, *, delete, heading: str, summary: str, button: str,
                   done: str) -> HttpResponse:
    """Show the confirmation page of deleting ``record`` (GET) or ``delete()`` it (POST)."""
    enrolment = record.enrolment
    if request.method == "POST":
        delete()
        messages.success(request, done)
        return redirect(_next_url(request, enrolment))
    return render(request, "coach/record_confirm_delete.html", {
        "record": record, "enrolment": enrolment, "learner": enrolment.learner, "heading": heading,
        "summary": summary, "button": button, "next": _next_url(request, enrolment),
    })


@perm_required("academy.view_learner_list")
def session_edit(request: HttpRequest, session_pk: int) -> HttpResponse:
    """Edit a session: its coach for 14 days after logging it, then only a lead; stale edits are refused."""
    session = _record_for(request, CoachingSession, session_pk, "learners.edit_session", "a session")
    return _edit_record(
        request, session, form_class=SessionForm, title="Change a coaching session", what="session",
        done="Session updated.",
        initial={
            "date": session.date, "duration_minutes": session.duration_minutes, "mode": session.mode,
            "attendance": session.attendance, "otj_hours": session.otj_hours, "topics": session.topics,
            "notes": session.notes, "next_session_date": session.next_session_date, "version": session.version,
        },
        values=lambda form: {k: v for k, v in form.cleaned_data.items() if k != "version"},
        edit=lambda values, version: services.edit_session(
            session=session, by=request.user, expected_version=version, **values),
    )


@perm_required("academy.view_learner_list")
def session_delete(request: HttpRequest, session_pk: int) -> HttpResponse:
    """Delete a session after confirmation (GET: confirm page; POST: delete). Same rule as editing."""
    session = _record_for(request, CoachingSession, session_pk, "learners.edit_session", "a session")
    day = uk_date(session.date)
    return _delete_record(
        request, session, heading=f"Delete the session on {day}?", button="Delete session",
        summary=f"{session.duration_minutes} minutes, {session.get_mode_display().lower()}, "
                f"{session.get_attendance_display().lower()}; {session.otj_hours.normalize():f} off-the-job hours.",
        delete=lambda: services.delete_session(session=session, by=request.user),
        done=f"Session on {day} deleted.",
    )


@perm_required("academy.view_learner_list")
def review_create(request: HttpRequest, enrolment_pk: int) -> HttpResponse:
    """Record a progress review (date, attendees, agreed actions, RAG rating)."""
    enrolment = _enrolment_for(request, enrolment_pk)
    next_url = _next_url(request, enrolment)
    form = ReviewForm(request.POST) if request.method == "POST" else ReviewForm(initial={"date": timezone.localdate()})

    def save(data):
        with _attendees_errors():
            services.record_review(enrolment=enrolment, by=request.user, **form.service_values())

    if _submitted(request, form, save):
        messages.success(request, f"Progress review on {uk_date(form.cleaned_data['date'])} recorded.")
        return redirect(next_url)
    return _form_page(request, form=form, enrolment=enrolment, title="Record a progress review",
                      button="Save review", next_url=next_url)


class _attendees_errors:
    """Put the service's ``learner_attended`` error on the form's ``attendees`` field (a context manager)."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, ValidationError) and "learner_attended" in getattr(error, "error_dict", {}):
            error.error_dict["attendees"] = error.error_dict.pop("learner_attended")
        return False


@perm_required("academy.view_learner_list")
def review_edit(request: HttpRequest, review_pk: int) -> HttpResponse:
    """Edit a progress review: who recorded it for 14 days, then only a lead; stale edits are refused."""
    review = _record_for(request, ProgressReview, review_pk, "learners.edit_review", "a progress review")

    def edit(values, version):
        with _attendees_errors():
            services.edit_review(review=review, by=request.user, expected_version=version, **values)

    return _edit_record(
        request, review, form_class=ReviewForm, initial=ReviewForm.initial_for(review),
        values=lambda form: form.service_values(), edit=edit, title="Change a progress review",
        what="progress review", done="Progress review updated.",
    )


@perm_required("academy.view_learner_list")
def review_delete(request: HttpRequest, review_pk: int) -> HttpResponse:
    """Delete a progress review after confirmation. Same rule as editing."""
    review = _record_for(request, ProgressReview, review_pk, "learners.edit_review", "a progress review")
    day = uk_date(review.date)
    if review.signatures.exists():
        messages.warning(request, f"The progress review on {day} has been signed, so it is kept as evidence: it "
                                  "cannot be deleted.")
        return redirect(_next_url(request, review.enrolment))
    return _delete_record(
        request, review, heading=f"Delete the progress review on {day}?", button="Delete review",
        summary=f"RAG rating: {review.get_rag_display()}.",
        delete=lambda: services.delete_review(review=review, by=request.user),
        done=f"Progress review on {day} deleted.",
    )


@perm_required("academy.view_learner_list")
def activity_edit(request: HttpRequest, activity_pk: int) -> HttpResponse:
    """Edit off-the-job training: who logged it for 14 days, then only a lead; stale edits are refused."""
    activity = _record_for(request, OffTheJobActivity, activity_pk, "learners.edit_activity", "off-the-job training")
    return _edit_record(
        request, activity, form_class=ActivityForm, initial=ActivityForm.initial_for(activity),
        values=lambda form: {k: v for k, v in form.cleaned_data.items() if k != "version"},
        edit=lambda values, version: services.edit_otj_activity(
            activity=activity, by=request.user, expected_version=version, **values),
        title="Change off-the-job training", what="training", done="Off-the-job training updated.",
    )


@perm_required("academy.view_learner_list")
def activity_delete(request: HttpRequest, activity_pk: int) -> HttpResponse:
    """Delete off-the-job training after confirmation. Same rule as editing."""
    activity = _record_for(request, OffTheJobActivity, activity_pk, "learners.edit_activity", "off-the-job training")
    day = uk_date(activity.date)
    return _delete_record(
        request, activity, heading=f"Delete the training on {day}?", button="Delete training",
        summary=f"{activity.get_category_display()}, {activity.hours.normalize():f} hours.",
        delete=lambda: services.delete_otj_activity(activity=activity, by=request.user),
        done=f"Off-the-job training on {day} deleted.",
    )


@perm_required("academy.view_learner_list")
def activity_create(request: HttpRequest, enrolment_pk: int) -> HttpResponse:
    """Log off-the-job training other than a session (training day, self-study …) with a category."""
    enrolment = _enrolment_for(request, enrolment_pk)
    next_url = _next_url(request, enrolment)
    today = {"date": timezone.localdate()}
    form = ActivityForm(request.POST) if request.method == "POST" else ActivityForm(initial=today)
    def save(data):
        services.log_otj_activity(enrolment=enrolment, by=request.user,
                                  **{k: v for k, v in data.items() if k != "version"})

    if _submitted(request, form, save):
        messages.success(request, f"{form.cleaned_data['hours']} off-the-job hours logged.")
        return redirect(next_url)
    return _form_page(request, form=form, enrolment=enrolment, title="Log off-the-job training",
                      button="Save training", next_url=next_url)


# --- Training the apprentice logged: the coach confirms or returns it (coaching.training) --------


@perm_required("academy.view_learner_list")
def training_queue(request: HttpRequest) -> HttpResponse:
    """List the apprentices' training waiting for this coach (a lead: all), oldest first, 25 a page."""
    page = Paginator(training.waiting_for(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "coach/training_queue.html", {"page": page})


def _waiting_training(request: HttpRequest, activity_pk: int) -> OffTheJobActivity:
    """Return training the user may confirm or return (404 if not their learner's, 403 for others)."""
    activity = get_object_or_404(
        OffTheJobActivity.objects.select_related("enrolment__learner", "enrolment__cohort", "recorded_by"),
        pk=activity_pk, enrolment__in=visible_enrolments(request.user))
    if not training.may_review(request.user, activity):
        raise PermissionDenied
    return activity


@perm_required("academy.view_learner_list")
def training_confirm(request: HttpRequest, activity_pk: int) -> HttpResponse:
    """POST: confirm the training (the form carries the version the coach read)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    activity = _waiting_training(request, activity_pk)
    try:
        training.confirm_training(activity=activity, by=request.user,
                                  expected_version=int(request.POST.get("version") or 0))
    except StaleEdit:
        messages.warning(request, "This training changed since you opened the page: check it again.")
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, f"Confirmed {float(activity.hours):g} hours of {activity.enrolment.learner.full_name}'s "
                                  f"training on {uk_date(activity.date)}.")
    return redirect("coach:training_queue")


@perm_required("academy.view_learner_list")
def training_return(request: HttpRequest, activity_pk: int) -> HttpResponse:
    """GET: the reason form; POST: return the training to the apprentice with the reason."""
    activity = _waiting_training(request, activity_pk)
    form = ReturnTrainingForm(request.POST or None, initial={"version": activity.version})
    if request.method == "POST" and form.is_valid():
        try:
            training.return_training(activity=activity, by=request.user, reason=form.cleaned_data["return_reason"],
                                     expected_version=form.cleaned_data["version"])
        except ValidationError as error:
            apply_service_errors(form, error)
        except StaleEdit:
            messages.warning(request, "This training changed since you opened the page: check it again.")
            return redirect("coach:training_queue")
        else:
            messages.success(request, f"Returned the training to {activity.enrolment.learner.full_name}.")
            return redirect("coach:training_queue")
    return form_page(request, form, heading="Return training", caption=activity.enrolment.learner.full_name,
                     crumbs=[("Training to confirm", reverse("coach:training_queue"))],
                     submit="Return to the apprentice", cancel_url=reverse("coach:training_queue"),
                     template="coach/training_return.html", context={"activity": activity})
