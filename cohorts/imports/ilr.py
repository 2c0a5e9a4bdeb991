"""Learners and enrolments from an ILR XML file (the Individualised Learner Record).

Training providers return the ILR to the ESFA monthly; this reads the 2018/19 message
format (namespace ``ESFA/ILR/2018-19``, schema ``ilr_2018-19_schema_v2.xsd``; elements
are matched by local name, so the older ``SFA/ILR/2017-18`` children of ESFA's own
sample files read the same). Codes follow the ILR 2018/19 code lists
(``ilr_1819_code_lists_extract.csv``; docs/rules.md "ILR codes"). Unknown codes are errors
naming the code, never guessed.

One preview row per ``<Learner>``, numbered by its position in the file. Decisions:

- Imported: programme aims (``AimType`` 1) of apprenticeships (``FundModel`` 36) on an
  apprenticeship standard (``ProgType`` 25; ``StdCode`` = ``Standard.lars_code``).
  Component aims (``AimType`` 3) belong to their programme and are not imported.
- **Not imported, and said so** (row action ``not_imported``, which does not block the
  import): frameworks (``ProgType`` 2, 3, 20–23: Academy holds no framework data), and
  learners with no apprenticeship programme aim (other funding models).
- **Learners** are matched by a real ULN, then by the provisional employee number
  ``ILR-<LearnRefNumber>`` of a learner an earlier ILR import added. A learner not in
  Academy is added only when the upload names a team for new learners and the ILR
  gives an ``Email``; the employee number is the provisional ``ILR-<LearnRefNumber>``
  until a staff spreadsheet with the same ULN gives the real one. The ILR never
  overwrites names or emails: the HR export is the source for staff details.
- **Cohorts**: one per standard, provider UKPRN (file header) and start month. An
  existing cohort of that standard and UKPRN starting that month is used; otherwise a
  new one, "<Standard title> L<level> — <Month YYYY> (ILR)", starting on the 1st, is
  shown in the preview as a new cohort.
- **Status** from ``CompStatus``/``Outcome``: 1 → in learning (a learner already at
  gateway or EPA stays there); 2 with ``Outcome`` 1 or 3 → completed; 2 with ``Outcome``
  8 or none → end-point assessment (learning complete, outcome not yet known);
  3 → withdrawn with ``WithdrawReason``; 6 → break in learning.
- **EPA result** from ``OutGrade`` PA/ME/DS/FL (pass/merit/distinction/fail), dated
  ``AchDate`` else ``LearnActEndDate``; a date after today is an error. ``DS*`` and
  ``CR`` are real codes with no Academy grade: errors, not guessed.
- Planned off-the-job hours come from the learner's ``OTJHours`` when present; a new
  enrolment without it gets 0 and the preview says to enter them.
"""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

from django.utils import timezone

from academy.dates import uk_short_date
from academy.models import Team
from cohorts.models import AssessmentResult, Cohort, Enrolment, Standard
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
from .reading import ImportFileError
from .spreadsheet import PROVISIONAL_PREFIX

NAMESPACE = "ESFA/ILR/2018-19"
TEMPORARY_ULN = "9999999999"
FUND_MODELS = {
    "10": "Community Learning", "25": "16-19 (excluding Apprenticeships)", "35": "Adult skills",
    "36": "Apprenticeships", "70": "ESF", "81": "Other Adult", "82": "Other 16-19", "99": "Non-funded",
}
FRAMEWORK_PROG_TYPES = {
    "2": "Advanced Level Apprenticeship", "3": "Intermediate Level Apprenticeship",
    "20": "Higher Apprenticeship - level 4", "21": "Higher Apprenticeship - level 5",
    "22": "Higher Apprenticeship - level 6", "23": "Higher Apprenticeship - level 7+",
}
STANDARD_PROG_TYPE = "25"
GRADES = {"PA": AssessmentResult.Grade.PASS, "ME": AssessmentResult.Grade.MERIT,
          "DS": AssessmentResult.Grade.DISTINCTION, "FL": AssessmentResult.Grade.FAIL}
