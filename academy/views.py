"""The home page: sends each role to where their work is."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Redirect each role to its first page: a lead or head of data to the dashboard, a coach to
    ``coach:home``, an apprentice to ``portal:learner_home``, a line manager to ``portal:line_manager_home``."""
    if request.user.has_perm("academy.view_dashboard"):
        return redirect("outcomes:dashboard")
    if request.user.has_perm("academy.view_coach_home"):
        return redirect("coach:home")
    if request.user.has_perm("academy.view_learner_home"):
        return redirect("portal:learner_home")
    if request.user.has_perm("academy.view_line_manager_home"):
        return redirect("portal:line_manager_home")
    return redirect("learners:list")
