"""Settings for Academy: one module, driven by environment variables.

Environment (all optional for local use):

- ``DEBUG`` (bool, default False). Production-safe defaults apply when it is off.
- ``SECRET_KEY``: required when ``DEBUG`` is off; a development key is used otherwise.
  ``SECRET_KEY_FILE`` may name a file holding it instead.
- ``ALLOWED_HOSTS``: comma-separated (default ``127.0.0.1,localhost``).
- ``DATABASE_URL``: e.g. ``postgres://user@127.0.0.1:5432/academy``; unset means the
  SQLite file ``db.sqlite3`` in the project folder.
- ``CELERY_BROKER_URL``: e.g. ``redis://127.0.0.1:6379/0``; unset means Celery runs
  tasks eagerly in-process.
- ``CELERY_VISIBILITY_TIMEOUT`` (int seconds, default 3600): Redis hands an unacknowledged
  task to another worker after this long (a killed worker's task); keep it above the
  30-minute task limit. See docs/operations.md.
- ``REDIS_CACHE_URL``: a Redis URL for Django's cache (rate limits shared across
  gunicorn workers); unset means the local-memory cache.
- ``EMAIL_URL``: e.g. ``smtp://user:pass@host:587``; unset means the console backend.
- ``SECURE_SSL_REDIRECT`` (bool, default True when ``DEBUG`` is off).
- ``REQUIRE_MFA`` (bool, default False): apprenticeship leads and heads of data must set up
  an authenticator app (TOTP) before using Academy.
- ``ENTRA_TENANT_ID``, ``ENTRA_CLIENT_ID``, ``ENTRA_CLIENT_SECRET``: all three set turns on
  single sign-on with Microsoft Entra ID (OpenID Connect); see docs/security.md.
- ``ACADEMY_RETENTION_YEARS`` (int, default 6): learners are anonymised this many years after
  their last enrolment ended (the nightly retention job).
"""
import os
from pathlib import Path

import environ
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# --- Core ---------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)


def _secret_key():
    """Return the secret key from ``SECRET_KEY`` or ``SECRET_KEY_FILE``.

    In the embedded default (no ``DATABASE_URL``) a random key is created once in
    ``.secret_key`` in the project folder (not in git). With ``DATABASE_URL`` set and
    no key given, raises ``ImproperlyConfigured``: production never starts with a
    known or throwaway key.
    """
    key_file = env.str("SECRET_KEY_FILE", default="")
    if key_file:
        return Path(key_file).read_text().strip()
    if "SECRET_KEY" in os.environ or env.str("DATABASE_URL", default=""):
        return env.str("SECRET_KEY")
    local = BASE_DIR / ".secret_key"
    if not local.exists():
        local.write_text(get_random_secret_key())
        local.chmod(0o600)
    return local.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "template_partials",
    "simple_history",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "academy",
    "learners",
    "cohorts",
    "coaching",
    "outcomes",
    "dashboards",
    "privacy",
    "portal",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "academy.middleware.SignInGuardMiddleware",
    "academy.middleware.MFARequiredMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "academy.urls"
WSGI_APPLICATION = "academy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "academy.context_processors.navigation",
            ],
        },
    },
]
FORM_RENDERER = "academy.forms.GovUKFormRenderer"

# --- Database -----------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the in-process worker and the web request share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default="")


def redis_caches(url: str) -> dict:
    """Return ``CACHES`` for the Redis at ``url`` (see the comment below; tests use it too)."""
    return {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": url,
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }}


