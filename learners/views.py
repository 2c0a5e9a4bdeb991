"""Team pages: the list with filters, a team's page with its learners, add and change (leads manage; coaches read).

Views parse input, ask the permission rules, call a service and render; after a POST they
redirect with a success message.
"""
from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from academy.changes import records_changed
from academy.decorators import perm_required
from academy.history import change_history
from academy.models import Team
from academy.pages import named_record_form_page, paginate, save_form

from .forms import TeamFilterForm, TeamForm


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
    form, team = save_form(request, TeamForm, what="team", changed=lambda _team: records_changed())
    if team:
        messages.success(request, f"The team {team.name} was added.")
        return redirect("teams:detail", pk=team.pk)
    return named_record_form_page(request, form, None, noun="team", namespace="teams")


@perm_required("academy.manage_academy")
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a team's name or directorate; a stale save is refused."""
    team = get_object_or_404(Team, pk=pk)
    form, saved = save_form(request, TeamForm, instance=team, what="team", changed=lambda _team: records_changed())
    if saved:
        messages.success(request, f"The team {team.name} was saved.")
        return redirect("teams:detail", pk=team.pk)
    return named_record_form_page(request, form, team, noun="team", namespace="teams")
