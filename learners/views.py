"""Learner and team pages.

A lead sees and manages every learner and team; a coach sees only their own learners,
read-only (others are 404); a head of data gets 403 (no learner-level pages).
Views parse input, ask ``academy.rules``, call a service and render; after a POST they
redirect with a success message.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, Max, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from academy import audit
from academy.audit import record_learner_read
from academy.concurrency import StaleEdit
from academy.decorators import perm_required
from academy.models import AuditEvent, Team
from .rules import visible_learners
from cohorts.exports import (
    CSV_CONTENT_TYPE,
    LEARNER_COLUMNS,
    XLSX_CONTENT_TYPE,
    learner_rows,
    write_csv,
    write_xlsx,
)
from cohorts.forms import EnrolmentFilterForm
from cohorts.models import Enrolment, EnrolmentStatusChange

from .forms import LearnerForm, TeamFilterForm, TeamForm
from coaching.models import CoachingSession

from .models import Learner
from .services import change_history, filter_learners, update_with_version

PAGE_SIZE = 25
EXPORT_CHUNK = 2000


# --- Shared helpers ----------------------------------------------------------------


def _or_blank(value):
    return "(blank)" if value in (None, "") else value


def stale_edit_form(form_class, request: HttpRequest, current, *, what: str):
    """Return ``form_class`` bound to the user's entries with a message about someone else's save.

    Nothing is lost: the page shows the user's entries and, next to them, what is saved
    now (``form.stale_differences``: label, saved value, your entry). The hidden version
    becomes the current one, so saving again is a deliberate choice to overwrite.
    """
    data = request.POST.copy()
    data["version"] = current.version
    form = form_class(data, instance=current)
    saved_values = {name: getattr(current, name, None) for name in form.fields}  # before validation edits it
    form.is_valid()
    differences = []
    for name, field in form.fields.items():
        if name == "version" or name not in getattr(form, "cleaned_data", {}):
            continue
        saved = saved_values[name]
        mine = form.cleaned_data[name]
        if (saved or "") != (mine or ""):
            differences.append((field.label, _or_blank(saved), _or_blank(mine)))
    form.stale_differences = differences
    form.add_error(
        None,
        f"Someone else changed this {what} while you were editing it, so your changes have not been saved. "
        "Check what they saved, then save again to keep your entries.",
    )
    return form


def _audit_export(request: HttpRequest, *, what: str, fmt: str, count: int) -> None:
    audit.record(
        request=request,
        action=AuditEvent.Action.EXPORT,
        detail={"what": what, "format": fmt, "rows": count, "filters": {k: v for k, v in request.GET.items() if v}},
    )


def export_response(request: HttpRequest, *, rows, columns, name: str, fmt: str, what: str) -> HttpResponse:
    """Return the queryset ``rows`` as a CSV or XLSX download named ``academy-<name>-<date>.<fmt>``, and audit it.

    Rows are read in chunks of ``EXPORT_CHUNK``; ``fmt`` is "csv" or "xlsx".
    """
    count = 0

    def counted():
        nonlocal count
        # Read in chunks (prefetches run per chunk), so memory does not grow with the list.
        for row in rows.iterator(chunk_size=EXPORT_CHUNK):
            count += 1
            yield row

    stamp = f"{timezone.localdate():%Y-%m-%d}"
    if fmt == "xlsx":
        body = write_xlsx(counted(), columns, title=name.capitalize())
        response = HttpResponse(body, content_type=XLSX_CONTENT_TYPE)
    else:
        body = write_csv(counted(), columns)
        response = HttpResponse(body, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="academy-{name}-{stamp}.{fmt}"'
    _audit_export(request, what=what, fmt=fmt, count=count)
    return response


def list_export_views(*, name: str, filtered, rows, columns):
    """Return the (CSV view, XLSX view) that download a list page's filtered rows, for ``export_learners`` only.

    ``filtered(request)`` returns (filter form, queryset) exactly as the list page filters;
    ``rows(queryset)`` prepares it for ``columns``; ``name`` ("learners") names the file
    and the audit record. CSV is formula-safe with ISO dates; XLSX has real dates.
    """

    def make(fmt: str, doc: str):
        def view(request: HttpRequest) -> HttpResponse:
            _, objects = filtered(request)
            return export_response(request, rows=rows(objects), columns=columns, name=name, fmt=fmt, what=name)

        view.__name__ = view.__qualname__ = f"{name.rstrip('s')}_export_{fmt}"
        view.__doc__ = f"Download the filtered {name[:-1]} list as {doc}."
        return perm_required("academy.export_learners")(view)

    return make("csv", "CSV (formula-safe, ISO dates)"), make("xlsx", "an Excel workbook (formula-safe, real dates)")


def paginate(request: HttpRequest, objects):
    """Return the ``?page=`` page (``PAGE_SIZE`` rows) of ``objects``; a bad page number gives the nearest page."""
    return Paginator(objects, PAGE_SIZE).get_page(request.GET.get("page"))


def is_filtered(request: HttpRequest) -> bool:
    """Return whether any GET filter other than the page number is set."""
    return any(v for k, v in request.GET.items() if k != "page")


def save_form(request: HttpRequest, form_class, *, instance=None, what: str):
    """Bind ``form_class`` to the POST and save it; return ``(form, saved record or None)``.

    A new record (``instance`` None) is saved with ``form.save()``; an edit with
    ``update_with_version`` against the form's hidden ``version``, and a save that lost
    a race with someone else's comes back unsaved as ``stale_edit_form`` (``what``
    names the record in its message). GET and invalid POSTs return ``(form, None)``.
    """
    form = form_class(request.POST or None, instance=instance)
    if request.method != "POST" or not form.is_valid():
        return form, None
    if instance is None:
        return form, form.save()
    try:
        return form, update_with_version(form.instance, expected_version=form.cleaned_data["version"] or 0)
    except StaleEdit as stale:
        return stale_edit_form(form_class, request, stale.current, what=what), None


def form_page(
    request: HttpRequest,
    form,
    *,
    heading: str,
    crumbs: list[tuple[str, str]],
    submit: str,
    cancel_url: str,
    title: str = "",
    caption: str = "",
    template: str = "learners/form_page.html",
    context: dict | None = None,
) -> HttpResponse:
    """Render a record's add or change page: breadcrumbs, error summary, heading, stale-save table, form, buttons.

    ``crumbs`` are (text, url) links above the heading; ``submit`` is the button text;
    ``title`` (the browser title) defaults to ``heading``; ``caption`` goes above it.
    ``template`` may extend ``learners/form_page.html`` to add an intro (block ``intro``).
    """
    page = {
        "form": form,
        "heading": heading,
        "title": title,
        "caption": caption,
        "crumbs": crumbs,
        "submit": submit,
        "cancel_url": cancel_url,
    }
    return render(request, template, {**page, **(context or {})})


def named_record_form_page(request: HttpRequest, form, record, *, noun: str, namespace: str) -> HttpResponse:
    """Render the add (``record`` None) or change page of a record with a ``name``, such as a cohort or team.

    Its list and detail pages are ``<namespace>:list`` and ``<namespace>:detail``;
    ``noun`` ("cohort") words the heading ("Add a cohort", "Change <name>") and button.
    """
    list_url = reverse(f"{namespace}:list")
    detail_url = reverse(f"{namespace}:detail", args=[record.pk]) if record else None
    return form_page(
        request,
        form,
        heading=f"Change {record.name}" if record else f"Add a {noun}",
        crumbs=[(namespace.capitalize(), list_url), *([(record.name, detail_url)] if record else [])],
        submit="Save changes" if record else f"Add {noun}",
        cancel_url=detail_url or list_url,
        context={noun: record},
    )


# --- Learners ----------------------------------------------------------------------


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


learner_export_csv, learner_export_xlsx = list_export_views(
    name="learners", filtered=_filtered_learners, rows=learner_rows, columns=LEARNER_COLUMNS
)


def _get_learner_for_user(request, pk):
    """Return the learner ``pk`` if the user may see it, else raise ``Http404``."""
    return get_object_or_404(visible_learners(request.user).with_team(), pk=pk)


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
    form, learner = save_form(request, LearnerForm, what="learner")
    if learner:
        messages.success(request, f"{learner.full_name} was added. Now enrol them on a cohort.")
        return redirect(learner)
    return _learner_form_page(request, form, None)


@perm_required("academy.manage_academy")
def learner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a learner's details; a save that lost a race with another user's save is refused (nothing lost)."""
    learner = get_object_or_404(Learner.objects.with_team(), pk=pk)
    form, saved = save_form(request, LearnerForm, instance=learner, what="learner")
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


