"""Template context shared by every page."""
from typing import NamedTuple

from django.urls import reverse


class NavItem(NamedTuple):
    """One link of the service navigation.

    ``label`` is the link text, ``url_name`` the URL pattern name (e.g. ``"learners:list"``),
    ``url`` its reversed path, and ``aria_current`` what the link's ``aria-current`` says:
    ``"page"`` on that very page, ``"true"`` elsewhere in the same section (same URL
    namespace, e.g. a learner's page under "Learners"), ``""`` otherwise.
    """

    label: str
    url_name: str
    url: str
    aria_current: str


def _aria_current(request, url_name):
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.view_name == url_name:
        return "page"
    namespace = url_name.rpartition(":")[0]
    if namespace and match.namespace == namespace:
        return "true"
    return ""


def navigation(request):
    """Return ``nav_items``: a list of ``NavItem`` (label, url name, url, aria-current) for the user's role."""
    user = getattr(request, "user", None)
    pairs = []
    if user is not None and user.is_authenticated:
        if user.has_perm("academy.view_learner_home"):
            pairs.append(("My apprenticeship", "portal:learner_home"))
        if user.has_perm("academy.view_line_manager_home"):
            pairs.append(("My apprentices", "portal:line_manager_home"))
        if user.has_perm("academy.view_coach_home"):
            pairs.append(("My learners", "coach:home"))
        if user.has_perm("academy.view_learner_list"):
            pairs.append(("Learners", "learners:list"))
        if user.has_perm("academy.manage_academy"):
            pairs += [("Cohorts", "cohorts:list"), ("Enrolments", "enrolments:list"), ("Teams", "teams:list")]
        if user.has_perm("academy.view_risk"):
            pairs.append(("Learners at risk", "coach:risk"))
        if user.has_perm("academy.view_compliance"):
            pairs.append(("Signatures", "documents:compliance"))
        if user.has_perm("academy.view_dashboard"):
            pairs.append(("Dashboard", "outcomes:dashboard"))
        if user.has_perm("academy.view_impact"):
            pairs.append(("Impact", "impact:list"))
        if user.has_perm("academy.export_dashboard"):
            # The downloads page links the board report and the API (with the token page).
            pairs.append(("Downloads", "exports:index"))
        if user.has_perm("academy.import_data"):
            pairs.append(("Import", "imports:upload"))
        if user.is_staff:
            pairs.append(("Admin", "admin:index"))
    items = [NavItem(label, name, reverse(name), _aria_current(request, name)) for label, name in pairs]
    return {"nav_items": items}
