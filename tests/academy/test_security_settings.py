"""Production settings and security headers: check --deploy, HTTPS-only cookies, HSTS, CSP, framing."""
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _production_env(**extra) -> dict:
    """Return a clean environment as production sets it: DEBUG off, a long random key, a host."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(settings.BASE_DIR),
        "DJANGO_SETTINGS_MODULE": "academy.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "academy.example.org",
        **extra,
    }


def _run(args, env):
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {
            "REDIS_CACHE_URL": "redis://127.0.0.1:6379/14",
            "REQUIRE_MFA": "1",
            "ENTRA_TENANT_ID": "tenant",
            "ENTRA_CLIENT_ID": "client",
            "ENTRA_CLIENT_SECRET": "secret",
        },
    ],
    ids=["minimal", "redis-mfa-entra"],
)
def test_check_deploy_passes_with_production_environment(extra):
    """``manage.py check --deploy --fail-level WARNING`` exits 0 with DEBUG off (no warning at all)."""
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env(**extra))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _production_settings(names, **extra) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}, default=str))"
    )
    result = _run(["-c", code], _production_env(**extra))
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_https_only_and_hsts_is_a_year():
    values = _production_settings(
        [
            "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SESSION_COOKIE_HTTPONLY", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY",
        ]
    )
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
    }


def test_with_redis_sessions_and_rate_limits_share_the_redis_cache():
    """Rate limits use the default cache; with REDIS_CACHE_URL that is Redis, and sessions live there too."""
    values = _production_settings(["SESSION_ENGINE", "CACHES"], REDIS_CACHE_URL="redis://127.0.0.1:6379/14")
    assert values["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"
    assert values["CACHES"]["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert values["CACHES"]["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] is True  # an outage is a miss, not a 500
    assert values["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/14"


def test_every_response_carries_the_security_headers(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in response["Content-Security-Policy"].split(";")
    )
    assert policy == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }


def test_the_policy_allows_no_inline_script_or_eval():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for directive in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in directives[directive]
        assert "'unsafe-eval'" not in directives[directive]


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True)
def test_hsts_is_sent_on_https_when_debug_is_off(client):
    response = client.get(reverse("account_login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_pages_have_no_inline_scripts_or_event_handlers(client_for, lead, coach):
    """The strict policy would block them: every page's scripts come from static files."""
    import re

    pages = [(None, reverse("account_login")), (None, reverse("account_reset_password"))]
    for user, url in pages:
        html = client_for(user).get(url).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert not re.search(r"\son[a-z]+=\"", html), url