if REDIS_CACHE_URL:
    # django-redis with IGNORE_EXCEPTIONS: when Redis is down every cache read is a miss and
    # every write is skipped (logged), so pages still render, sessions fall back to the
    # database (cached_db below) and nobody gets a 500. Sign-in rate limits cannot be
    # counted then, so sign-in attempts are refused with a 503 until Redis is back
    # (academy.middleware.SignInGuardMiddleware; docs/security.md). One-second timeouts keep
    # an outage from holding a request.
    CACHES = redis_caches(REDIS_CACHE_URL)
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Users, sign-in and permissions -------------------------------------------------
AUTH_USER_MODEL = "academy.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "academy.auth_backends.StaffModelBackend",  # model permissions for staff (the admin) only
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "academy.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_PRESERVE_USERNAME_CASING = False
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_SAVE_EVERY_REQUEST = True  # expiry counts from the last request (inactivity)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
if REDIS_CACHE_URL:
    # Sessions on the shared Redis cache, backed by the database so a Redis restart does
    # not sign everyone out; every gunicorn worker sees the same sessions.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Sign-in rate limits (allauth, on the default cache: Redis in production, so the limits
# hold across gunicorn workers). Format "amount/period/per": at most 5 failed sign-ins per
# email address and 20 per IP address in 5 minutes; then the sign-in page says
# "Too many failed sign-in attempts" until the window has passed.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "20/5m/ip,5/5m/key",
    "reset_password": "20/m/ip,3/5m/key",
}
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Academy] "
# Number of reverse proxies in front of gunicorn that set X-Forwarded-For (for the IP
# address in rate limits and the audit log). 0 trusts no header.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Multi-factor authentication (allauth.mfa): an authenticator app (TOTP) and recovery
# codes only. With REQUIRE_MFA, leads and heads of data are sent to set one up
# (academy.middleware.MFARequiredMiddleware).
REQUIRE_MFA = env.bool("REQUIRE_MFA", default=False)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Academy")

# Single sign-on with Microsoft Entra ID (OpenID Connect), only when configured. Nobody
# signs up through it: the adapter connects a Microsoft account to an existing, active
# user with the same email address, and refuses anyone else.
SOCIALACCOUNT_ADAPTER = "academy.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
ENTRA_TENANT_ID = env.str("ENTRA_TENANT_ID", default="")
ENTRA_CLIENT_ID = env.str("ENTRA_CLIENT_ID", default="")
ENTRA_CLIENT_SECRET = env.str("ENTRA_CLIENT_SECRET", default="")
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
if ENTRA_TENANT_ID and ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET:
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"].append(
        {
            "provider_id": "entra",
            "name": "Microsoft",
            "client_id": ENTRA_CLIENT_ID,
            "secret": ENTRA_CLIENT_SECRET,
            "settings": {
                # The tenant's own issuer: only accounts of this organisation can sign in.
                "server_url": f"https://login.microsoftonline.com/{ENTRA_TENANT_ID}/v2.0",
                "token_auth_method": "client_secret_post",
                "scope": ["openid", "email", "profile"],
            },
        }
    )

# --- Internationalisation: UK dates, Europe/London ------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d %B %Y", "%d %b %Y"]

# --- Static files -------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Email --------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="academy@example.org")

# --- Celery -------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Reliability (docs/operations.md): a task is acknowledged only after it ran (acks_late),
# and a task whose worker process died (kill -9, out of memory) goes back on the queue.
# On Redis an unacknowledged message is redelivered when its worker has not acked it within
# the visibility timeout, so it must exceed the longest task (CELERY_TASK_TIME_LIMIT);
# tests use a few seconds (CELERY_VISIBILITY_TIMEOUT) to see a killed worker's task come back.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60)}
CELERY_BEAT_SCHEDULE = {
    "recompute-metrics-nightly": {
        "task": "outcomes.tasks.recompute_metrics",
        "schedule": 60 * 60 * 24,
        "options": {"expires": 60 * 60},
    },
}
CELERY_BEAT_SCHEDULE["apply-retention-nightly"] = {
    "task": "privacy.tasks.apply_retention",
    "schedule": 60 * 60 * 24,
    "options": {"expires": 60 * 60},
}
# Coaches' morning reminder (coaching.tasks): daily at 07:00 in CELERY_TIMEZONE (Europe/London).
from celery.schedules import crontab  # noqa: E402

