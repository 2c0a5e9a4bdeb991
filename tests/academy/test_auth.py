"""Sign-in: rate limits and lock-out, MFA (TOTP) required for leads and heads, SSO, sessions, reset."""
import base64
import hashlib
import hmac
import struct
import time

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from academy.models import AuditEvent, User
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's password


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth keeps rate-limit counters in the cache: start and end each test with none."""
    cache.clear()
    yield
    cache.clear()


def totp_code(secret_base32: str, at: float | None = None) -> str:
    """Return the RFC 6238 TOTP code (SHA-1, 30 s, 6 digits) for ``secret_base32``, computed here."""
    key = base64.b32decode(secret_base32.upper() + "=" * (-len(secret_base32) % 8))
    counter = int((at if at is not None else time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def _sign_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


# --- Rate limiting and lock-out -----------------------------------------------------


def test_it_locks_out_after_five_failed_sign_ins_with_a_clear_message(client, coach):
    """Five wrong passwords in 5 minutes lock the account: even the right password is refused, with the message."""
    for _ in range(5):
        response = _sign_in(client, coach.email, "wrong-password-123")
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    response = _sign_in(client, coach.email, PASSWORD)
    html = response.content.decode()
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert 'class="govuk-error-summary"' in html
    assert "Too many failed sign-in attempts" in html
    assert "locked for 5 minutes" in html
    refused = AuditEvent.objects.filter(action="sign_in_failed", detail__reason="rate_limited")
    assert refused.count() == 1
    assert refused.get().object_id == str(coach.pk)


def test_the_lock_out_is_per_account_so_others_can_still_sign_in(client, coach, other_coach):
    for _ in range(5):
        _sign_in(client, coach.email, "wrong-password-123")
    response = _sign_in(client, other_coach.email, PASSWORD)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(other_coach.pk)


def test_the_rate_limits_are_configured_per_ip_and_per_account():
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"] == "20/5m/ip,5/5m/key"


# --- MFA ------------------------------------------------------------------------------


@override_settings(REQUIRE_MFA=True)
@pytest.mark.parametrize("persona", ["lead", "head"])
def test_with_require_mfa_a_lead_or_head_without_an_authenticator_is_sent_to_set_one_up(request, client_for, persona):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    for url in (reverse("home"), reverse("outcomes:dashboard"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("mfa_activate_totp")), url


@override_settings(REQUIRE_MFA=True)
def test_with_require_mfa_the_setup_and_sign_out_pages_stay_reachable(client_for, lead):
    client = client_for(lead)
    response = client.get(reverse("mfa_activate_totp"))
    # allauth asks for the password again before adding an authenticator: never a loop back to itself.
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("account_reauthenticate"))
        assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.post(reverse("account_logout")).status_code == 302


@override_settings(REQUIRE_MFA=True)
def test_with_require_mfa_a_coach_is_not_forced(client_for, coach):
    response = client_for(coach).get(reverse("learners:list"))
    assert response.status_code == 200


@override_settings(REQUIRE_MFA=False)
def test_without_require_mfa_nobody_is_forced(client_for, lead):
    response = client_for(lead).get(reverse("home"))
    assert response["Location"] == reverse("outcomes:dashboard")


@override_settings(REQUIRE_MFA=True)
def test_totp_sign_in_needs_a_real_code_then_lets_a_lead_in(client, lead):
    """Password, then the authenticator code computed here (RFC 6238); a wrong code is refused."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(lead, secret)

    response = _sign_in(client, lead.email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert SESSION_KEY not in client.session  # not signed in until the second factor

    good = totp_code(secret)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": good})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(lead.pk)
    # With an authenticator, REQUIRE_MFA lets the lead through to the dashboard.
    assert client.get(reverse("home"))["Location"] == reverse("outcomes:dashboard")
    assert AuditEvent.objects.filter(action="sign_in", user=lead).count() == 1


def test_only_totp_and_recovery_codes_are_offered():
    assert settings.MFA_SUPPORTED_TYPES == ["totp", "recovery_codes"]


# --- Sessions and password reset ------------------------------------------------------


def test_sessions_expire_after_eight_hours_of_inactivity():
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True  # the clock restarts on every request
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_the_session_cookie_is_refreshed_on_each_request(client_for, coach):
    client = client_for(coach)
    response = client.get(reverse("learners:list"))
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""  # browser-session cookie
    assert client.session.get_expiry_age() == 8 * 60 * 60


def test_password_reset_sends_an_email_with_a_working_link(client, coach):
    response = client.post(reverse("account_reset_password"), {"email": coach.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [coach.email]
    link = next(word for word in message.body.split() if "/accounts/password/reset/key/" in word)
    path = link.split("testserver", 1)[-1]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert 'name="password1"' in response.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_revealing(client):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert all("/password/reset/key/" not in m.body for m in mail.outbox)


# --- Single sign-on (Microsoft Entra ID) -----------------------------------------------

ENTRA = {
    "openid_connect": {
        "APPS": [
            {
                "provider_id": "entra",
                "name": "Microsoft",
                "client_id": "client-id",
                "secret": "client-secret",
                "settings": {"server_url": "https://login.microsoftonline.com/tenant-id/v2.0"},
            }
        ]
    }
}


def test_without_entra_settings_the_sign_in_page_has_no_sso_button(client):
    assert "Sign in with Microsoft" not in client.get(reverse("account_login")).content.decode()


@override_settings(SOCIALACCOUNT_PROVIDERS=ENTRA)
def test_with_entra_settings_the_sign_in_page_offers_microsoft(client):
    html = client.get(reverse("account_login")).content.decode()
    assert "Sign in with Microsoft" in html
    assert 'action="/accounts/oidc/entra/login/' in html


def test_the_settings_build_the_entra_app_only_from_all_three_variables(monkeypatch):
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS'])"
    base = {"DJANGO_SETTINGS_MODULE": "academy.settings", "SECRET_KEY": "x" * 60, "DEBUG": "1", "PATH": "/usr/bin:/bin"}
    run = lambda extra: subprocess.run(  # noqa: E731
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**base, **extra}, capture_output=True, text=True, cwd=settings.BASE_DIR, check=True,
    ).stdout
    assert run({"ENTRA_TENANT_ID": "t", "ENTRA_CLIENT_ID": "c"}).strip() == "[]"
    output = run({"ENTRA_TENANT_ID": "tenant-123", "ENTRA_CLIENT_ID": "c", "ENTRA_CLIENT_SECRET": "s"})
    assert "https://login.microsoftonline.com/tenant-123/v2.0" in output
    assert "'provider_id': 'entra'" in output


def _sociallogin(email):
    from allauth.socialaccount.models import SocialAccount, SocialLogin

    account = SocialAccount(provider="entra", uid=f"oid-{email}", extra_data={"preferred_username": email})
    return SocialLogin(user=User(email=""), account=account)


@override_settings(SOCIALACCOUNT_PROVIDERS=ENTRA)
def test_sso_connects_a_microsoft_account_to_the_existing_user_with_that_email(rf, coach):
    from django.contrib.sessions.middleware import SessionMiddleware

    from academy.adapters import SocialAccountAdapter

    request = rf.get("/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = factories.CoachFactory.build()
    sociallogin = _sociallogin("BOB@example.org")
    SocialAccountAdapter(request).pre_social_login(request, sociallogin)
    assert sociallogin.user == coach
    assert sociallogin.account.user_id == coach.pk


def test_sso_refuses_an_address_with_no_academy_user_and_audits_it(rf, db):
    from academy.adapters import SocialAccountAdapter

    request = rf.get("/")
    sociallogin = _sociallogin("stranger@example.org")
    adapter = SocialAccountAdapter(request)
    adapter.pre_social_login(request, sociallogin)
    assert sociallogin.is_existing is False
    assert adapter.is_open_for_signup(request, sociallogin) is False
    event = AuditEvent.objects.get(action="sign_in_failed")
    assert event.detail == {"known_account": False, "method": "entra", "reason": "no_matching_user"}


def test_sso_does_not_connect_to_a_deactivated_user(rf, coach):
    from academy.adapters import SocialAccountAdapter

    coach.is_active = False
    coach.save()
    request = rf.get("/")
    sociallogin = _sociallogin(coach.email)
    SocialAccountAdapter(request).pre_social_login(request, sociallogin)
    assert sociallogin.is_existing is False


# --- One way in, MFA per session (issue 17, findings 1 and 2) -------------------------


@pytest.fixture
def lead_with_totp(lead):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(lead, secret)
    return lead, secret


@override_settings(REQUIRE_MFA=True)
def test_the_admin_sign_in_is_allauths_so_a_password_alone_never_opens_the_admin(client, lead_with_totp):
    lead, _ = lead_with_totp
    response = client.get("/admin/login/?next=/admin/academy/user/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=%2Fadmin%2Facademy%2Fuser%2F"
    assert client.get("/admin/login/?next=https://evil.example/")["Location"].endswith("next=%2Fadmin%2F")
    response = client.post("/admin/login/", {"username": lead.email, "password": PASSWORD})
    assert response.status_code == 302 and SESSION_KEY not in client.session
    assert client.get("/admin/", follow=True).redirect_chain[-1][0].startswith(reverse("account_login"))


@pytest.mark.parametrize("url", ["/admin/", "/learners/", "/dashboard/", "/api/token/"])
def test_a_session_that_skipped_the_authenticator_reaches_no_page(client, lead_with_totp, url):
    lead, _ = lead_with_totp
    client.force_login(lead)  # a password-only session (as the admin's old form made)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert SESSION_KEY not in client.session  # signed out


def test_a_session_that_used_the_authenticator_goes_everywhere(client, lead_with_totp):
    lead, secret = lead_with_totp
    _sign_in(client, lead.email, PASSWORD)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    for url in ("/admin/", "/learners/", "/dashboard/", "/api/token/"):
        assert client.get(url).status_code == 200, url


def test_the_admins_old_form_cannot_be_used_to_guess_passwords(client, coach):
    for _ in range(12):
        client.post("/admin/login/", {"username": coach.email, "password": "wrong"})
    response = client.post("/admin/login/", {"username": coach.email, "password": PASSWORD})
    assert SESSION_KEY not in client.session and response.status_code == 302
    # allauth's form, the only way in, locked the account after five failures.
    assert _sign_in(client, coach.email, "wrong").status_code in (200, 429)


def test_adding_an_authenticator_counts_as_using_it_in_that_session(client_for, coach):
    from allauth.mfa import signals
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    client = client_for(coach)
    assert client.get(reverse("coach:home")).status_code == 200
    authenticator = TOTP.activate(coach, generate_totp_secret()).instance
    request = type("Request", (), {"session": client.session})()
    signals.authenticator_added.send(sender=None, request=request, user=coach, authenticator=authenticator)
    request.session.save()
    assert client.get(reverse("coach:home")).status_code == 200
