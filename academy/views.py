"""The home page: sends each role to where their work is."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Redirect a lead or head of data to the dashboard, a coach to their own page (``coach:home``)."""
    if request.user.has_perm("academy.view_dashboard"):
        return redirect("outcomes:dashboard")
    if request.user.has_perm("academy.view_coach_home"):
        return redirect("coach:home")
    return redirect("learners:list")
