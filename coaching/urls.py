"""The coach's pages, mounted at ``/coach/`` (namespace ``coach``)."""
from django.urls import path

from . import views

app_name = "coach"
urlpatterns = [
    path("", views.home, name="home"),
    path("risk/", views.risk_view, name="risk"),
    path("enrolments/<int:enrolment_pk>/", views.enrolment_record, name="enrolment"),
    path("enrolments/<int:enrolment_pk>/sessions/new/", views.session_create, name="session_create"),
    path("enrolments/<int:enrolment_pk>/reviews/new/", views.review_create, name="review_create"),
    path("enrolments/<int:enrolment_pk>/training/new/", views.activity_create, name="activity_create"),
    path("sessions/<int:session_pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:session_pk>/delete/", views.session_delete, name="session_delete"),
    path("reviews/<int:review_pk>/edit/", views.review_edit, name="review_edit"),
    path("reviews/<int:review_pk>/delete/", views.review_delete, name="review_delete"),
    path("training/", views.training_queue, name="training_queue"),
    path("training/<int:activity_pk>/confirm/", views.training_confirm, name="training_confirm"),
    path("training/<int:activity_pk>/return/", views.training_return, name="training_return"),
    path("training/<int:activity_pk>/edit/", views.activity_edit, name="activity_edit"),
    path("training/<int:activity_pk>/delete/", views.activity_delete, name="activity_delete"),
]