OTHER_GRADES = {"DS*": "Distinction *", "CR": "Credit"}
WITHDRAW_REASONS = {choice.value for choice in Enrolment.WithdrawalReason}
OTHER_WITHDRAW_REASONS = {"28": "OLASS learners only", "42": "HE learning aims only", "45": "HE learning aims only"}
LABELS = {"uln": "ULN", "work_email": "Email", "first_name": "GivenNames", "last_name": "FamilyName",
          "start_date": "LearnStartDate", "planned_end_date": "LearnPlanEndDate",
          "actual_end_date": "LearnActEndDate", "withdrawal_reason": "WithdrawReason", "status": "CompStatus",
          "planned_otj_hours": "OTJHours", "employee_number": "LearnRefNumber", "date": "AchDate",
          "grade": "OutGrade", "enrolment": "CompStatus"}
ONGOING = (Enrolment.Status.GATEWAY, Enrolment.Status.END_POINT_ASSESSMENT)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def _children(element, name: str) -> list:
    return [child for child in element if _local(child.tag) == name]


def parse_message(content: bytes):
    """Return ``(root, ukprn, learners)`` of an ILR file; raise ``ImportFileError`` if it is not one.

    Python's expat parser does not fetch external entities and limits entity expansion,
    so a hostile XML upload cannot read files or exhaust memory that way.
    """
    try:
        # bandit B314: expat fetches no external entities and limits expansion (see the docstring).
        root = ET.fromstring(content)  # nosec B314
    except ET.ParseError as error:
        raise ImportFileError(f"This XML file cannot be read ({error}). Upload the ILR file as exported.") from None
    if _local(root.tag) != "Message":
        raise ImportFileError("This XML file is not an ILR file: its first element is not <Message>.")
    ukprn = ""
    for element in root.iter():
        if _local(element.tag) == "LearningProvider":
            ukprn = _child(element, "UKPRN")
            break
    return root, ukprn, _children(root, "Learner")


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class _Context:
    def __init__(self, options: dict, ukprn: str):
        self.ukprn = ukprn
        self.today = timezone.localdate()
        self.team = Team.objects.filter(pk=options.get("team_id")).first() if options.get("team_id") else None
        self.standards = {s.lars_code: s for s in Standard.objects.exclude(lars_code=None)}
        self.cohorts = list(Cohort.objects.with_standard())
        self.cohort_names = {c.name.lower() for c in self.cohorts}
        self.new_cohorts: dict[tuple, Cohort] = {}
        rows = list(Learner.objects.values_list("id", "employee_number", "work_email", "uln"))
        self.by_uln = {uln: pk for pk, _, _, uln in rows if uln and uln != TEMPORARY_ULN}
        self.by_number = {number: pk for pk, number, _, _ in rows}
        self.email_owner = {email.lower(): pk for pk, _, email, _ in rows}
        self.seen_emails: dict[str, int] = {}
        self.seen_ulns: dict[str, int] = {}


def build_plan(content: bytes, *, options: dict, progress=None) -> Plan:
    """Check an ILR file and return its ``Plan`` (see the module docstring for the rules)."""
    root, ukprn, learners = parse_message(content)
    plan = Plan(kind="ilr")
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if namespace != NAMESPACE:
        plan.notes.append(f"The file's namespace is “{namespace or 'none'}”, not {NAMESPACE}: it was read with "
                          "the 2018/19 code lists.")
    if not learners:
        raise ImportFileError("This ILR file has no <Learner> records.")
    context = _Context(options, ukprn)
    total = len(learners)
    for start in range(0, total, BATCH_SIZE):
        batch = list(enumerate(learners[start:start + BATCH_SIZE], start=start + 1))
        keys = [_learner_key(context, element) for _, element in batch]
        existing = Learner.objects.in_bulk({pk for pk in keys if pk})
        enrolments = {}
        for enrolment in Enrolment.objects.filter(learner_id__in=list(existing)).prefetch_related(
                "assessment_results"):
            enrolments[(enrolment.learner_id, enrolment.cohort_id)] = enrolment
        for (number, element), pk in zip(batch, keys):
            plan.rows.append(_plan_learner(context, number, element, existing.get(pk), enrolments))
        if progress:
            progress(min(start + BATCH_SIZE, total), total)
    plan.new_cohorts = {f"{k}": c for k, c in context.new_cohorts.items()}
    return plan


