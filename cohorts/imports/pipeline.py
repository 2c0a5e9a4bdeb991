"""Preview and apply an import: shared by the web pages, the Celery tasks and the command.

An import runs in two steps:

1. **check** (``build_plan``): read the file and decide, row by row, what would happen:
   ``new`` / ``changed`` / ``unchanged`` / ``error`` (ILR files also have
   ``not_imported`` for learning that Academy does not hold, e.g. frameworks). Every
   row is validated with the models' own validation (``full_clean``); uniqueness of
   employee number, work email, ULN and learner+cohort is checked in memory against
   the whole database and the whole file, so a 10,000-row file needs a handful of
   queries per batch instead of several per row. Nothing is written.
2. **apply** (``apply_plan``): write the rows of a plan in ONE transaction, with bulk
   inserts and updates (history is kept with django-simple-history's bulk helpers).
   A plan with an error row that is not skipped writes nothing. The database
   constraints are the last guard: if anything changed between the check and the
   write, the transaction rolls back and nothing is written.

``ImportRun`` (``cohorts.models``) carries an upload through these steps for the web:
``start_import`` → task ``check_import`` (``run_check``) → ``confirm_import`` → task
``apply_import`` (``run_apply``). The command ``import_enrolments`` calls
``build_plan`` and ``apply_plan`` directly.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from academy.changes import metrics_paused, queue_recompute
from academy.audit import record
from academy.models import AuditEvent
from cohorts.models import AssessmentResult, Enrolment, EnrolmentStatusChange, ImportRun
from learners.models import Learner

from .reading import CSV, XLSX, XML, ImportFileError, sniff

logger = logging.getLogger(__name__)

NEW, CHANGED, UNCHANGED, ERROR, NOT_IMPORTED, SKIPPED = (
    "new", "changed", "unchanged", "error", "not_imported", "skipped"
)
ACTION_LABELS = {
    NEW: "New",
    CHANGED: "Changed",
    UNCHANGED: "Unchanged",
    ERROR: "Error",
    NOT_IMPORTED: "Not imported",
    SKIPPED: "Skipped",
}
BATCH_SIZE = 500
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

Progress = Callable[[int, int], None]


class ImportBlocked(Exception):
    """The plan has error rows the user has not skipped; ``str(error)`` says which."""


# --- Plans ---------------------------------------------------------------------------
@dataclass
class Problem:
    """Why a row cannot be imported: ``where`` names the column (or ILR element), ``message`` why."""

    where: str
    message: str


@dataclass
class EnrolmentPlan:
    """What happens to one enrolment of a row.

    ``enrolment`` is the instance to insert (no pk) or update; ``status_change`` is
    ``(from_status, to_status, effective_date)`` to record in the status history;
    ``result`` an ``AssessmentResult`` to insert or update (``result_action``).
    """

    enrolment: Enrolment
    action: str
    changes: list[str] = field(default_factory=list)
    status_change: tuple | None = None
    result: AssessmentResult | None = None
    result_action: str = UNCHANGED


@dataclass
class RowPlan:
    """What happens to one row of the file (a spreadsheet row or an ILR ``<Learner>``).

    ``row`` is the number the user sees (spreadsheet row with the header as row 1; the
    position of the ``<Learner>`` in an ILR file); ``label`` says it in words
    ("Row 8", "Learner 2 (LearnRefNumber 1ULN03)"); ``key`` is the employee number or
    LearnRefNumber. ``learner`` is the instance to insert or update.
    """

    row: int
    label: str
    key: str = ""
    name: str = ""
    learner: Learner | None = None
    learner_action: str = UNCHANGED
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    enrolments: list[EnrolmentPlan] = field(default_factory=list)
    not_imported: bool = False

    def error(self, where: str, message: str) -> None:
        """Record a problem unless the same column already has one (the first reason is the useful one)."""
        if not any(problem.where == where for problem in self.errors):
            self.errors.append(Problem(where, message))

    @property
    def action(self) -> str:
        if self.errors:
            return ERROR
        if self.not_imported:
            return NOT_IMPORTED
        # A new learner or enrolment makes the row new; anything else that differs
        # (a field, a status, an EPA result added or corrected) makes it changed.
        if NEW in {self.learner_action} | {e.action for e in self.enrolments}:
            return NEW
        if CHANGED in {self.learner_action} | {e.action for e in self.enrolments} or any(
            e.result_action in (NEW, CHANGED) for e in self.enrolments
        ):
            return CHANGED
        return UNCHANGED

    def error_lines(self) -> list[str]:
        """Return each problem as a sentence: "Row 7, column ULN: This ULN fails the check digit…"."""
        return [f"{self.label}, {problem.where}: {problem.message}" for problem in self.errors]

    def to_preview(self) -> dict:
        """Return the JSON-safe preview entry stored in ``ImportRun.preview``."""
        details = list(self.changes)
        for plan in self.enrolments:
            details.extend(plan.changes)
        return {
            "row": self.row,
            "label": self.label,
            "action": self.action,
            "key": self.key,
            "name": self.name,
            "details": details + self.notes,
            "errors": [{"where": p.where, "message": p.message} for p in self.errors],
            "error_lines": self.error_lines(),
        }


@dataclass
class Plan:
    """The whole file checked: ``rows`` in file order, ``new_cohorts`` (ILR) to create first.

    ``notes`` are file-level remarks (columns not used, header namespace).
    """

    kind: str
    rows: list[RowPlan] = field(default_factory=list)
    new_cohorts: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def counts(self, skip_rows=()) -> dict:
        """Return ``{"new", "changed", "unchanged", "error", "not_imported", "skipped", "total"}`` row counts."""
        skip = set(skip_rows)
        counts = {key: 0 for key in (NEW, CHANGED, UNCHANGED, ERROR, NOT_IMPORTED, SKIPPED)}
        for row in self.rows:
            counts[SKIPPED if row.row in skip else row.action] += 1
        counts["total"] = len(self.rows)
        return counts

    def blocking_rows(self, skip_rows=()) -> list[RowPlan]:
        """Return the error rows not in ``skip_rows``: while there are any, nothing is written."""
        skip = set(skip_rows)
        return [row for row in self.rows if row.action == ERROR and row.row not in skip]


def validation_problems(instance, *, labels: dict[str, str], exclude=()) -> list[tuple[str, str]]:
    """Run the model's ``full_clean`` and return ``(column label, message)`` for each error.

    Field validators and ``clean()`` run; uniqueness and database constraints are
    left to the caller's in-memory checks and to the database at write time
    (``validate_unique=False, validate_constraints=False``), and foreign keys the
    caller has just looked up are in ``exclude`` (each would cost a query per row).
    ``labels`` maps field names to the column names the user knows.
    """
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        problems = []
        for name, messages in error.message_dict.items():
            where = "the row" if name == NON_FIELD_ERRORS else labels.get(name, name.replace("_", " "))
            problems.extend((where, message) for message in messages)
        return problems
    return []


def describe_change(label: str, old, new) -> str:
    """Return "ULN: (blank) → 9900000705" for the preview."""

    def show(value):
        if value in (None, ""):
            return "(blank)"
        if hasattr(value, "strftime"):
            return value.strftime("%d/%m/%Y")
        return str(value)

    return f"{label}: {show(old)} → {show(new)}"


# --- Building a plan ------------------------------------------------------------------
def kind_for(content: bytes) -> str:
    """Return the ``ImportRun.Kind`` for ``content`` (XML → ILR, CSV/XLSX → spreadsheet); raise ``ImportFileError``."""
    return ImportRun.Kind.ILR if sniff(content) == XML else ImportRun.Kind.SPREADSHEET


def build_plan(*, content: bytes, options: dict | None = None, progress: Progress | None = None) -> Plan:
    """Check a whole file and return its ``Plan``; write nothing.

    ``options``: ``{"team_id": int}`` — the team for learners an ILR file adds
    (ILR files carry no team). ``progress(done, total)`` is called after each batch of
    ``BATCH_SIZE`` rows. Raises ``ImportFileError`` when the file as a whole cannot be
    read (not a spreadsheet, no header, a required column missing).
    """
    from . import ilr, spreadsheet

    options = options or {}
    file_type = sniff(content)
    if file_type == XML:
        return ilr.build_plan(content, options=options, progress=progress)
    if file_type in (CSV, XLSX):
        return spreadsheet.build_plan(content, file_type, options=options, progress=progress)
    raise ImportFileError("This file is not a CSV or Excel spreadsheet.")  # pragma: no cover


def apply_plan(*, plan: Plan, skip_rows=(), user=None, filename: str = "", run: ImportRun | None = None) -> dict:
    """Write ``plan`` (less ``skip_rows``) in ONE transaction and return its counts.

    Raises ``ImportBlocked`` (writing nothing) when an error row is not skipped.
    Inserts and updates go in batches of ``BATCH_SIZE`` with their history rows; each
    status set by the import is recorded as an ``EnrolmentStatusChange`` by ``user``.
    Metrics signals are paused and one recompute is queued after the commit. An
    ``AuditEvent`` (action ``import``) records the counts. Database errors (e.g. a
    unique email taken by someone else since the check) roll everything back and
    propagate.
    """
    blocking = plan.blocking_rows(skip_rows)
    if blocking:
        numbers = ", ".join(str(row.row) for row in blocking[:20])
        more = "" if len(blocking) <= 20 else f" and {len(blocking) - 20} more"
        raise ImportBlocked(
            f"{len(blocking)} row{'s have' if len(blocking) != 1 else ' has'} errors (rows {numbers}{more}): "
            "fix the file and upload it again, or skip those rows."
        )
    skip = set(skip_rows)
    rows = [row for row in plan.rows if row.row not in skip and row.action in (NEW, CHANGED)]
    counts = plan.counts(skip_rows)
    reason = f"Imported from {filename}" if filename else "Imported"
    now = timezone.now()
    today = timezone.localdate()
    with metrics_paused(), transaction.atomic():
        used_cohorts = {id(e.enrolment.cohort) for row in rows for e in row.enrolments}
        for cohort in plan.new_cohorts.values():
            if id(cohort) in used_cohorts and cohort.pk is None:
                cohort.full_clean(validate_unique=False, validate_constraints=False)
                cohort.save()

        new_learners = [row.learner for row in rows if row.learner_action == NEW]
        changed_learners = [row.learner for row in rows if row.learner_action == CHANGED]
        _create_with_history(new_learners, Learner, user=user, reason=reason)
        _bulk_update(changed_learners, Learner, now=now, user=user, reason=reason)

        enrolment_plans = [e for row in rows for e in row.enrolments]
        for item in enrolment_plans:
            # Re-assign to pick up the primary keys given by the inserts above.
            item.enrolment.learner = item.enrolment.learner
            item.enrolment.cohort = item.enrolment.cohort
        _create_with_history([e.enrolment for e in enrolment_plans if e.action == NEW], Enrolment,
                             user=user, reason=reason)
        _bulk_update([e.enrolment for e in enrolment_plans if e.action == CHANGED], Enrolment,
                     now=now, user=user, reason=reason)

        changes = [
            EnrolmentStatusChange(
                enrolment=e.enrolment, from_status=e.status_change[0], to_status=e.status_change[1],
                effective_date=e.status_change[2] or today, reason=reason, changed_by=user,
            )
            for e in enrolment_plans if e.status_change
        ]
        _create(EnrolmentStatusChange, changes)

        results = [e for e in enrolment_plans if e.result is not None and e.result_action in (NEW, CHANGED)]
        for item in results:
            item.result.enrolment = item.enrolment
        _create_with_history([e.result for e in results if e.result_action == NEW], AssessmentResult,
                             user=user, reason=reason)
        changed_results = [e.result for e in results if e.result_action == CHANGED]
        if changed_results:
            bulk_update_with_history(changed_results, AssessmentResult, ["grade", "date"], batch_size=BATCH_SIZE,
                                     default_user=user, default_change_reason=reason)

        record(
            user=user,
            action=AuditEvent.Action.IMPORT,
            obj=run,
            detail={"file": filename, "kind": plan.kind, "counts": counts,
                    "cohorts_created": sum(1 for c in plan.new_cohorts.values() if c.pk)},
        )
        queue_recompute()
    return counts


# From this many new rows of one table, PostgreSQL inserts them with COPY (``_copy_create``).
COPY_MIN_ROWS = 1000


def _next_keys(cursor, model, count: int) -> list[int]:
    """Return ``count`` new primary keys from ``model``'s identity sequence (one query)."""
    meta = model._meta
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [meta.db_table, meta.pk.column, count],
    )
    return [key for (key,) in cursor.fetchall()]


