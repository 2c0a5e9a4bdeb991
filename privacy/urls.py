from django.urls import path

from . import views as privacy_views

app_name = "privacy"
urlpatterns = [
    path("learners/<int:pk>/", privacy_views.subject_access, name="subject_access"),
    path("learners/<int:pk>/export.json", privacy_views.subject_access_json, name="subject_access_json"),
    path("learners/<int:pk>/erase/", privacy_views.erase, name="erase"),
]
