"""Who may use the API: the permission layer's ``academy.use_api`` (leads and heads of data)."""
from rest_framework.permissions import BasePermission


class CanUseApi(BasePermission):
    """Allow signed-in (or token-authenticated) users with ``academy.use_api``; 401 without credentials, 403 otherwise.

    DRF answers 401 when the request has no valid credentials (``TokenAuthentication`` is
    the first authenticator, so the response carries ``WWW-Authenticate: Token``), and 403
    when the user is known but lacks the permission.
    """

    message = "Your role may not use the API: it is for apprenticeship leads and heads of data."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("academy.use_api"))


def may_see_identity(user) -> bool:
    """Return True when ``user`` may see learners' names, emails, employee numbers and ULNs in the API (leads)."""
    return bool(user and user.is_authenticated and user.has_perm("academy.view_learner_identity_in_api"))
