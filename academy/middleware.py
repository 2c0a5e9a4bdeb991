"""Middleware: multi-factor authentication required for leads and heads of data."""
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse


def mfa_required_for(user) -> bool:
    """Return True if ``user`` must have an authenticator app before using Academy.

    True only when the ``REQUIRE_MFA`` setting is on and the user is an apprenticeship
    lead (or administrator) or a head of data: the roles that see every learner or
    export data. Coaches are not required (they may still turn it on).
    """
    if not getattr(settings, "REQUIRE_MFA", False) or not user.is_authenticated:
        return False
    return bool(user.is_lead or user.is_head_of_data)


class MFARequiredMiddleware:
    """Send a lead or head of data without an authenticator app to allauth's TOTP setup page.

    Applies to every page except the MFA pages themselves (under ``mfa_index``), the
    re-authentication page allauth asks for before activating, sign-out and static
    files. Runs after ``AuthenticationMiddleware`` and allauth's ``AccountMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and mfa_required_for(user) and not self._exempt(request.path):
            if not is_mfa_enabled(user):
                return redirect(f"{reverse('mfa_activate_totp')}?next={request.get_full_path()}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = (
            reverse("mfa_index"),
            reverse("account_logout"),
            reverse("account_reauthenticate"),
            settings.STATIC_URL,
        )
        return path.startswith(allowed)
