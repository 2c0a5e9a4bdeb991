"""Team pages, mounted at ``/teams/`` (namespace ``teams``)."""

from django.urls import path

from . import views

app_name = "teams"
urlpatterns = [
    path("", views.team_list, name="list"),
    path("new/", views.team_create, name="create"),
    path("<int:pk>/", views.team_detail, name="detail"),
    path("<int:pk>/edit/", views.team_edit, name="edit"),
]
