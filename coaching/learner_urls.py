"""The learner pages, mounted at ``/learners/`` (namespace ``learners``); the views live in ``coaching.learner_views``."""
from django.urls import path

from . import learner_views as views

app_name = "learners"
urlpatterns = [
    path("", views.learner_list, name="list"),
    path("new/", views.learner_create, name="create"),
    path("lookup/", views.learner_lookup, name="lookup"),
    path("export.csv", views.learner_export_csv, name="export_csv"),
    path("export.xlsx", views.learner_export_xlsx, name="export_xlsx"),
    path("<int:pk>/", views.learner_detail, name="detail"),
    path("<int:pk>/edit/", views.learner_edit, name="edit"),
]