def _learner_key(context: _Context, element) -> int | None:
    uln = _child(element, "ULN")
    if uln and uln != TEMPORARY_ULN and uln in context.by_uln:
        return context.by_uln[uln]
    return context.by_number.get(PROVISIONAL_PREFIX + _child(element, "LearnRefNumber"))


def _plan_learner(context, number, element, learner, enrolments) -> RowPlan:
    ref = _child(element, "LearnRefNumber")
    uln = _child(element, "ULN")
    row = RowPlan(row=number, label=f"Learner {number} (LearnRefNumber {ref or 'missing'})", key=ref,
                  name=" ".join(filter(None, [_child(element, "GivenNames"), _child(element, "FamilyName")])))
    aims = []
    for delivery in _children(element, "LearningDelivery"):
        if _child(delivery, "AimType") != "1" or _child(delivery, "FundModel") != "36":
            continue
        prog_type = _child(delivery, "ProgType")
        seq = _child(delivery, "AimSeqNumber") or "?"
        if prog_type in FRAMEWORK_PROG_TYPES:
            row.notes.append(
                f"LearningDelivery AimSeqNumber {seq}: framework programmes are not supported: FworkCode "
                f"{_child(delivery, 'FworkCode') or 'missing'}, PwayCode {_child(delivery, 'PwayCode') or 'missing'} "
                f"(ProgType {prog_type} {FRAMEWORK_PROG_TYPES[prog_type]}). Only apprenticeship standards "
                "(ProgType 25) are imported."
            )
        elif prog_type == STANDARD_PROG_TYPE:
            aims.append(delivery)
        else:
            row.error(f"LearningDelivery AimSeqNumber {seq}, ProgType",
                      f"ProgType “{prog_type or 'missing'}” is not an apprenticeship programme type in the ILR "
                      "2018/19 code list (25 standard; 2, 3, 20–23 frameworks).")
    if not aims and not row.errors:
        row.not_imported = True
        if not row.notes:
            models = sorted({_child(d, "FundModel") for d in _children(element, "LearningDelivery")})
            described = ", ".join(f"FundModel {m} ({FUND_MODELS.get(m, 'unknown code')})" for m in models)
            described = described or "no learning deliveries"
            row.notes.append(f"No apprenticeship programme aim (AimType 1, FundModel 36): {described}.")
        return row

    learner = _plan_learner_record(context, row, element, learner, uln)
    for delivery in aims:
        _plan_aim(context, row, element, delivery, learner, enrolments)
    return row