def _copy_rows(cursor, model, rows) -> None:
    """``COPY`` ``rows`` (lists of values in ``model._meta.concrete_fields`` order) into ``model``'s table."""
    from django.db import connection

    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model._meta.concrete_fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    if connection.queries_logged:  # so query counts see it, as Django's cursor would log it
        connection.queries_log.append({"sql": statement, "time": "0"})


def _copy_create(model, objs: list) -> None:
    """Insert new ``objs`` of ``model`` with ``COPY … FROM STDIN`` (PostgreSQL), giving each its primary key.

    The keys are drawn from the table's identity sequence first (one ``nextval`` query for
    all of them), so the rows can be referenced right away, as after ``bulk_create``. Each
    column's value is what Django would write: ``pre_save`` for ``auto_now``/``auto_now_add``
    fields, ``get_db_prep_save`` for JSON fields; the rest are the attributes as they are,
    adapted by psycopg. No model signal is sent (as with ``bulk_create``). Two statements
    whatever the number of rows, against an ``INSERT`` with every value quoted in Python
    per 500 rows.
    """
    from django.db import connection

    fields = model._meta.concrete_fields
    pk = model._meta.pk
    special = {f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    prepared = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    with connection.cursor() as cursor:
        for obj, key in zip(objs, _next_keys(cursor, model, len(objs))):
            setattr(obj, pk.attname, key)
        _copy_rows(cursor, model, (
            [
                f.pre_save(obj, True) if f.attname in special
                else f.get_db_prep_save(getattr(obj, f.attname), connection) if f.attname in prepared
                else getattr(obj, f.attname)
                for f in fields
            ]
            for obj in objs
        ))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = "default"


def _copy_history(model, objs: list, *, user, reason: str) -> bool:
    """Write one "+" history row per saved ``obj`` with ``COPY``, as simple-history's ``bulk_history_create`` would.

    Every tracked field is copied from the object; ``history_date`` is now,
    ``history_user`` ``user``, ``history_change_reason`` ``reason``. Returns False (writing
    nothing) when this shortcut does not apply: no ``user`` (simple-history would then ask
    the request), an object carrying its own ``_history_user``/``_change_reason``, or a
    history table with columns other than the tracked fields and simple-history's own.
    """
    from django.db import connection

    if user is None or any(hasattr(o, "_history_user") or hasattr(o, "_change_reason") for o in objs):
        return False
    history = model.history.model
    tracked = {field.attname for field in history.tracked_fields}
    fixed = {"history_date": timezone.now(), "history_change_reason": reason, "history_type": "+",
             "history_user_id": user.pk}
    fields = history._meta.concrete_fields
    pk = history._meta.pk.attname
    if any(f.attname != pk and f.attname not in fixed and f.attname not in tracked for f in fields):
        return False
    if any(f.get_internal_type() == "JSONField" for f in fields):
        return False
    with connection.cursor() as cursor:
        keys = _next_keys(cursor, history, len(objs))
        _copy_rows(cursor, history, (
            [key if f.attname == pk else fixed[f.attname] if f.attname in fixed else getattr(obj, f.attname)
             for f in fields]
            for obj, key in zip(objs, keys)
        ))
    return True


def _use_copy(objs: list) -> bool:
    from django.db import connection

    return connection.vendor == "postgresql" and len(objs) >= COPY_MIN_ROWS


def _create(model, objs: list) -> None:
    """Insert new ``objs``: ``COPY`` at scale on PostgreSQL (``_copy_create``), else ``bulk_create`` in batches."""
    if _use_copy(objs):
        _copy_create(model, objs)
    else:
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)


