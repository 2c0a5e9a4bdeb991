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
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from academy.audit import Action, record
from academy.dates import uk_date
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
    ("training_plans", "Training plans (every version)"),
    ("signatures", "Signatures of training plans and progress reviews"),
    ("assessment_results", "End-point assessment results"),
    ("impact_records", "Business impact records"),
    ("history", "History of changes"),
    ("audit_events", "Audit log entries"),
]


# A list section with more records than this is folded into a "Show all N records" details
# element (opened for printing by static/js/init-govuk.js), so the page stays a few screens long.
FOLD_AFTER_RECORDS = 10


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label="I understand this permanently removes this learner's personal data and cannot be undone",
        error_messages={"required": "Confirm that you understand the personal data will be removed for good"},
    )


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _display(value):
    """Return an export value as the page shows it: ISO dates and times as UK dates, local time."""
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        moment = parse_datetime(value) if len(value) > 10 else None
        if moment is not None:
            moment = timezone.localtime(moment) if timezone.is_aware(moment) else moment
            return f"{uk_date(moment.date())} {moment:%H:%M}"
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:
            return uk_date(day)
    return value


def _sections(data: dict) -> list[dict]:
    """Return the export as page sections for ``privacy/subject_access.html``.

    Each section is ``{"key", "title", "count", "single", "shared", "columns", "rows",
    "folded"}``. A one-record section (the learner, the account) has ``single``, a list of
    (label, value) pairs shown as a summary list. A list section has ``shared``, (label, value)
    pairs for the fields with one value in every record (said once above the table),
    ``columns``, the labels of the other fields in the order they first appear, and ``rows``,
    one list of values per record aligned with ``columns``, shown as one table, ``folded`` into
    a details element when longer than ``FOLD_AFTER_RECORDS``: a learner with hundreds of
    records reads as a few screens, not hundreds of cards. Dates and times are shown as UK
    dates; the JSON download keeps ISO 8601.
    """
    sections = []
    for key, title in SECTIONS:
        value = data.get(key)
        section = {"key": key, "title": title, "single": None, "shared": [], "columns": [], "rows": []}
        if isinstance(value, list):
            names: list[str] = []
            for row in value:
                names.extend(name for name in row if name not in names)
            # A field with one value in every record (the enrolment, who recorded it) is said
            # once above the table rather than repeated down a column.
            shared = [name for name in names if len(value) > 1 and len({str(row.get(name)) for row in value}) == 1]
            names = [name for name in names if name not in shared]
            section["shared"] = [(_label(name), _display(value[0].get(name))) for name in shared]
            section["columns"] = [_label(name) for name in names]
            section["rows"] = [[_display(row.get(name)) for name in names] for row in value]
            section["count"] = len(value)
            section["folded"] = len(value) > FOLD_AFTER_RECORDS
        else:
            section["single"] = [(_label(name), _display(item)) for name, item in value.items()] if value else None
            section["count"] = 1 if value else 0
        sections.append(section)
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
        {"learner": learner, "generated_at": _display(data["generated_at"]), "sections": _sections(data)},
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