def _plan_learner_record(context, row, element, learner, uln) -> Learner:
    email = _child(element, "Email").lower()
    if learner is not None:
        row.learner_action = UNCHANGED
        if uln and uln != TEMPORARY_ULN and learner.uln != uln:
            row.changes.append(describe_change("ULN", learner.uln, uln))
            learner.uln = uln
            learner._import_fields = {"uln"}
            row.learner_action = CHANGED
        row.learner = learner
        return learner
    row.learner_action = NEW
    if context.team is None:
        row.error("Learner", f"No learner in Academy has ULN {uln or '(none)'}: choose a team for new learners "
                  "when you upload the file, or import the staff list first.")
    if not email:
        row.error("Email", "The ILR gives no email for this new learner: import the staff list first, so the "
                  "learner is matched by ULN.")
    elif email in context.email_owner:
        row.error("Email", f"Email {email} already belongs to another learner (with a different ULN).")
    else:
        first = context.seen_emails.setdefault(email, row.row)
        if first != row.row:
            row.error("Email", f"Email {email} is also given for learner {first} in this file.")
    if uln and uln != TEMPORARY_ULN:
        first = context.seen_ulns.setdefault(uln, row.row)
        if first != row.row:
            row.error("ULN", f"ULN {uln} is also given for learner {first} in this file.")
    learner = Learner(
        first_name=_child(element, "GivenNames"), last_name=_child(element, "FamilyName"), work_email=email,
        employee_number=PROVISIONAL_PREFIX + row.key, uln=uln, team=context.team,
    )
    row.notes.append(f"New learner with provisional employee number {learner.employee_number} until the staff "
                     "list gives the real one.")
    for where, message in validation_problems(learner, labels=LABELS, exclude=["team", "user"]):
        row.error(where, message)
    row.learner = learner
    return learner


def _cohort_for(context, row, where, standard, start: dt.date) -> Cohort | None:
    month = start.replace(day=1)
    found = [c for c in context.cohorts
             if c.standard_id == standard.pk and c.provider_ukprn == context.ukprn
             and c.start_date.replace(day=1) == month]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        row.error(where, f"{len(found)} cohorts of {standard.reference} with UKPRN {context.ukprn} start in "
                  f"{month:%B %Y}: merge them so the ILR can be matched to one.")
        return None
    key = (standard.pk, context.ukprn, month)
    if key in context.new_cohorts:
        return context.new_cohorts[key]
    title = standard.title[:1].upper() + standard.title[1:]
    cohort = Cohort(name=f"{title} L{standard.level} — {month:%B %Y} (ILR)", standard=standard,
                    provider=f"UKPRN {context.ukprn}", provider_ukprn=context.ukprn, start_date=month)
    problems = validation_problems(cohort, labels={"provider_ukprn": "UKPRN"}, exclude=["standard"])
    if cohort.name.lower() in context.cohort_names:
        problems.append(("cohort", f"A cohort called “{cohort.name}” already exists for another provider or "
                                   "standard: rename it so the new one can be created."))
    if problems:
        for name, message in problems:
            row.error(f"{where} (new cohort)", f"{cohort.name}: {name} {context.ukprn or '(missing)'}: {message}"
                      if name == "UKPRN" else f"{cohort.name}: {message}")
        return None
    context.new_cohorts[key] = cohort
    return cohort