def _create_with_history(objs: list, model, *, user, reason: str) -> None:
    """Insert new ``objs`` and one "+" history row each, by ``user`` with the change reason ``reason``.

    The history rows are those of simple-history's ``bulk_create_with_history`` (every
    tracked field, ``history_type`` "+", the same user, reason and time); at scale on
    PostgreSQL both tables are written with ``COPY`` (``_copy_create``, ``_copy_history``).
    """
    if not _use_copy(objs):
        bulk_create_with_history(objs, model, batch_size=BATCH_SIZE, default_user=user, default_change_reason=reason)
        return
    _copy_create(model, objs)
    if not _copy_history(model, objs, user=user, reason=reason):
        model.history.bulk_history_create(objs, batch_size=BATCH_SIZE, default_user=user,
                                          default_change_reason=reason)


def _bulk_update(objs: list, model, *, now, user, reason) -> None:
    """Update ``objs`` in batches: the fields that differ (``_import_fields``), ``version`` + 1 and ``updated_at``."""
    if not objs:
        return
    fields = set()
    for obj in objs:
        fields |= getattr(obj, "_import_fields", set())
        obj.version += 1
        obj.updated_at = now
    bulk_update_with_history(objs, model, sorted(fields | {"version", "updated_at"}), batch_size=BATCH_SIZE,
                             default_user=user, default_change_reason=reason)


