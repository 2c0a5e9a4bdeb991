"""The read-only API, mounted at /api/."""
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"
urlpatterns = [
    path("", views.index, name="index"),
    path("docs/", views.docs, name="docs"),
    path("cohorts/", views.CohortList.as_view(), name="cohorts"),
    path("enrolments/", views.EnrolmentList.as_view(), name="enrolments"),
    path("results/", views.ResultList.as_view(), name="results"),
    path("metrics/", views.MetricsList.as_view(), name="metrics"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("token/", views.token, name="token"),
]