def _plan_aim(context, row, element, delivery, learner, enrolments) -> None:
    seq = _child(delivery, "AimSeqNumber") or "?"
    where = f"LearningDelivery AimSeqNumber {seq}"
    errors_before = len(row.errors)
    dates = {}
    for name in ("LearnStartDate", "LearnPlanEndDate", "LearnActEndDate", "AchDate"):
        text = _child(delivery, name)
        if not text:
            dates[name] = None
            continue
        try:
            dates[name] = _date(text)
        except ValueError:
            row.error(f"{where}, {name}", f"“{text}” is not a date (the ILR writes dates as yyyy-mm-dd).")
            dates[name] = None
    for name in ("LearnStartDate", "LearnPlanEndDate"):
        if dates[name] is None and not any(p.where == f"{where}, {name}" for p in row.errors):
            row.error(f"{where}, {name}", f"{name} is missing.")

    standard = None
    code = _child(delivery, "StdCode")
    if not code:
        row.error(f"{where}, StdCode", "StdCode is missing: a standard (ProgType 25) needs its LARS code.")
    elif not code.isdigit() or int(code) not in context.standards:
        row.error(f"{where}, StdCode", f"StdCode {code} matches no apprenticeship standard in Academy (by LARS "
                  "code). Check the code, or load the standard with load_reference_data.")
    else:
        standard = context.standards[int(code)]

    status, reason = _status(row, where, delivery, dates, context.today)
    grade, result_date = _grade(row, where, delivery, dates, context.today, status)
    if len(row.errors) > errors_before or standard is None or dates["LearnStartDate"] is None:
        return
    cohort = _cohort_for(context, row, where, standard, dates["LearnStartDate"])
    if cohort is None:
        return

    existing = enrolments.get((learner.pk, cohort.pk)) if learner.pk and cohort.pk else None
    if existing is not None and status == Enrolment.Status.ACTIVE and existing.status in ONGOING:
        status = existing.status  # CompStatus 1 covers gateway and EPA: do not move the learner back
    if existing is not None and status == Enrolment.Status.BREAK_IN_LEARNING and existing.status in (
            *ONGOING, Enrolment.Status.COMPLETED):
        row.error(f"{where}, CompStatus", "A break in learning cannot be recorded after gateway (docs/rules.md); "
                  f"this enrolment is at {existing.get_status_display().lower()}.")
        return
    actual_end = dates["LearnActEndDate"] if status not in (
        Enrolment.Status.ACTIVE, Enrolment.Status.BREAK_IN_LEARNING) else None
    values = {"start_date": dates["LearnStartDate"], "planned_end_date": dates["LearnPlanEndDate"],
              "actual_end_date": actual_end, "status": status, "withdrawal_reason": reason}
    otj = _child(element, "OTJHours")
    effective = dates["LearnActEndDate"] or dates["LearnStartDate"]
    if existing is None:
        hours = Decimal(otj) if otj.isdigit() else Decimal("0")
        enrolment = Enrolment(learner=learner, cohort=cohort, planned_otj_hours=hours, **values)
        label = "new cohort " if cohort.pk is None else ""
        item = EnrolmentPlan(enrolment=enrolment, action=NEW,
                             changes=[f"New enrolment on {label}{cohort.name}: {enrolment.get_status_display()}"],
                             status_change=("", status, effective))
        if not otj.isdigit():
            row.notes.append("The ILR gives no OTJHours: planned off-the-job hours set to 0; enter them on the "
                             "enrolment.")
    else:
        item = EnrolmentPlan(enrolment=existing, action=UNCHANGED)
        old_status = existing.status
        changed = set()
        for name, new in values.items():
            old = getattr(existing, name)
            if old != new:
                item.changes.append(f"Enrolment on {cohort.name}: " + describe_change(LABELS[name], old, new))
                setattr(existing, name, new)
                changed.add(name)
        existing._import_fields = changed
        if changed:
            item.action = CHANGED
        if old_status != status:
            item.status_change = (old_status, status, effective)
    row.enrolments.append(item)
    for name, message in validation_problems(item.enrolment, labels=LABELS, exclude=["learner", "cohort", "coach"]):
        row.error(f"{where}, {name}", message)
    if grade:
        _plan_result(row, where, item, grade, result_date)


