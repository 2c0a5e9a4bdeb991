"""Import pages: upload, progress and preview, confirm, result, and the template download.

Views parse input, ask the permission layer (``academy.import_data``: leads only) and
call ``cohorts.imports.pipeline``; the checking and importing run as Celery tasks
(``cohorts.tasks``), so a 10,000-row file never holds up a request when a worker runs.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from academy.decorators import perm_required
from academy.exports import CSV_CONTENT_TYPE, TEXT, Column, Table, write_csv
from academy.models import Team

from .imports import pipeline, plans, runs
from .imports.reading import ImportFileError
from .imports.spreadsheet import template_rows
from .models import ImportRun

PERM = "academy.import_data"
ROWS_PER_PAGE = 100
ERRORS_SHOWN = 500
RUNNING = (ImportRun.Status.UPLOADED, ImportRun.Status.PREVIEWING, ImportRun.Status.IMPORTING)


class UploadForm(forms.Form):
    """The upload: one file, and the team for learners an ILR file adds."""

    file = forms.FileField(
        label="Upload a file",
        help_text="A staff list as CSV or Excel (.xlsx), or an ILR XML file. The largest file you can import is "
        "10 MB.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        label="Team for new learners, for ILR files only",
        help_text="ILR files do not say which team a learner works in. Learners already in Academy keep their team.",
        empty_label="No team: only update learners already in Academy",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_mb = runs.max_upload_bytes() / 1024 / 1024
        self.fields["file"].help_text = (
            "A staff list as CSV or Excel (.xlsx), or an ILR XML file. "
            f"The largest file you can import is {limit_mb:.0f} MB."
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        message = runs.size_message(upload.size)
        if message:
            raise forms.ValidationError(message)
        return upload


@perm_required(PERM)
def upload(request: HttpRequest) -> HttpResponse:
    """Show the upload form and recent imports; on POST store the file and start the check."""
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if form.is_bound and form.is_valid():
        upload_file = form.cleaned_data["file"]
        team = form.cleaned_data["team"]
        try:
            run = runs.start_import(
                content=upload_file.read(), filename=upload_file.name, user=request.user,
                options={"team_id": team.pk} if team else {},
            )
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            return redirect("imports:detail", pk=run.pk)
    recent = ImportRun.objects.defer("content", "preview").select_related("created_by")[:10]
    return render(request, "imports/upload.html", {"form": form, "recent": recent})


@perm_required(PERM)
def template_csv(request: HttpRequest) -> HttpResponse:
    """Return the import template: the headers Academy reads and one example row (UTF-8 with BOM for Excel)."""
    headers, example = template_rows()
    table = Table("template", "Staff import template", [Column(header, kind=TEXT) for header in headers], [example])
    response = HttpResponse(write_csv(table), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="academy-staff-import-template.csv"'
    return response


def _progress(run: ImportRun) -> dict:
    done, total = run.processed_rows, run.total_rows
    if total:
        text = f"{done:,} of {total:,} rows checked"
    else:
        text = "Waiting for the file to be read"
    if run.status == ImportRun.Status.IMPORTING and total and done >= total:
        text = f"{total:,} rows checked: writing them to the database"
    return {"done": done, "total": total or 1, "text": text}


@perm_required(PERM)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one import: progress while it runs, then the preview (with skip and confirm), or the result.

    htmx polls this view every second while the run is checking or importing and gets
    only the progress fragment; once the run has moved on it answers ``HX-Refresh`` so
    the whole page reloads with the preview or result. Without JavaScript the page has
    a refresh link.
    """
    run = get_object_or_404(ImportRun.objects.defer("content"), pk=pk)
    running = run.status in RUNNING
    if request.htmx:
        if not running:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(request, "imports/detail.html#progress", {"run": run, "progress": _progress(run),
                                                                "running": running})
    preview = run.preview or []
    errors = [entry for entry in preview if entry["action"] == plans.ERROR]
    page = Paginator(preview, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    skipped = set(run.skip_rows or [])
    counts = run.counts or {}
    context = {
        "run": run,
        "running": running,
        "progress": _progress(run),
        "counts": counts,
        "summary": pipeline.summary_line(counts) if counts.get("total") is not None else "",
        "errors": errors[:ERRORS_SHOWN],
        "errors_hidden": max(len(errors) - ERRORS_SHOWN, 0),
        "page": page,
        "action_labels": plans.ACTION_LABELS,
        "skipped": skipped,
        "notes": [line for line in run.message.splitlines() if line.strip()],
    }
    return render(request, "imports/detail.html", context)


@perm_required(PERM)
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm a previewed import, skipping the error rows ticked; the import runs as a task."""
    run = get_object_or_404(ImportRun.objects.defer("content"), pk=pk)
    skip = [value for value in request.POST.getlist("skip") if value.isdigit()]
    try:
        runs.confirm_import(run=run, skip_rows=skip, user=request.user)
    except plans.ImportBlocked as error:
        messages.error(request, str(error))
    return redirect("imports:detail", pk=run.pk)


@perm_required(PERM)
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel an import that has not been confirmed; nothing is written."""
    updated = ImportRun.objects.filter(
        pk=pk, status__in=[ImportRun.Status.PREVIEWED, ImportRun.Status.FAILED]
    ).update(status=ImportRun.Status.CANCELLED)
    if updated:
        messages.success(request, "Import cancelled. Nothing was imported.")
    return redirect("imports:upload")