# Import runs whose job was lost (a worker gone with its task) end as failed with a message.
CELERY_BEAT_SCHEDULE["fail-stalled-imports"] = {
    "task": "cohorts.tasks.fail_stalled_imports",
    "schedule": 10 * 60,
    "options": {"expires": 5 * 60},
}
CELERY_BEAT_SCHEDULE["send-coach-reminders-daily"] = {
    "task": "coaching.tasks.send_reminders",
    "schedule": crontab(hour=7, minute=0),
    "options": {"expires": 60 * 60 * 6},
}

# --- Security (production-safe when DEBUG is off) ----------------------------------
# Content Security Policy (django-csp 4): no inline scripts anywhere; scripts, styles and
# fonts only from our own static files. plotly.js would inject a <style> element; the
# dashboard links plotly's rules as a static stylesheet marked "no-inline-styles" so it
# does not (docs/security.md). img-src allows data: for the TOTP QR code allauth draws.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
if SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]:
    # Browsers apply form-action to the redirect after the "Sign in with Microsoft" POST.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append("https://login.microsoftonline.com")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging ------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Academy ------------------------------------------------------------------------
# Cohorts with fewer learners than this are marked "too small to compare" (docs/rules.md, "Statistics").
ACADEMY_SMALL_COHORT = 5
# Privacy: learners are anonymised this many years after their last enrolment ended
# (UK GDPR Art. 5(1)(e) storage limitation; the employer's retention schedule decides N).
ACADEMY_RETENTION_YEARS = env.int("ACADEMY_RETENTION_YEARS", default=6)
# The largest staff/ILR file the import accepts, in bytes (cohorts.imports.pipeline).
ACADEMY_IMPORT_MAX_BYTES = env.int("ACADEMY_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# The scale benchmark's bare view at /bench/bare/ (demo.bench): off unless set, and
# only ever set by ``python manage.py benchmark`` for its own gunicorn.
ACADEMY_BENCH_VIEWS = env.bool("ACADEMY_BENCH_VIEWS", default=False)

# --- Business impact, exports and the read-only API -------------------------
# Hours saved a year are turned into pounds on the value-for-the-levy page only with an
# hourly cost: this default (pounds an hour, e.g. 25.50) or the page's own input. Unset: none.
ACADEMY_HOURLY_COST_GBP = env.str("ACADEMY_HOURLY_COST_GBP", default="") or None
# Chart PNGs: "auto" (kaleido with a headless Chromium, else matplotlib), "kaleido" or
# "matplotlib". ACADEMY_CHROME_PATH (or kaleido's own BROWSER_PATH) names the browser.
ACADEMY_CHART_RENDERER = env.str("ACADEMY_CHART_RENDERER", default="auto")
ACADEMY_CHROME_PATH = env.str("ACADEMY_CHROME_PATH", default="")
# API: the largest page a client may ask for (a larger page_size is capped to it).
ACADEMY_API_MAX_PAGE_SIZE = 500
# Key of the learners' pseudonyms in the API (HMAC); empty means SECRET_KEY.
ACADEMY_PSEUDONYM_KEY = env.str("ACADEMY_PSEUDONYM_KEY", default="")
REST_FRAMEWORK = {
    # Token first: a request without valid credentials gets 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dashboards.api.permissions.CanUseApi"],
    "DEFAULT_PAGINATION_CLASS": "dashboards.api.pagination.ApiPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Academy read-only API",
    "DESCRIPTION": (
        "Cohorts, enrolments, end-point assessment results and cohort metrics, for tools such as Power BI. "
        "Authenticate with `Authorization: Token <key>` (create one at /api/token/). Lists are paginated "
        "(`page`, `page_size` up to 500) and filtered like the dashboard (`cohort`, `standard`, `level`, "
        "`team`, `coach`, `from`, `to`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["dashboards.api.permissions.CanUseApi"],
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "SCHEMA_PATH_PREFIX": "/api/",
}