# --- Teams -------------------------------------------------------------------------


@perm_required("academy.manage_academy")
def team_list(request: HttpRequest) -> HttpResponse:
    """List teams with their number of learners (one query), searchable, 25 a page."""
    form = TeamFilterForm(request.GET or None)
    query = request.GET.get("q", "").strip()
    teams = Team.objects.annotate(learner_count=Count("learners")).order_by("name")
    if query:
        teams = teams.filter(Q(name__icontains=query) | Q(directorate__icontains=query))
    return render(request, "learners/team_list.html", {"page": paginate(request, teams), "form": form, "query": query})


@perm_required("academy.manage_academy")
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a team and its learners, 25 a page."""
    team = get_object_or_404(Team, pk=pk)
    page = paginate(request, team.learners.order_by("last_name", "first_name", "id"))
    history = change_history(team.history.select_related("history_user"))
    return render(request, "learners/team_detail.html", {"team": team, "page": page, "history": history})


@perm_required("academy.manage_academy")
def team_create(request: HttpRequest) -> HttpResponse:
    """Add a team."""
    form, team = save_form(request, TeamForm, what="team")
    if team:
        messages.success(request, f"The team {team.name} was added.")
        return redirect("teams:detail", pk=team.pk)
    return named_record_form_page(request, form, None, noun="team", namespace="teams")


@perm_required("academy.manage_academy")
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a team's name or directorate; a stale save is refused."""
    team = get_object_or_404(Team, pk=pk)
    form, saved = save_form(request, TeamForm, instance=team, what="team")
    if saved:
        messages.success(request, f"The team {team.name} was saved.")
        return redirect("teams:detail", pk=team.pk)
    return named_record_form_page(request, form, team, noun="team", namespace="teams")