def summary_line(counts: dict) -> str:
    """Return "12 new, 3 changed, 40 unchanged, 2 skipped" (zero counts after the first three left out)."""
    parts = [f"{counts.get(NEW, 0):,} new", f"{counts.get(CHANGED, 0):,} changed",
             f"{counts.get(UNCHANGED, 0):,} unchanged"]
    for key, words in ((SKIPPED, "skipped"), (NOT_IMPORTED, "not imported"), (ERROR, "with errors")):
        if counts.get(key):
            parts.append(f"{counts[key]:,} {words}")
    return ", ".join(parts)


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
    from cohorts.tasks import check_import

    message = size_message(len(content))
    if message:
        raise ImportFileError(message)
    kind = kind_for(content)
    run = ImportRun.objects.create(
        kind=kind, filename=filename[:255], content=content, size_bytes=len(content), created_by=user,
        counts={"options": options or {}},
    )
    check_import.delay_on_commit(run.pk)
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
    from cohorts.tasks import apply_import

    if run.status != ImportRun.Status.PREVIEWED:
        raise ImportBlocked(f"This import is {run.get_status_display().lower()}, so it cannot be confirmed.")
    skip = sorted({int(number) for number in skip_rows} & set(error_rows(run)))
    blocking = [number for number in error_rows(run) if number not in skip]
    if blocking:
        shown = ", ".join(str(n) for n in blocking[:20])
        raise ImportBlocked(
            f"Rows {shown}{' and more' if len(blocking) > 20 else ''} have errors: fix the file and upload it "
            "again, or tick “Skip this row” for each of them."
        )
    updated = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.PREVIEWED).update(
        status=ImportRun.Status.IMPORTING, skip_rows=skip, processed_rows=0, updated_at=timezone.now()
    )
    if not updated:  # a second click, or another tab, got there first
        raise ImportBlocked("This import has already been confirmed.")
    run.refresh_from_db()
    apply_import.delay_on_commit(run.pk, user.pk if user else None)
    return run


def run_apply(run_id: int, user_id: int | None = None) -> ImportRun:
    """Import a confirmed run: check the file again (with progress), then write it in one transaction.

    The check is repeated because the database may have changed since the preview; if
    a row now has an error that was not skipped, nothing is written, the run goes back
    to previewed with the new preview and a message. A database error while writing
    rolls everything back and marks the run failed. Ends ``done`` with the counts.
    """
    from academy.models import User

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
