"""Middleware: the second factor is enforced per session, and required for leads and heads of data.

Two rules, checked on every request but the exempt paths (``_exempt``):

1. **A user who has an authenticator app must have used it in this session.** allauth
   records each authentication step in the session (``get_authentication_records``:
   ``"password"``, ``"mfa"``, ``"socialaccount"``); a session of such a user without an
   ``"mfa"`` step (or a Microsoft Entra ID sign-in, whose own conditional access applies)
   is signed out and sent to allauth's sign-in, which asks for the code. This closes any
   password-only way in (the admin's old login form was one). The check's result is kept
   in the session against the user's id at sign-in (``remember_second_factor``), so pages
   cost no query for it
   (a user who adds an authenticator later in a session they began without one is asked
   for it from their next session).
   Adding an authenticator in a session counts as using it (the user has just typed a code:
   ``record_new_authenticator``).
2. **With ``REQUIRE_MFA``, leads and heads of data must have an authenticator**: without
   one they are sent to allauth's TOTP setup page.
"""
from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

SECOND_FACTOR_KEY = "academy_second_factor_user"
# Steps that prove more than a password (allauth's record_authentication methods).
SECOND_FACTOR_METHODS = {"mfa", "socialaccount"}


def mfa_required_for(user) -> bool:
    """Return True if ``user`` must have an authenticator app before using Academy.

    True only when the ``REQUIRE_MFA`` setting is on and the user is an apprenticeship
    lead (or administrator) or a head of data: the roles that see every learner or
    export data. Coaches are not required (they may still turn it on).
    """
    if not getattr(settings, "REQUIRE_MFA", False) or not user.is_authenticated:
        return False
    return bool(user.is_lead or user.is_head_of_data)


def session_second_factor(request, user) -> str | None:
    """Return ``"used"`` (a second factor was used in this session), ``"none"`` (the user has no
    authenticator) or ``None`` (the user has one and this session did not use it)."""
    kept = request.session.get(SECOND_FACTOR_KEY)
    if isinstance(kept, list) and len(kept) == 2 and kept[0] == user.pk:
        return kept[1]
    if any(record.get("method") in SECOND_FACTOR_METHODS for record in get_authentication_records(request, user)):
        state = "used"
    elif not is_mfa_enabled(user):
        state = "none"
    else:
        return None
    request.session[SECOND_FACTOR_KEY] = [user.pk, state]
    return state


def remember_second_factor(sender, request, user, **kwargs):
    """``user_logged_in``: work the session's state out at sign-in, so pages need no query for it."""
    if request is not None and hasattr(request, "session"):
        session_second_factor(request, user)


def record_new_authenticator(sender, request, user, authenticator, **kwargs):
    """allauth's ``authenticator_added``: the user typed a valid code in this session, so it passed."""
    if request is not None and hasattr(request, "session"):
        request.session[SECOND_FACTOR_KEY] = [user.pk, "used"]


class MFARequiredMiddleware:
    """Enforce the two rules of the module docstring.

    Runs after ``AuthenticationMiddleware``, ``MessageMiddleware`` and allauth's
    ``AccountMiddleware``. Exempt: the MFA pages (under ``mfa_index``), allauth's sign-in
    and its MFA step, re-authentication, sign-out and static files.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not self._exempt(request.path):
            state = session_second_factor(request, user)
            if state is None:
                logout(request)
                messages.warning(request, "Sign in again with your authenticator app: this session did not use it.")
                return redirect(f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}")
            if state == "none" and mfa_required_for(user) and not is_mfa_enabled(user):
                return redirect(f"{reverse('mfa_activate_totp')}?next={request.get_full_path()}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = (
            reverse("mfa_index"),
            reverse("mfa_authenticate"),
            reverse("account_login"),
            reverse("account_logout"),
            reverse("account_reauthenticate"),
            settings.STATIC_URL,
        )
        return path.startswith(allowed)


def cache_available() -> bool:
    """Return whether the cache that holds the sign-in rate limits answers (always True off Redis).

    With django-redis (``IGNORE_EXCEPTIONS``) a down Redis looks like an empty cache, so this
    asks Redis directly (one PING).
    """
    from django.core.cache import cache

    client = getattr(cache, "client", None)
    if client is None or not hasattr(client, "get_client"):
        return True
    try:
        client.get_client(write=True).ping()
    except Exception:  # redis.ConnectionError, TimeoutError, …: any failure means no counting
        return False
    return True


class SignInGuardMiddleware:
    """Refuse sign-in attempts with a 503 while the rate limits cannot be counted (fail closed).

    Applies to POSTs to allauth's sign-in, second-factor, re-authentication and
    password-reset pages. Everyone already signed in keeps working (sessions are kept in
    the database as well). The page says why and when to try again.
    """

    GUARDED = ("account_login", "mfa_authenticate", "account_reauthenticate", "account_reset_password")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path in self._paths() and not cache_available():
            from django.shortcuts import render

            response = render(request, "account/sign_in_paused.html", status=503)
            response["Retry-After"] = "120"
            return response
        return self.get_response(request)

    @classmethod
    def _paths(cls) -> set[str]:
        return {reverse(name) for name in cls.GUARDED}
