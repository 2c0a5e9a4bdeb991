"""The signed documents, mounted at ``/documents/`` (namespace ``documents``); views in ``coaching.document_views``."""
from django.urls import path

from . import compliance_views
from . import document_views as views

app_name = "documents"
urlpatterns = [
    path("enrolments/<int:enrolment_pk>/plan/", views.plan_current, name="plan"),
    path("enrolments/<int:enrolment_pk>/plan/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:plan_pk>/", views.plan_version, name="plan_version"),
    path("plans/<int:plan_pk>/sign/", views.plan_sign, name="plan_sign"),
    path("plans/<int:plan_pk>/pdf/", views.plan_pdf, name="plan_pdf"),
    path("reviews/<int:review_pk>/", views.review_detail, name="review"),
    path("reviews/<int:review_pk>/sign/", views.review_sign, name="review_sign"),
    path("reviews/<int:review_pk>/pdf/", views.review_pdf, name="review_pdf"),
    path("compliance/", compliance_views.compliance, name="compliance"),
    path("compliance.csv", compliance_views.compliance_csv, name="compliance_csv"),
]
