"""What an import would do, row by row: the plan shared by the staff-spreadsheet and ILR readers and the writer.

``Plan`` holds one ``RowPlan`` per file row (action ``new`` / ``changed`` / ``unchanged`` /
``error`` / ``not_imported``), each with its learner and ``EnrolmentPlan`` items, the
problems found (row, column, reason) and a description of every change.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from cohorts.models import AssessmentResult, Enrolment
from learners.models import Learner

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
