"""URL wiring: each app's urls, allauth's account pages, the admin."""
from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico whatever the page says: send them to the SVG icon.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("images/favicon.svg"), permanent=True)),
    path("accounts/", include("allauth.urls")),
    path("learners/", include("coaching.learner_urls")),
    path("teams/", include("learners.team_urls")),
    path("cohorts/", include("cohorts.urls")),
    path("enrolments/", include("cohorts.enrolment_urls")),
    path("dashboard/exports/", include("dashboards.export_urls")),
    path("dashboard/", include("dashboards.urls")),
    path("impact/", include("outcomes.impact_urls")),
    path("api/", include("dashboards.api.urls")),
    path("privacy/", include("privacy.urls")),
    path("coach/", include("coaching.urls")),
    path("documents/", include("coaching.document_urls")),
    path("imports/", include("cohorts.import_urls")),
    path("", include("portal.urls")),
    # One sign-in for people: the admin's own login form would skip allauth's rate limits,
    # MFA step and audit, so it sends to allauth's (the admin keeps its permissions).
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

if settings.ACADEMY_BENCH_VIEWS:  # the scale benchmark's bare view; never on otherwise
    urlpatterns.append(path("bench/", include("demo.bench.urls")))
