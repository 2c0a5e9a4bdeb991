"""URL wiring: each app's urls, allauth's account pages, the admin."""
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("learners/", include("learners.urls")),
    path("dashboard/", include("outcomes.urls")),
    path("admin/", admin.site.urls),
]
