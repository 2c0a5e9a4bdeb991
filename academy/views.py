"""The home page: sends each role to where their work is."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode


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


def admin_login(request):
    """Send the admin's sign-in to allauth's (one way in: rate limits, MFA and audit), keeping ``next``.

    A ``next`` that is not a path on this site becomes ``/admin/``.
    """
    target = request.GET.get("next") or "/admin/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/admin/"
    return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")