def _status(row, where, delivery, dates, today) -> tuple[str, str]:
    """Return ``(status, withdrawal reason)`` from CompStatus/Outcome/WithdrawReason, recording errors on ``row``."""
    comp = _child(delivery, "CompStatus")
    outcome = _child(delivery, "Outcome")
    reason = ""
    if outcome and outcome not in ("1", "2", "3", "8"):
        row.error(f"{where}, Outcome", f"Outcome {outcome} is not in the ILR 2018/19 code list (1 achieved, "
                  "2 partial, 3 no achievement, 8 outcome not yet known).")
    elif outcome == "2":
        row.error(f"{where}, Outcome", "Outcome 2 (partial achievement) does not apply to an apprenticeship "
                  "programme aim.")
    if comp == "1":
        status = Enrolment.Status.ACTIVE
    elif comp == "2":
        status = Enrolment.Status.COMPLETED if outcome in ("1", "3") else Enrolment.Status.END_POINT_ASSESSMENT
    elif comp == "3":
        status = Enrolment.Status.WITHDRAWN
        reason = _child(delivery, "WithdrawReason")
        if not reason:
            row.error(f"{where}, WithdrawReason", "WithdrawReason is missing for a withdrawal (CompStatus 3).")
        elif reason in OTHER_WITHDRAW_REASONS:
            row.error(f"{where}, WithdrawReason", f"WithdrawReason {reason} is for {OTHER_WITHDRAW_REASONS[reason]}, "
                      "not apprenticeships.")
        elif reason not in WITHDRAW_REASONS:
            row.error(f"{where}, WithdrawReason", f"WithdrawReason {reason} is not in the ILR 2018/19 code list.")
    elif comp == "6":
        status = Enrolment.Status.BREAK_IN_LEARNING
    else:
        row.error(f"{where}, CompStatus", f"CompStatus {comp or 'missing'} is not in the ILR 2018/19 code list "
                  "(1 continuing, 2 completed, 3 withdrawn, 6 break in learning).")
        status = Enrolment.Status.ACTIVE
    end = dates["LearnActEndDate"]
    if comp in ("2", "3") and end is None and not any(p.where == f"{where}, LearnActEndDate" for p in row.errors):
        row.error(f"{where}, LearnActEndDate", f"LearnActEndDate is missing: CompStatus {comp} needs the date "
                  "learning ended.")
    if comp in ("2", "3", "6") and end is not None and end > today:
        row.error(f"{where}, LearnActEndDate", f"LearnActEndDate {uk_short_date(end)} is in the future: learning "
                  "cannot have ended after today.")
    return status, reason


def _grade(row, where, delivery, dates, today, status):
    """Return ``(grade, date)`` of the EPA result from OutGrade, or ``(None, None)``; errors go on ``row``."""
    code = _child(delivery, "OutGrade")
    if not code:
        return None, None
    if code in OTHER_GRADES:
        row.error(f"{where}, OutGrade", f"OutGrade {code} ({OTHER_GRADES[code]}) is not an end-point assessment "
                  "grade Academy records (PA, ME, DS, FL); it was not guessed.")
        return None, None
    if code not in GRADES:
        row.error(f"{where}, OutGrade", f"OutGrade {code} is not in the ILR 2018/19 code list.")
        return None, None
    when = dates["AchDate"] or dates["LearnActEndDate"]
    if when is None:
        row.error(f"{where}, AchDate", "An OutGrade needs AchDate or LearnActEndDate to date the result.")
        return None, None
    if when > today:
        name = "AchDate" if dates["AchDate"] else "LearnActEndDate"
        row.error(f"{where}, {name}", f"{name} {uk_short_date(when)} is in the future: a completed result cannot be "
                  "dated after today.")
        return None, None
    return GRADES[code], when


def _plan_result(row, where, item, grade, when) -> None:
    enrolment = item.enrolment
    existing = list(enrolment.assessment_results.all()) if enrolment.pk else []
    if existing:
        result = max(existing, key=lambda r: r.attempt)
        item.result, item.result_action = result, UNCHANGED
        if (result.grade, result.date) != (grade, when):
            item.changes.append("EPA result: " + describe_change("grade", result.get_grade_display(),
                                                                  GRADES_LABEL[grade]) + f" on {uk_short_date(when)}")
            result.grade, result.date = grade, when
            item.result_action = CHANGED
    else:
        item.result = AssessmentResult(enrolment=enrolment, grade=grade, date=when, attempt=1)
        item.result_action = NEW
        item.changes.append(f"New EPA result: {GRADES_LABEL[grade]} on {uk_short_date(when)}")
    for name, message in validation_problems(item.result, labels=LABELS, exclude=["enrolment"]):
        row.error(f"{where}, {name}", message)
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        row.error(f"{where}, OutGrade", "A withdrawn enrolment cannot have an end-point assessment result.")


GRADES_LABEL = dict(AssessmentResult.Grade.choices)
