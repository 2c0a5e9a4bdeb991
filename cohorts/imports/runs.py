"""Import runs for the web: upload → check (a Celery task) → preview → confirm → apply (a Celery task) → result.

``ImportRun`` (``cohorts.models``) carries an upload through the steps; the tasks
(``cohorts.tasks``) are queued by name once the run is saved (``academy.changes.queue_task``),
so this module and the tasks do not import each other.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError
from django.utils import timezone

from academy.changes import queue_task
from academy.models import User
from cohorts.models import ImportRun

from .pipeline import apply_plan, build_plan, kind_for
from .plans import DEFAULT_MAX_BYTES, ERROR, ImportBlocked, Plan, Progress
from .reading import ImportFileError

logger = logging.getLogger(__name__)

CHECK_IMPORT_TASK = "cohorts.tasks.check_import"
APPLY_IMPORT_TASK = "cohorts.tasks.apply_import"


# --- Import runs (the web flow) -------------------------------------------------------
def max_upload_bytes() -> int:
    """Return the upload limit in bytes: setting ``ACADEMY_IMPORT_MAX_BYTES`` (default 10 MB)."""
    return int(getattr(settings, "ACADEMY_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def size_message(size: int) -> str | None:
    """Return the refusal for a file of ``size`` bytes over the limit, else ``None``."""
    limit = max_upload_bytes()
    if size <= limit:
        return None
    return (f"The file is {size / 1024 / 1024:.1f} MB: the largest file you can import is "
            f"{limit / 1024 / 1024:.0f} MB. Split it into smaller files.")


def start_import(*, content: bytes, filename: str, user, options: dict | None = None) -> ImportRun:
    """Store an upload as an ``ImportRun`` and queue its check after the commit.

    Raises ``ImportFileError`` (nothing stored) when the file is too big or is not a
    CSV, Excel workbook or ILR XML file. ``options`` as for ``build_plan``; kept in
    ``counts["options"]`` so the worker sees them.
    """
    message = size_message(len(content))
    if message:
        raise ImportFileError(message)
    kind = kind_for(content)
    run = ImportRun.objects.create(
        kind=kind, filename=filename[:255], content=content, size_bytes=len(content), created_by=user,
        counts={"options": options or {}},
    )
    queue_task(CHECK_IMPORT_TASK, run.pk)
    return run


def _progress_for(run_id: int) -> Progress:
    def report(done: int, total: int) -> None:
        ImportRun.objects.filter(pk=run_id).update(processed_rows=min(done, total), total_rows=total,
                                                   updated_at=timezone.now())

    return report


def run_check(run_id: int) -> ImportRun:
    """Build the preview of ``ImportRun`` ``run_id``: status previewing → previewed (or failed).

    Progress goes to ``processed_rows`` / ``total_rows`` after each batch. A file that
    cannot be read ends ``failed`` with the reason in ``message``.
    """
    run = ImportRun.objects.get(pk=run_id)
    ImportRun.objects.filter(pk=run_id).update(status=ImportRun.Status.PREVIEWING, processed_rows=0)
    options = (run.counts or {}).get("options", {})
    try:
        plan = build_plan(content=bytes(run.content), options=options, progress=_progress_for(run_id))
    except ImportFileError as error:
        run.status, run.message, run.finished_at = ImportRun.Status.FAILED, str(error), timezone.now()
        run.save(update_fields=["status", "message", "finished_at", "updated_at"])
        return run
    _store_plan(run, plan, status=ImportRun.Status.PREVIEWED)
    return run


def _store_plan(run: ImportRun, plan: Plan, *, status: str, message: str = "") -> None:
    counts = plan.counts(run.skip_rows)
    counts["options"] = (run.counts or {}).get("options", {})
    run.preview = [row.to_preview() for row in plan.rows]
    run.counts = counts
    run.total_rows = run.processed_rows = len(plan.rows)
    run.status = status
    run.message = "\n".join([message, *plan.notes]).strip()
    run.save(update_fields=["preview", "counts", "total_rows", "processed_rows", "status", "message", "updated_at"])


def error_rows(run: ImportRun) -> list[int]:
    """Return the row numbers of the run's preview that have errors."""
    return [entry["row"] for entry in run.preview if entry["action"] == ERROR]


