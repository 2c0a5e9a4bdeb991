"""The apprentice's and the line manager's pages, mounted at /my/; the lead's invitations at /invitations/."""
from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("my/", views.learner_home, name="learner_home"),
    path("my/training/", views.training_list, name="training_list"),
    path("my/training/new/", views.training_create, name="training_create"),
    path("my/training/<int:activity_pk>/edit/", views.training_edit, name="training_edit"),
    path("my/apprentices/", views.line_manager_home, name="line_manager_home"),
    path("my/apprentices/<int:learner_pk>/", views.line_manager_learner, name="line_manager_learner"),
    path("invitations/learners/<int:learner_pk>/", views.invite_learner, name="invite_learner"),
    path("invitations/cohorts/<int:cohort_pk>/", views.invite_cohort, name="invite_cohort"),
]
