"""Change history for the record pages: who changed which field from what to what (django-simple-history).

``change_history(records)`` turns a model's historical records into display entries;
``HISTORY_EXCLUDED`` names the bookkeeping fields never shown.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

# Fields never shown in a change history: bookkeeping, not facts about the record.
HISTORY_EXCLUDED = ("version",)


@dataclass
class FieldChange:
    """One field's change: its label and the old and new values as display text."""

    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    """One saved version of a record: when (aware datetime), who (user or ``None``), what changed.

    ``action`` is "Created", "Changed" or "Deleted"; ``subject`` names the record
    (e.g. "Enrolment" or "EPA result, attempt 2"); ``changes`` is empty for a creation
    or a save that changed no shown field.
    """

    when: dt.datetime
    who: object
    action: str
    subject: str
    changes: list[FieldChange] = field(default_factory=list)
    reason: str = ""
    note: str = ""


_ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}


def _display(model_field, value, related: dict) -> str:
    if value is None or value == "":
        return "(blank)"
    if model_field.is_relation:
        return str(related.get((model_field.related_model, value), f"#{value}"))
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, dt.datetime):
        return value.strftime("%-d %B %Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%-d %B %Y")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def change_history(records: Iterable, *, subject=None) -> list[HistoryEntry]:
    """Return what changed, newest first, from django-simple-history records.

    ``records`` are historical rows of one model or several (e.g. an enrolment's and its
    results'), each object's full history (fetch with ``select_related("history_user")``).
    Consecutive versions of the same object are compared with ``diff_against``;
    ``version`` is left out. Related ids in changes (a team, a coach) are turned into
    names with one query per related model. ``subject(record)`` may name each record
    (default: the model's verbose name).
    """
    by_object: dict[tuple, list] = {}
    for record in records:
        by_object.setdefault((type(record), record.id), []).append(record)

    pending = []  # (record, delta or None)
    wanted: dict = {}
    for rows in by_object.values():
        rows.sort(key=lambda r: (r.history_date, r.history_id))
        previous = None
        for record in rows:
            delta = None
            if previous is not None and record.history_type == "~":
                delta = record.diff_against(previous, excluded_fields=HISTORY_EXCLUDED)
                model = record.instance_type
                for change in delta.changes:
                    model_field = model._meta.get_field(change.field)
                    if model_field.is_relation:
                        wanted.setdefault(model_field.related_model, set()).update(
                            v for v in (change.old, change.new) if v is not None
                        )
            pending.append((record, delta))
            previous = record

    related = {}
    for model, ids in wanted.items():
        for obj in model._default_manager.filter(pk__in=ids):
            related[(model, obj.pk)] = obj

    entries = []
    for record, delta in pending:
        model = record.instance_type
        changes = []
        if delta is not None:
            for change in delta.changes:
                model_field = model._meta.get_field(change.field)
                changes.append(
                    FieldChange(
                        label=str(model_field.verbose_name).capitalize(),
                        old=_display(model_field, change.old, related),
                        new=_display(model_field, change.new, related),
                    )
                )
            if not changes:
                continue  # a save that changed only bookkeeping fields
        note = ""
        if delta is None and record.history_type == "~":
            # Rows loaded in bulk (the demo, imports) have no history before this save.
            note = "No earlier version was recorded, so what changed cannot be shown."
        entries.append(
            HistoryEntry(
                note=note,
                when=record.history_date,
                who=record.history_user,
                action=_ACTIONS.get(record.history_type, record.history_type),
                subject=subject(record) if subject else str(model._meta.verbose_name).capitalize(),
                changes=changes,
                reason=record.history_change_reason or "",
            )
        )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries
