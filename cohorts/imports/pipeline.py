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

import logging

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from academy.audit import record
from academy.changes import queue_recompute
from academy.models import AuditEvent
from academy.pg_copy import copy_in
from cohorts.models import AssessmentResult, Enrolment, EnrolmentStatusChange, ImportRun
from learners.models import Learner

from . import ilr, spreadsheet
from .plans import BATCH_SIZE, CHANGED, ERROR, NEW, NOT_IMPORTED, SKIPPED, UNCHANGED, ImportBlocked, Plan, Progress
from .reading import CSV, XLSX, XML, ImportFileError, sniff

logger = logging.getLogger(__name__)


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
    One recompute of every cohort is queued after the commit (nothing per row). An
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
    with transaction.atomic():
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
    copy_in(connection, cursor, table=model._meta.db_table, columns=[f.column for f in model._meta.concrete_fields],
            rows=rows)


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
