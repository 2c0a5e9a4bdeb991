"""Business impact pages, mounted at /impact/."""
from django.urls import path

from . import impact_views

app_name = "impact"
urlpatterns = [
    path("", impact_views.impact_list, name="list"),
    path("new/", impact_views.impact_create, name="create"),
    path("<int:pk>/edit/", impact_views.impact_edit, name="edit"),
    path("levy/", impact_views.levy, name="levy"),
]
