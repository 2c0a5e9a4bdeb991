"""Privacy pages for apprenticeship leads: subject access (page and JSON) and erasure.

Coaches and heads of data get 403 (``academy.view_subject_access`` and
``academy.erase_learner`` in ``academy/rules.py``). Every subject access export and every
erasure is written to the audit log.
"""
import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from academy.audit import Action, record
from academy.decorators import perm_required
from learners.models import Learner

from .services import anonymise_learner, subject_access_data

SECTIONS = [
    ("learner", "Learner"),
    ("account", "Sign-in account"),
    ("enrolments", "Enrolments"),
    ("status_changes", "Enrolment status changes"),
    ("coaching_sessions", "Coaching sessions"),
    ("progress_reviews", "Progress reviews"),
    ("otj_activities", "Off-the-job training activities"),
    ("assessment_results", "End-point assessment results"),
    ("impact_records", "Business impact records"),
    ("history", "History of changes"),
    ("audit_events", "Audit log entries"),
]


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label="I understand this permanently removes this learner's personal data and cannot be undone",
        error_messages={"required": "Confirm that you understand the personal data will be removed for good"},
    )


def _sections(data: dict) -> list[dict]:
    """Return the export as page sections: title, and rows of (label, value) pairs."""
    sections = []
    for key, title in SECTIONS:
        value = data.get(key)
        rows = value if isinstance(value, list) else ([value] if value else [])
        sections.append(
            {
                "key": key,
                "title": title,
                "rows": [[(name.replace("_", " ").capitalize(), item) for name, item in row.items()] for row in rows],
            }
        )
    return sections


@perm_required("academy.view_subject_access")
def subject_access(request: HttpRequest, pk: int) -> HttpResponse:
    """Show everything held on one learner, readable, with a link to the JSON download."""
    learner = get_object_or_404(Learner, pk=pk)
    data = subject_access_data(learner)
    record(request=request, action=Action.SUBJECT_ACCESS, obj=learner, detail={"format": "page"})
    return render(
        request,
        "privacy/subject_access.html",
        {"learner": learner, "generated_at": data["generated_at"], "sections": _sections(data)},
    )


@perm_required("academy.view_subject_access")
def subject_access_json(request: HttpRequest, pk: int) -> HttpResponse:
    """Download everything held on one learner as JSON (``privacy.services.subject_access_data``)."""
    learner = get_object_or_404(Learner, pk=pk)
    data = subject_access_data(learner)
    record(request=request, action=Action.SUBJECT_ACCESS, obj=learner, detail={"format": "json"})
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="learner-{learner.pk}-subject-access.json"'
    return response


@perm_required("academy.erase_learner")
def erase(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then anonymise one learner (``privacy.services.anonymise_learner``)."""
    learner = get_object_or_404(Learner, pk=pk)
    if learner.anonymised_at is not None:
        messages.info(request, "This learner's personal data has already been removed.")
        return redirect(learner)
    form = ErasureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        anonymise_learner(learner=learner, by=request.user)
        messages.success(request, f"Personal data removed. The learner is now “Anonymised learner {learner.pk}”.")
        return redirect(learner)
    return render(request, "privacy/erase.html", {"learner": learner, "form": form})
