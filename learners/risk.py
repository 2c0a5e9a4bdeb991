"""Learners at risk: the figures on the coach's page and the four risk rules.

``learner_risks(enrolments, today=...)`` works out every enrolment of a queryset with a
constant number of queries, whatever the number of learners or sessions:

1. the enrolments, with learner, team, cohort, standard and coach joined and the
   per-enrolment figures computed by correlated subqueries (last session, the two most
   recent attendances, next session, attended sessions this quarter, off-the-job hours
   from sessions and from other activities, last progress review);
2. their status changes (for breaks in learning).

The risk rules (issue 4), for enrolments in learning (``active``) only:

- ``no_session``: no attended session for 30 days or more (29 days is not at risk),
  counted from the last attended session, or from the start or the return from a break
  if later;
- ``otj_behind``: off-the-job hours logged more than 20% behind the hours planned to
  date (20.0% behind is not at risk; 20.1% is);
- ``review_overdue``: the progress review due date (``learners.funding_rules``) has
  passed;
- ``no_shows``: the two most recent sessions (up to today) were both no-shows.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import CharField, Count, DecimalField, F, IntegerField, Max, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, NullIf

from cohorts.models import Enrolment, EnrolmentStatusChange
from learners.funding_rules import RuleFigure
from learners.models import CoachingSession, OffTheJobActivity, ProgressReview
from learners.progress import (
    BreakPeriod,
    PlannedToDate,
    break_periods,
    planned_hours_to_date,
    quarter_start,
    review_due,
)

NO_SESSION_DAYS = 30
OTJ_BEHIND_LIMIT = Decimal("0.20")
CURRENT_STATUSES = (
    Enrolment.Status.ACTIVE,
    Enrolment.Status.BREAK_IN_LEARNING,
    Enrolment.Status.GATEWAY,
    Enrolment.Status.END_POINT_ASSESSMENT,
)
ATTENDED = CoachingSession.Attendance.ATTENDED
NO_SHOW = CoachingSession.Attendance.NO_SHOW


@dataclass(frozen=True)
class RiskReason:
    """One reason a learner is at risk: ``code`` (stable), ``label`` (for a tag), ``detail`` (a sentence)."""

    code: str
    label: str
    detail: str


@dataclass
class LearnerRisk:
    """The coach's-page figures for one enrolment, and its risk reasons.

    Dates are ``datetime.date`` or ``None``; hours are ``Decimal``; ``otj_behind`` is the
    share of planned-to-date hours not yet logged (0.2 = 20% behind; ``None`` when nothing
    is planned yet, negative when ahead).
    """

    enrolment: Enrolment
    today: dt.date
    last_session: dt.date | None
    last_session_attendance: str | None
    last_attended: dt.date | None
    next_session: dt.date | None
    sessions_this_quarter: int
    otj_logged: Decimal
    otj_from_sessions: Decimal
    otj_from_activities: Decimal
    otj_planned: PlannedToDate
    otj_behind: Decimal | None
    last_review: dt.date | None
    review_due: RuleFigure
    breaks: list[BreakPeriod]
    reasons: list[RiskReason] = field(default_factory=list)

    @property
    def learner(self):
        return self.enrolment.learner

    @property
    def at_risk(self) -> bool:
        return bool(self.reasons)

    @property
    def in_learning(self) -> bool:
        return self.enrolment.status == Enrolment.Status.ACTIVE

    @property
    def on_break(self) -> bool:
        return self.enrolment.status == Enrolment.Status.BREAK_IN_LEARNING

    @property
    def days_since_review(self) -> int | None:
        """Days since the last progress review; ``None`` when there has been none."""
        return (self.today - self.last_review).days if self.last_review else None

    @property
    def days_since_start(self) -> int:
        return (self.today - self.enrolment.start_date).days

    @property
    def review_overdue(self) -> bool:
        return self.in_learning and self.today > self.review_due.value

    @property
    def days_review_overdue(self) -> int:
        return max((self.today - self.review_due.value).days, 0)

    @property
    def otj_behind_percent(self) -> Decimal | None:
        return None if self.otj_behind is None else (self.otj_behind * 100).quantize(Decimal("0.1"))

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def _sum_subquery(model, field_name: str, **filters):
    rows = (
        model.objects.filter(enrolment=OuterRef("pk"), **filters)
        .order_by()
        .values("enrolment")
        .annotate(total=Sum(field_name))
        .values("total")
    )
    return Coalesce(
        Subquery(rows, output_field=DecimalField(max_digits=9, decimal_places=2)),
        Value(Decimal(0)),
        output_field=DecimalField(max_digits=9, decimal_places=2),
    )


def annotate_for_risk(enrolments, *, today: dt.date, related: bool = True):
    """Return ``enrolments`` with related rows joined and the figures ``learner_risks`` reads, in one query.

    ``related=False`` joins nothing (learner, cohort and coach are not loaded): for counts
    over many enrolments, where building those objects would cost more than the rules.

    Annotations: ``sort_last_name``, ``sort_first_name``, ``sort_cohort_start``,
    ``sort_cohort_name``, ``sort_coach`` (for ``SORT_KEYS``); ``last_session``,
    ``last_attendance``, ``previous_attendance`` (sessions
    up to ``today``, newest first), ``last_attended``, ``next_session`` (the next-session
    date of the most recent session), ``sessions_this_quarter`` (attended, since the
    start of the calendar quarter), ``otj_from_sessions`` (attended sessions' hours),
    ``otj_from_activities``, ``last_review``.
    """
    past = CoachingSession.objects.filter(enrolment=OuterRef("pk"), date__lte=today).order_by("-date", "-id")
    quarter = (
        CoachingSession.objects.filter(
            enrolment=OuterRef("pk"), attendance=ATTENDED, date__gte=quarter_start(today), date__lte=today
        )
        .order_by()
        .values("enrolment")
        .annotate(n=Count("id"))
        .values("n")
    )
    if related:
        enrolments = enrolments.select_related("learner__team", "cohort__standard", "coach")
    return enrolments.annotate(
        # What the sorts read (``SORT_KEYS``), so sorting never needs the related objects.
        sort_last_name=F("learner__last_name"),
        sort_first_name=F("learner__first_name"),
        sort_cohort_start=F("cohort__start_date"),
        sort_cohort_name=F("cohort__name"),
        sort_coach=Coalesce(NullIf(F("coach__full_name"), Value("")), F("coach__email"), Value(""),
                            output_field=CharField()),
        last_session=Subquery(past.values("date")[:1]),
        last_attendance=Subquery(past.values("attendance")[:1]),
        previous_attendance=Subquery(past.values("attendance")[1:2]),
        last_attended=Subquery(past.filter(attendance=ATTENDED).values("date")[:1]),
        next_session=Subquery(
            CoachingSession.objects.filter(enrolment=OuterRef("pk"))
            .order_by("-date", "-id")
            .values("next_session_date")[:1]
        ),
        sessions_this_quarter=Coalesce(Subquery(quarter, output_field=IntegerField()), Value(0)),
        otj_from_sessions=_sum_subquery(CoachingSession, "otj_hours", attendance=ATTENDED),
        otj_from_activities=_sum_subquery(OffTheJobActivity, "hours"),
        last_review=Subquery(
            ProgressReview.objects.filter(enrolment=OuterRef("pk"))
            .order_by()
            .values("enrolment")
            .annotate(last=Max("date"))
            .values("last")
        ),
    )


def breaks_by_enrolment(enrolments, *, today: dt.date) -> dict[int, list[BreakPeriod]]:
    """Return ``{enrolment id: [BreakPeriod, …]}`` for the enrolments of a queryset, in one query."""
    changes = defaultdict(list)
    rows = (
        EnrolmentStatusChange.objects.filter(enrolment__in=enrolments.order_by().values("pk"))
        .order_by("enrolment_id", "effective_date", "changed_at", "id")
        .values_list("enrolment_id", "to_status", "effective_date")
    )
    for enrolment_id, to_status, day in rows:
        changes[enrolment_id].append((to_status, day))
    return {key: break_periods(value, today=today) for key, value in changes.items()}


def risk_reasons(risk: LearnerRisk) -> list[RiskReason]:
    """Return the risk reasons for one worked-out enrolment (empty unless it is in learning)."""
    if not risk.in_learning:
        return []
    today = risk.today
    reasons = []
    since = max(
        [d for d in (risk.last_attended, risk.enrolment.start_date, *[b.end for b in risk.breaks if not b.open]) if d]
    )
    days = (today - since).days
    if days >= NO_SESSION_DAYS:
        detail = (
            f"No attended session for {days} days (since {since.day} {since:%B %Y})."
            if risk.last_attended == since
            else f"No attended session in the {days} days since {since.day} {since:%B %Y}."
        )
        reasons.append(RiskReason("no_session", "No session in 30 days", detail))
    if risk.otj_behind is not None and risk.otj_behind > OTJ_BEHIND_LIMIT:
        reasons.append(
            RiskReason(
                "otj_behind",
                "Off-the-job hours behind",
                f"{risk.otj_logged} of {risk.otj_planned.hours} hours planned to date logged "
                f"({risk.otj_behind_percent}% behind; the limit is 20%).",
            )
        )
    if risk.review_overdue:
        reasons.append(
            RiskReason(
                "review_overdue",
                "Progress review overdue",
                f"Progress review was due on {risk.review_due.value.day} {risk.review_due.value:%B %Y} "
                f"({risk.days_review_overdue} days ago).",
            )
        )
    if risk.last_session_attendance == NO_SHOW and risk.enrolment.previous_attendance == NO_SHOW:
        reasons.append(RiskReason("no_shows", "Two no-shows in a row", "The last two sessions were no-shows."))
    return reasons


def _otj_behind(logged: Decimal, planned: Decimal) -> Decimal | None:
    if planned <= 0:
        return None
    return (planned - logged) / planned


def learner_risks(enrolments, *, today: dt.date, related: bool = True) -> list[LearnerRisk]:
    """Return a ``LearnerRisk`` for every enrolment of the queryset, in its order, with 2 queries.

    ``enrolments`` is an ``Enrolment`` queryset (already limited to what the user may
    see); ``today`` is the local date (``timezone.localdate()``). With ``related=False``
    the enrolments' learner, cohort and coach are not loaded (``annotate_for_risk``):
    the flags and reasons are the same, but reading ``risk.learner`` would query.
    """
    rows = list(annotate_for_risk(enrolments, today=today, related=related))
    breaks = breaks_by_enrolment(enrolments, today=today) if rows else {}
    risks = []
    for enrolment in rows:
        enrolment_breaks = breaks.get(enrolment.pk, [])
        planned = planned_hours_to_date(
            planned_hours=enrolment.planned_otj_hours,
            start_date=enrolment.start_date,
            planned_end_date=enrolment.planned_end_date,
            breaks=enrolment_breaks,
            # A leaver's plan stops growing when learning ended.
            today=min(today, enrolment.actual_end_date or today),
        )
        logged = Decimal(enrolment.otj_from_sessions) + Decimal(enrolment.otj_from_activities)
        risk = LearnerRisk(
            enrolment=enrolment,
            today=today,
            last_session=enrolment.last_session,
            last_session_attendance=enrolment.last_attendance,
            last_attended=enrolment.last_attended,
            next_session=enrolment.next_session,
            sessions_this_quarter=enrolment.sessions_this_quarter,
            otj_logged=logged,
            otj_from_sessions=Decimal(enrolment.otj_from_sessions),
            otj_from_activities=Decimal(enrolment.otj_from_activities),
            otj_planned=planned,
            otj_behind=_otj_behind(logged, planned.hours),
            last_review=enrolment.last_review,
            review_due=review_due(
                start_date=enrolment.start_date, last_review_date=enrolment.last_review, breaks=enrolment_breaks
            ),
            breaks=enrolment_breaks,
        )
        risk.reasons = risk_reasons(risk)
        risks.append(risk)
    return risks


# --- Sorting ---------------------------------------------------------------------------

_FAR = dt.date.max


def _by_risk(r: LearnerRisk):
    e = r.enrolment
    return (not r.at_risk, -len(r.reasons), e.sort_last_name, e.sort_first_name, e.pk)


# Each reads the enrolment's ``sort_*`` annotations (``annotate_for_risk``), not related objects.
SORT_KEYS = {
    "risk": _by_risk,
    "name": lambda r: (r.enrolment.sort_last_name.lower(), r.enrolment.sort_first_name.lower(), r.enrolment.pk),
    "last_session": lambda r: (r.last_session or dt.date.min, r.enrolment.pk),
    "next_session": lambda r: (r.next_session or _FAR, r.enrolment.pk),
    "sessions": lambda r: (r.sessions_this_quarter, r.enrolment.pk),
    "otj": lambda r: (r.otj_behind if r.otj_behind is not None else Decimal(-999), r.enrolment.pk),
    "review": lambda r: (
        r.days_since_review if r.days_since_review is not None else r.days_since_start, r.enrolment.pk
    ),
    "cohort": lambda r: (r.enrolment.sort_cohort_start, r.enrolment.sort_cohort_name, r.enrolment.pk),
    "coach": lambda r: (r.enrolment.sort_coach, r.enrolment.pk),
}
# The default direction of each sort: risk, behind and days since review show the worst first.
DESCENDING_BY_DEFAULT = {"otj", "review", "last_session"}


def parse_sort(value: str | None) -> tuple[str, bool]:
    """Return ``(key, descending)`` from a ``?sort=`` value such as ``"name"`` or ``"-otj"``; unknown → risk."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in SORT_KEYS:
        return "risk", False
    return key, descending


def sort_risks(risks: list[LearnerRisk], *, key: str = "risk", descending: bool = False) -> list[LearnerRisk]:
    """Return ``risks`` sorted by ``key`` (one of ``SORT_KEYS``); ties keep a stable order by id."""
    return sorted(risks, key=SORT_KEYS.get(key, _by_risk), reverse=descending)


def load_related(risks: list[LearnerRisk]) -> list[LearnerRisk]:
    """Give each of ``risks`` (worked out with ``related=False``) its enrolment's learner, team, cohort, standard and coach.

    One query for all of them; returns ``risks``. Used for the rows a page shows, after
    sorting and paging the figures of every enrolment without those objects.
    """
    ids = {r.enrolment.pk for r in risks}
    loaded = Enrolment.objects.select_related("learner__team", "cohort__standard", "coach").in_bulk(ids)
    for r in risks:
        full = loaded[r.enrolment.pk]
        for name in ("learner", "cohort", "coach"):
            setattr(r.enrolment, name, getattr(full, name))
    return risks
