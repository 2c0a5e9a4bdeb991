"""Staff and enrolments from a CSV or Excel spreadsheet exported by an HR system.

Columns are found by header name, ignoring case, spaces and punctuation, with the
aliases HR systems use (``COLUMNS``); extra columns are ignored and listed in the
preview, and order does not matter. One row is one member of staff, matched to an
existing learner by employee number, so importing the same file twice changes
nothing the second time.

Decisions:

- **Employee numbers** are text. Excel drops leading zeros when a column is
  numeric (004213 → 4213), and the lost zeros cannot be recovered from the file, so
  a number that matches no learner exactly is matched ignoring leading zeros; the
  preview says so ("matched existing employee number 004213"). A new learner keeps
  the number as written. Two rows whose numbers are equal ignoring leading zeros are
  duplicates: the second is an error naming the first.
- A learner added by an ILR file has a provisional employee number ``ILR-…``; a
  spreadsheet row with the same ULN adopts that learner and gives it the real number.
- **Teams, cohorts, standards and coaches must already exist**: an unknown value is
  an error naming it and saying where to add it; nothing is created from a typo.
- A **blank optional cell** (ULN, line manager) leaves the stored value alone.
- **Enrolment columns** are optional. When a row fills any of them it needs a cohort
  (by name, or by standard reference + cohort start date), a planned end date and
  planned off-the-job hours; the start date defaults to the cohort's start date.
  An existing enrolment (same learner and cohort) is updated.
"""
from __future__ import annotations

from dataclasses import dataclass

from academy.dates import uk_short_date
from academy.models import Team, User
from cohorts.models import Cohort, Enrolment, Standard
from learners.models import Learner

from .plans import (
    BATCH_SIZE,
    CHANGED,
    NEW,
    UNCHANGED,
    EnrolmentPlan,
    Plan,
    RowPlan,
    describe_change,
    validation_problems,
)
from .reading import ImportFileError, Table, cell_text, normalise_header, parse_date, parse_decimal, read_table

PROVISIONAL_PREFIX = "ILR-"


@dataclass(frozen=True)
class Column:
    """One column Academy reads: ``key`` (model field or enrolment key), ``label`` (template header), ``aliases``."""

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""