def confirm_import(*, run: ImportRun, skip_rows, user) -> ImportRun:
    """Confirm a previewed run: keep ``skip_rows`` and queue the import after the commit.

    Raises ``ImportBlocked`` when an error row is not in ``skip_rows``, or when the run
    is not waiting for confirmation (already imported, still checking).
    """
    if run.status != ImportRun.Status.PREVIEWED:
        raise ImportBlocked(f"This import is {run.get_status_display().lower()}, so it cannot be confirmed.")
    skip = sorted({int(number) for number in skip_rows} & set(error_rows(run)))
    blocking = [number for number in error_rows(run) if number not in skip]
    if blocking:
        shown = ", ".join(str(n) for n in blocking[:20])
        if len(blocking) == 1:
            what = f"Row {shown} has an error: fix the file and upload it again, or tick “Skip this row” for it."
        else:
            more = " and more" if len(blocking) > 20 else ""
            what = (f"Rows {shown}{more} have errors: fix the file and upload it again, or tick “Skip this row” "
                    "for each of them.")
        raise ImportBlocked(what)
    updated = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.PREVIEWED).update(
        status=ImportRun.Status.IMPORTING, skip_rows=skip, processed_rows=0, updated_at=timezone.now()
    )
    if not updated:  # a second click, or another tab, got there first
        raise ImportBlocked("This import has already been confirmed.")
    run.refresh_from_db()
    queue_task(APPLY_IMPORT_TASK, run.pk, user.pk if user else None)
    return run


def run_apply(run_id: int, user_id: int | None = None) -> ImportRun:
    """Import a confirmed run: check the file again (with progress), then write it in one transaction.

    The check is repeated because the database may have changed since the preview; if
    a row now has an error that was not skipped, nothing is written, the run goes back
    to previewed with the new preview and a message. A database error while writing
    rolls everything back and marks the run failed. Ends ``done`` with the counts.
    """
    run = ImportRun.objects.get(pk=run_id)
    if run.status != ImportRun.Status.IMPORTING:
        return run
    user = User.objects.filter(pk=user_id).first() if user_id else run.created_by
    options = (run.counts or {}).get("options", {})
    try:
        plan = build_plan(content=bytes(run.content), options=options, progress=_progress_for(run_id))
    except ImportFileError as error:  # pragma: no cover - the same file was read at preview
        _finish(run, ImportRun.Status.FAILED, str(error))
        return run
    try:
        counts = apply_plan(plan=plan, skip_rows=run.skip_rows, user=user, filename=run.filename, run=run)
    except ImportBlocked:
        _store_plan(run, plan, status=ImportRun.Status.PREVIEWED,
                    message="Something changed since the rows were checked, so nothing was imported. "
                            "Review the rows below and confirm again.")
        return run
    except (IntegrityError, DatabaseError, ValidationError) as error:
        logger.exception("Import run %s failed", run_id)
        _finish(run, ImportRun.Status.FAILED,
                f"Nothing was imported: the database refused a row ({error}). Check the file and upload it again.")
        return run
    counts["options"] = options
    run.counts = counts
    run.preview = [row.to_preview() for row in plan.rows]
    _finish(run, ImportRun.Status.DONE, "")
    return run


#: A run that has not moved for this long while uploaded, being checked or importing has
#: lost its worker (or its queued task): ``fail_stalled_runs`` ends it. Checking and
#: importing note their progress at least every ``BATCH_SIZE`` rows, far more often.
STALLED_AFTER = dt.timedelta(minutes=30)
STALLED_MESSAGES = {
    ImportRun.Status.UPLOADED: "The file was never checked: the job that checks it was lost. Upload the file again.",
    ImportRun.Status.PREVIEWING: "Checking the rows stopped before the end: the job doing it was lost. "
                                 "Upload the file again.",
    ImportRun.Status.IMPORTING: "The import stopped before the end: the job doing it was lost. Nothing was "
                                "imported (an import is written in one transaction). Upload the file again.",
}


def fail_stalled_runs(*, now: dt.datetime | None = None) -> int:
    """Mark runs stuck uploaded, checking or importing for ``STALLED_AFTER`` as failed; return how many.

    Each status gets its own message (``STALLED_MESSAGES``). One conditional ``UPDATE``
    per status, so a run that moves on meanwhile is left alone. An import task delivered
    later finds the run failed and writes nothing (``run_apply`` acts only on importing
    runs); a late check still stores its preview, which the user may then confirm. Run
    every 10 minutes by Celery beat (``cohorts.tasks.fail_stalled_imports``).
    """
    now = now or timezone.now()
    ended = 0
    for status, message in STALLED_MESSAGES.items():
        ended += ImportRun.objects.filter(status=status, updated_at__lt=now - STALLED_AFTER).update(
            status=ImportRun.Status.FAILED, message=message, finished_at=now, updated_at=now,
        )
    if ended:
        logger.warning("Ended %s stalled import run(s)", ended)
    return ended


def _finish(run: ImportRun, status: str, message: str) -> None:
    run.status, run.message, run.finished_at = status, message, timezone.now()
    run.processed_rows = run.total_rows
    run.save(update_fields=["status", "message", "finished_at", "counts", "preview", "processed_rows", "updated_at"])
