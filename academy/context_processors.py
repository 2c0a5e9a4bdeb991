"""Template context shared by every page."""


def navigation(request):
    """Return ``nav_items``: (label, url name) pairs for the signed-in user's role."""
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        if user.has_perm("academy.view_learner_list"):
            items.append(("Learners", "learners:list"))
        if user.has_perm("academy.view_dashboard"):
            items.append(("Dashboard", "outcomes:dashboard"))
        if user.is_staff:
            items.append(("Admin", "admin:index"))
    return {"nav_items": items}