COLUMNS = (
    Column("employee_number", "Employee number",
           ("employee no", "employee num", "employee id", "emp no", "staff number", "staff no", "staff id",
            "payroll number", "payroll no", "person number"), True, "004213"),
    Column("first_name", "First name", ("forename", "forenames", "given name", "given names", "first names"),
           True, "Priya"),
    Column("last_name", "Last name", ("surname", "family name", "last names"), True, "Sharma"),
    Column("work_email", "Work email", ("email", "email address", "work email address", "e mail"), True,
           "priya.sharma@council.example.org"),
    Column("uln", "ULN", ("unique learner number", "uln number"), False, "9900000705"),
    Column("team", "Team", ("team name",), True, "Revenues and Benefits"),
    Column("line_manager_name", "Line manager name", ("line manager", "manager", "manager name"), False,
           "Sam Jones"),
    Column("line_manager_email", "Line manager email", ("manager email", "line manager email address"), False,
           "sam.jones@council.example.org"),
    Column("cohort", "Cohort", ("cohort name",), False, ""),
    Column("standard", "Standard reference", ("standard", "standard ref", "standard code"), False, "ST0118"),
    # The example row imports as it is into the demo academy (its ST0118 cohort of 22 January
    # 2024 and its coach), so a newcomer's first try of the template works.
    Column("cohort_start_date", "Cohort start date", ("cohort start",), False, "22/01/2024"),
    Column("coach_email", "Coach email", ("coach", "coach email address"), False, "coach@example.org"),
    Column("start_date", "Start date", ("enrolment start date", "learning start date", "apprenticeship start date"),
           False, "22/01/2024"),
    Column("planned_end_date", "Planned end date", ("planned end", "end date", "expected end date"), False,
           "22/01/2026"),
    Column("planned_otj_hours", "Planned off-the-job hours",
           ("planned otj hours", "otj hours", "off the job hours", "planned off the job training hours"), False,
           "400"),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
ENROLMENT_KEYS = ("cohort", "standard", "cohort_start_date", "coach_email", "start_date", "planned_end_date",
                  "planned_otj_hours")
LEARNER_LABELS = {c.key: c.label for c in COLUMNS}
ENROLMENT_LABELS = {**LEARNER_LABELS, "planned_otj_hours": "Planned off-the-job hours", "coach": "Coach email",
                    "cohort": "Cohort", "actual_end_date": "Actual end date", "status": "Status",
                    "withdrawal_reason": "Withdrawal reason"}
LEARNER_FIELDS = ("employee_number", "first_name", "last_name", "work_email", "uln", "team",
                  "line_manager_name", "line_manager_email")


def _alias_map() -> dict[str, str]:
    mapping = {}
    for column in COLUMNS:
        for name in (column.label, column.key, *column.aliases):
            mapping[normalise_header(name)] = column.key
    return mapping


def template_rows() -> tuple[list[str], list[str]]:
    """Return the import template: the expected headers and one example row (fictitious person)."""
    return [c.label for c in COLUMNS], [c.example for c in COLUMNS]


def map_headers(headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """Return ``{column key: index}`` for the headers Academy reads, and the headers it ignores.

    Raises ``ImportFileError`` when a required column is missing or two headers mean
    the same column.
    """
    aliases = _alias_map()
    found, ignored = {}, []
    for index, header in enumerate(headers):
        key = aliases.get(normalise_header(header))
        if key is None:
            if header:
                ignored.append(header)
            continue
        if key in found:
            raise ImportFileError(
                f"Two columns are both read as “{COLUMN_BY_KEY[key].label}”: “{headers[found[key]]}” and "
                f"“{header}”. Delete or rename one of them."
            )
        found[key] = index
    missing = [c for c in COLUMNS if c.required and c.key not in found]
    if missing:
        names = "; ".join(
            f"{c.label} (or {', '.join(a.title() for a in c.aliases[:3])})" if c.aliases else c.label
            for c in missing
        )
        raise ImportFileError(
            f"The file has no column for: {names}. The first row must hold the column headers; "
            "download the template to see them."
        )
    return found, ignored


def _strip_zeros(number: str) -> str:
    return number.lstrip("0") or "0"


class _Context:
    """What the check of one file needs from the database, loaded once (a few queries in all)."""

    def __init__(self):
        self.teams = {t.name.strip().lower(): t for t in Team.objects.all()}
        self.cohorts_by_name = {c.name.strip().lower(): c for c in Cohort.objects.with_standard()}
        self.cohorts_by_start = {}
        for cohort in self.cohorts_by_name.values():
            self.cohorts_by_start.setdefault((cohort.standard.reference, cohort.start_date), []).append(cohort)
        self.standards = set(Standard.objects.values_list("reference", flat=True))
        self.coaches = {u.email.lower(): u for u in User.objects.filter(role=User.Role.COACH, is_active=True)}
        self.other_users = set(User.objects.exclude(role=User.Role.COACH).values_list("email", flat=True))
        rows = list(Learner.objects.values_list("id", "employee_number", "work_email", "uln"))
        self.by_number = {number: pk for pk, number, _, _ in rows}
        self.by_stripped = {}
        for pk, number, _, _ in rows:
            self.by_stripped.setdefault(_strip_zeros(number), []).append(pk)
        self.number_of = {pk: number for pk, number, _, _ in rows}
        self.email_owner = {email.lower(): pk for pk, _, email, _ in rows}
        self.uln_owner = {uln: pk for pk, _, _, uln in rows if uln and uln != "9999999999"}
        self.provisional_by_uln = {uln: pk for pk, number, _, uln in rows
                                   if uln and number.startswith(PROVISIONAL_PREFIX)}
        # In-file duplicates: value → first row number.
        self.seen_numbers, self.seen_emails, self.seen_ulns = {}, {}, {}


def build_plan(content: bytes, file_type: str, *, options: dict, progress=None) -> Plan:
    """Check a staff spreadsheet and return its ``Plan`` (see the module docstring for the rules)."""
    table: Table = read_table(content, file_type)
    columns, ignored = map_headers(table.headers)
    plan = Plan(kind="spreadsheet")
    if ignored:
        plan.notes.append(f"Columns not used: {', '.join(ignored)}.")
    if not table.rows:
        raise ImportFileError("The file has a header row but no data rows.")
    context = _Context()
    total = len(table.rows)
    for start in range(0, total, BATCH_SIZE):
        batch = table.rows[start:start + BATCH_SIZE]
        values = [(number, {key: cells[index] for key, index in columns.items()}) for number, cells in batch]
        matches = {number: _match(context, row) for number, row in values}
        learners = Learner.objects.in_bulk({pk for pk, _ in matches.values() if pk})
        enrolments = {}
        for enrolment in Enrolment.objects.filter(learner_id__in=list(learners)).select_related("coach"):
            enrolments[(enrolment.learner_id, enrolment.cohort_id)] = enrolment
        for number, row in values:
            pk, note = matches[number]
            plan.rows.append(_plan_row(context, number, row, learners.get(pk), note, enrolments))
        if progress:
            progress(min(start + BATCH_SIZE, total), total)
    without_uln = [r.row for r in plan.rows if not r.errors and r.learner is not None and not r.learner.uln]
    if without_uln:
        shown = ", ".join(str(n) for n in without_uln[:20]) + (" and more" if len(without_uln) > 20 else "")
        rows = f"Row {shown} has" if len(without_uln) == 1 else f"{len(without_uln)} rows ({shown}) have"
        plan.notes.append(f"{rows} no ULN: they are imported without one. The learner list's "
                          "“Details to complete: No ULN yet” filter finds every learner still to complete.")
    return plan


def _match(context: _Context, row: dict) -> tuple[int | None, str]:
    """Return ``(learner id or None, note)``: by employee number, then ignoring leading zeros, then provisional ULN."""
    number = cell_text(row.get("employee_number"))
    if not number:
        return None, ""
    if number in context.by_number:
        return context.by_number[number], ""
    candidates = context.by_stripped.get(_strip_zeros(number), [])
    if len(candidates) == 1:
        existing = context.number_of[candidates[0]]
        return candidates[0], (f"Employee number {number} matched existing employee number {existing} "
                               "(leading zeros are often lost when a spreadsheet stores numbers).")
    uln = cell_text(row.get("uln"))
    if uln in context.provisional_by_uln:
        pk = context.provisional_by_uln[uln]
        return pk, f"Matched the learner added from an ILR file by ULN {uln}."
    return None, ""


def _plan_row(context, number, row, learner, match_note, enrolments) -> RowPlan:
    text = {key: cell_text(value) for key, value in row.items()}
    plan = RowPlan(row=number, label=f"Row {number}", key=text.get("employee_number", ""),
                   name=" ".join(filter(None, [text.get("first_name"), text.get("last_name")])))
    if match_note:
        plan.notes.append(match_note)

    for key in ("employee_number", "first_name", "last_name", "work_email", "team"):
        if not text.get(key):
            plan.error(f"column {LEARNER_LABELS[key]}", f"Enter the {LEARNER_LABELS[key].lower()}.")

    team = None
    if text.get("team"):
        team = context.teams.get(text["team"].lower())
        if team is None:
            plan.error("column Team",
                       f"There is no team called “{text['team']}”. Check the spelling, or add the team on the "
                       "Teams page, then upload the file again.")

    _check_duplicates(context, plan, text, learner)

    values = {
        "first_name": text.get("first_name", ""),
        "last_name": text.get("last_name", ""),
        "work_email": text.get("work_email", "").lower(),
    }
    for key in ("uln", "line_manager_name", "line_manager_email"):
        if text.get(key):  # a blank optional cell leaves the stored value alone
            values[key] = text[key].lower() if key == "line_manager_email" else text[key]
    if learner is None:
        plan.learner_action = NEW
        learner = Learner(employee_number=plan.key, team=team, **values)
    else:
        if learner.employee_number.startswith(PROVISIONAL_PREFIX) and plan.key:
            values["employee_number"] = plan.key
        if team is not None:
            values["team"] = team
        _apply_changes(plan, learner, values, LEARNER_LABELS)
        plan.learner_action = CHANGED if plan.changes else UNCHANGED
    plan.learner = learner
    if not learner.uln:
        plan.notes.append("No ULN yet.")
    for where, message in validation_problems(learner, labels=LEARNER_LABELS, exclude=["team", "user"]):
        plan.error(f"column {where}", message)

    if any(text.get(key) for key in ENROLMENT_KEYS):
        _plan_enrolment(context, plan, row, text, learner, enrolments)
    return plan


def _check_duplicates(context, plan, text, learner) -> None:
    number = text.get("employee_number")
    if number:
        first = context.seen_numbers.setdefault(_strip_zeros(number), plan.row)
        if first != plan.row:
            plan.error("column Employee number", f"Employee number {number} is also in row {first}: "
                       "each member of staff can appear only once.")
    email = text.get("work_email", "").lower()
    if email:
        first = context.seen_emails.setdefault(email, plan.row)
        owner = context.email_owner.get(email)
        if first != plan.row:
            plan.error("column Work email", f"Work email {email} is also in row {first}.")
        elif owner is not None and (learner is None or owner != learner.pk):
            plan.error("column Work email", f"Work email {email} already belongs to the learner with employee "
                       f"number {context.number_of[owner]}.")
    uln = text.get("uln")
    if uln and uln != "9999999999":
        first = context.seen_ulns.setdefault(uln, plan.row)
        owner = context.uln_owner.get(uln)
        if first != plan.row:
            plan.error("column ULN", f"ULN {uln} is also in row {first}.")
        elif owner is not None and (learner is None or owner != learner.pk):
            plan.error("column ULN", f"ULN {uln} already belongs to the learner with employee number "
                       f"{context.number_of[owner]}.")


def _apply_changes(plan: RowPlan, instance, values: dict, labels: dict) -> None:
    """Set ``values`` on ``instance``, noting each real change in ``plan.changes`` and ``instance._import_fields``."""
    changed = getattr(instance, "_import_fields", set())
    for name, new in values.items():
        old = getattr(instance, name)
        if old != new:
            plan.changes.append(describe_change(labels.get(name, name), old, new))
            setattr(instance, name, new)
            changed.add(name)
    instance._import_fields = changed


def _plan_enrolment(context, plan, row, text, learner, enrolments) -> None:
    cohort = None
    if text.get("cohort"):
        cohort = context.cohorts_by_name.get(text["cohort"].lower())
        if cohort is None:
            plan.error("column Cohort", f"There is no cohort called “{text['cohort']}”. Check the name, or add "
                       "the cohort first, then upload the file again.")
    elif text.get("standard"):
        reference = text["standard"].upper().replace(" ", "")
        try:
            start = parse_date(row.get("cohort_start_date"))
        except ValueError as error:
            plan.error("column Cohort start date", str(error))
            start = None
        if reference not in context.standards:
            plan.error("column Standard reference", f"There is no apprenticeship standard {reference}. Use a "
                       "reference like ST0118 from the standards list.")
        elif start is None:
            plan.error("column Cohort start date", "Enter the cohort start date (or a cohort name) so the row "
                       "can be matched to a cohort.")
        else:
            found = context.cohorts_by_start.get((reference, start), [])
            if len(found) == 1:
                cohort = found[0]
            elif not found:
                plan.error("column Cohort start date", f"There is no {reference} cohort starting "
                           f"{uk_short_date(start)}. Add the cohort first, or give its name in a Cohort column.")
            else:
                plan.error("column Cohort start date", f"{len(found)} {reference} cohorts start "
                           f"{uk_short_date(start)}: give the cohort's name in a Cohort column.")
    else:
        plan.error("column Cohort", "Enter the cohort (or the standard reference and cohort start date) for "
                   "the enrolment, or leave all enrolment columns blank.")

    coach = None
    if text.get("coach_email"):
        coach = context.coaches.get(text["coach_email"].lower())
        if coach is None:
            reason = ("is not a coach" if text["coach_email"].lower() in context.other_users
                      else "has no Academy account")
            plan.error("column Coach email", f"{text['coach_email']} {reason}. Add the coach as a user with the "
                       "role Coach, or leave the cell blank.")

    dates = {}
    for key in ("start_date", "planned_end_date"):
        try:
            dates[key] = parse_date(row.get(key))
        except ValueError as error:
            plan.error(f"column {LEARNER_LABELS[key]}", str(error))
    try:
        hours = parse_decimal(row.get("planned_otj_hours"))
    except ValueError as error:
        plan.error("column Planned off-the-job hours", f"{error}: enter the hours as a number, like 400.")
        hours = None
    if cohort is None:
        return
    start_date = dates.get("start_date") or cohort.start_date
    if "planned_end_date" in dates and dates["planned_end_date"] is None:
        plan.error("column Planned end date", "Enter the planned end date.")
    if hours is None and not any(p.where == "column Planned off-the-job hours" for p in plan.errors):
        plan.error("column Planned off-the-job hours", "Enter the planned off-the-job hours.")

    existing = enrolments.get((learner.pk, cohort.pk)) if learner.pk else None
    values = {"start_date": start_date}
    if dates.get("planned_end_date"):
        values["planned_end_date"] = dates["planned_end_date"]
    if hours is not None:
        values["planned_otj_hours"] = hours
    if coach is not None:
        values["coach"] = coach
    if existing is None:
        enrolment = Enrolment(learner=learner, cohort=cohort, status=Enrolment.Status.ACTIVE, **values)
        item = EnrolmentPlan(enrolment=enrolment, action=NEW, changes=[f"New enrolment on {cohort.name}"],
                             status_change=("", Enrolment.Status.ACTIVE, start_date))
    else:
        item = EnrolmentPlan(enrolment=existing, action=UNCHANGED)
        scratch = RowPlan(row=plan.row, label=plan.label)
        _apply_changes(scratch, existing, values, ENROLMENT_LABELS)
        if scratch.changes:
            item.action = CHANGED
            item.changes = [f"Enrolment on {cohort.name}: {change}" for change in scratch.changes]
    plan.enrolments.append(item)
    problems = validation_problems(item.enrolment, labels=ENROLMENT_LABELS,
                                   exclude=["learner", "cohort", "coach"])
    for where, message in problems:
        plan.error(f"column {where}", message)
