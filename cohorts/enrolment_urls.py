"""Enrolment pages and their status changes, mounted at ``/enrolments/`` (namespace ``enrolments``)."""

from django.urls import path

from . import views

app_name = "enrolments"
urlpatterns = [
    path("", views.enrolment_list, name="list"),
    path("new/", views.enrolment_create, name="create"),
    path("export.csv", views.enrolment_export_csv, name="export_csv"),
    path("export.xlsx", views.enrolment_export_xlsx, name="export_xlsx"),
    path("<int:pk>/", views.enrolment_detail, name="detail"),
    path("<int:pk>/edit/", views.enrolment_edit, name="edit"),
    path("<int:pk>/break/", views.start_break, name="start_break"),
    path("<int:pk>/return/", views.end_break, name="end_break"),
    path("<int:pk>/gateway/", views.move_to_gateway, name="move_to_gateway"),
    path("<int:pk>/end-point-assessment/", views.start_epa, name="start_epa"),
    path("<int:pk>/result/", views.record_result, name="record_result"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
