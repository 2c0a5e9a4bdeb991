"""django-allauth hooks: no self sign-up (leads and administrators create users).

- ``AccountAdapter``: sign-in by email only; sign-up is closed; a sign-in refused by the
  rate limit is written to the audit log.
- ``SocialAccountAdapter``: single sign-on with Microsoft Entra ID only for people who
  already have an active Academy user with the same email address; nobody signs up
  through it.
"""
from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, _build_apps_from_settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from academy.audit import Action, record


class AccountAdapter(DefaultAccountAdapter):
    """Sign-in by email only; sign-up is closed; friendlier lock-out and error messages."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": (
            "Too many failed sign-in attempts. For your security, sign-in to this account "
            "is locked for 5 minutes. Try again later, or reset your password."
        ),
    }

    def is_open_for_signup(self, request):
        return False

    def pre_authenticate(self, request, **credentials):
        """Apply allauth's failed-sign-in rate limit; record a refused attempt in the audit log."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            email = (credentials.get("email") or "").strip().lower()
            account = get_user_model().objects.filter(email=email).first() if email else None
            record(
                request=request,
                action=Action.SIGN_IN_FAILED,
                obj=account,
                detail={"known_account": account is not None, "reason": "rate_limited"},
            )
            raise


def _email_from(sociallogin) -> str:
    """Return the email address the identity provider gave, lower-cased ('' if none).

    Entra ID puts it in ``email`` (when the user has a mailbox) or ``preferred_username``
    (the sign-in name, usually the same work address).
    """
    data = sociallogin.account.extra_data or {}
    for candidate in (sociallogin.user.email, data.get("email"), data.get("preferred_username"), data.get("upn")):
        if candidate and "@" in candidate:
            return candidate.strip().lower()
    return ""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Entra ID sign-in: connect to an existing active user by email, or refuse.

    Trust rests on the tenant-specific issuer (``ENTRA_TENANT_ID``): only accounts that
    the organisation's own directory manages can sign in, so their email addresses are
    the organisation's to assign.
    """

    def list_apps(self, request, provider=None, client_id=None):
        """Return only the apps configured in settings (from ``ENTRA_*``), never database rows.

        Identity providers come from the environment alone, so no admin-site row can add
        one; and the sign-in page needs no database query to draw its SSO button.
        """
        apps = _build_apps_from_settings(provider=provider, client_id=client_id)
        return [app for provider_apps in apps.values() for app in provider_apps]

    def pre_social_login(self, request, sociallogin):
        if sociallogin.is_existing:
            return
        email = _email_from(sociallogin)
        user = get_user_model().objects.filter(email=email, is_active=True).first() if email else None
        if user is not None:
            sociallogin.connect(request, user)

    def is_open_for_signup(self, request, sociallogin):
        record(
            request=request,
            action=Action.SIGN_IN_FAILED,
            detail={"known_account": False, "method": "entra", "reason": "no_matching_user"},
        )
        return False
