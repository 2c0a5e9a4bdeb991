"""Learners at risk: the figures on the coach's page and the four risk rules.

``learner_risks(enrolments, today=...)`` works out every enrolment of a queryset with a
constant number of queries, whatever the number of learners or sessions:

1. the enrolments, with learner, team, cohort, standard and coach joined (or not, for
   counts: ``related=False``);
2. their coaching sessions in one pass (``session_figures``: last session, the two most
   recent attendances, next session, attended sessions this quarter, off-the-job hours);
3. other off-the-job hours and 4. the last progress review, each one grouped query;
5. their status changes (for breaks in learning).

The risk rules, for enrolments in learning (``active``) only:

- ``no_session``: no attended session for 30 days or more (29 days is not at risk),
  counted from the last attended session, or from the start or the return from a break
  if later;
- ``otj_behind``: off-the-job hours logged more than 20% behind the hours planned to
  date (20.0% behind is not at risk; 20.1% is), judged from ``OTJ_GRACE_DAYS`` after the
  start or the return from a break: in the first four weeks the hours planned to date
  are too few to measure (1.6 hours three days in), and a flag then only teaches coaches
  to ignore it. The grace period is Academy's own choice, not a funding rule;
- ``review_overdue``: the progress review due date (``cohorts.funding_rules``) has
  passed;
- ``no_shows``: the two most recent sessions (up to today) were both no-shows.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import CharField, F, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from coaching.compliance import REVIEW_UNSIGNED_RISK_DAYS, unsigned_reviews
from coaching.models import CoachingSession, OffTheJobActivity, ProgressReview
from coaching.progress import (
    BreakPeriod,
    PlannedToDate,
    break_periods,
    planned_hours_to_date,
    quarter_start,
    review_due,
)
from academy.numbers import percent
from cohorts import funding_rules
from cohorts.funding_rules import RuleFigure
from cohorts.models import Enrolment, EnrolmentStatusChange

NO_SESSION_DAYS = 30
OTJ_BEHIND_LIMIT = Decimal("0.20")
OTJ_GRACE_DAYS = 28
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

    Dates are ``datetime.date`` or ``None``; hours are ``Decimal``. Off-the-job hours
    *logged* are every hour recorded except training returned to the apprentice;
    *confirmed* leaves out what waits for the coach. ``otj_behind`` is the
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
    # Confirmed: attended sessions and training logged or confirmed by the coach; of the
    # logged hours, ``otj_waiting_hours`` wait for the coach (``coaching.training``).
    otj_confirmed: Decimal = Decimal("0.00")
    otj_waiting_hours: Decimal = Decimal("0.00")

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
    def learning_since(self) -> dt.date:
        """The start, or the end of the latest finished break in learning if later."""
        return max([self.enrolment.start_date, *[b.end for b in self.breaks if not b.open and b.end]])

    @property
    def otj_judged_from(self) -> dt.date:
        """The first day the off-the-job rule is applied: ``OTJ_GRACE_DAYS`` after ``learning_since``."""
        return self.learning_since + dt.timedelta(days=OTJ_GRACE_DAYS)

    @property
    def otj_in_grace(self) -> bool:
        return self.today < self.otj_judged_from

    @property
    def otj_behind_percent(self) -> Decimal | None:
        return percent(self.otj_behind)

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]


SESSION_FIGURES = ("last_session", "last_attendance", "previous_attendance", "last_attended", "next_session",
                   "sessions_this_quarter", "otj_from_sessions")


def session_figures(enrolments, *, today: dt.date) -> dict[int, dict]:
    """Return ``{enrolment id: figures}`` from every coaching session of the enrolments, in one query.

    One pass over the sessions (window functions and filtered aggregates, PostgreSQL and
    SQLite 3.30+) instead of a correlated subquery per figure and enrolment. The figures:
    ``last_session``, ``last_attendance``, ``previous_attendance`` (sessions up to
    ``today``, newest first by date then id), ``last_attended`` (date), ``next_session``
    (the next-session date of the newest session, whatever its date),
    ``sessions_this_quarter`` (attended, from the start of the calendar quarter to
    ``today``), ``otj_from_sessions`` (hours of attended sessions, ``Decimal``). An
    enrolment without sessions is absent.
    """
    ids_sql, ids_params = enrolments.order_by().values("pk").query.sql_with_params()
    table = CoachingSession._meta.db_table
    # Names come from the model's metadata; every value is a parameter.
    sql = f"""
        WITH s AS (
            SELECT enrolment_id, date, attendance, next_session_date, otj_hours,
                   ROW_NUMBER() OVER (PARTITION BY enrolment_id ORDER BY date DESC, id DESC) AS newest,
                   CASE WHEN date <= %s THEN ROW_NUMBER() OVER (
                       PARTITION BY enrolment_id, CASE WHEN date <= %s THEN 1 ELSE 0 END
                       ORDER BY date DESC, id DESC) END AS past
            FROM {table}
            WHERE enrolment_id IN ({ids_sql})
        )
        SELECT enrolment_id,
               MAX(date) FILTER (WHERE past IS NOT NULL),
               MAX(attendance) FILTER (WHERE past = 1),
               MAX(attendance) FILTER (WHERE past = 2),
               MAX(date) FILTER (WHERE past IS NOT NULL AND attendance = %s),
               MAX(next_session_date) FILTER (WHERE newest = 1),
               COUNT(*) FILTER (WHERE attendance = %s AND date >= %s AND date <= %s),
               SUM(otj_hours) FILTER (WHERE attendance = %s)
        FROM s
        GROUP BY enrolment_id
    """  # nosec B608
    params = [today, today, *ids_params, ATTENDED, ATTENDED, quarter_start(today), today, ATTENDED]
    date_field = CoachingSession._meta.get_field("date")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = {}
    for enrolment_id, *values in rows:
        figures = dict(zip(SESSION_FIGURES, values))
        for name in ("last_session", "last_attended", "next_session"):  # SQLite returns text
            figures[name] = date_field.to_python(figures[name])
        figures["sessions_this_quarter"] = int(figures["sessions_this_quarter"] or 0)
        figures["otj_from_sessions"] = Decimal(str(figures["otj_from_sessions"] or 0)).quantize(Decimal("0.01"))
        out[enrolment_id] = figures
    return out


def enrolments_with_figures(enrolments, *, today: dt.date, related: bool = True) -> list[Enrolment]:
    """Return the enrolments of the queryset, in its order, each with the figures ``learner_risks`` reads (4 queries).

    ``related=False`` joins nothing (learner, cohort and coach are not loaded): for counts
    over many enrolments, where building those objects would cost more than the rules.

    Attributes set on each enrolment: ``sort_last_name``, ``sort_first_name``,
    ``sort_cohort_start``, ``sort_cohort_name``, ``sort_coach`` (for ``SORT_KEYS``); the
    session figures of ``session_figures`` (``None``, 0 or 0 hours without sessions);
    ``otj_from_activities`` (hours of other off-the-job training, not returned, ``Decimal``);
    ``otj_waiting_hours`` (of those, the hours waiting for the coach);
    ``last_review`` (date of the latest progress review or ``None``);
    ``review_unsigned_since`` (the date the oldest review still missing a signature was
    recorded, or ``None``: ``coaching.compliance.unsigned_reviews``).
    """
    if related:
        enrolments = enrolments.select_related("learner__team", "cohort__standard", "coach")
    rows = list(enrolments.annotate(
        sort_last_name=F("learner__last_name"),
        sort_first_name=F("learner__first_name"),
        sort_cohort_start=F("cohort__start_date"),
        sort_cohort_name=F("cohort__name"),
        sort_coach=Coalesce(NullIf(F("coach__full_name"), Value("")), F("coach__email"), Value(""),
                            output_field=CharField()),
    ))
    if not rows:
        return rows
    ids = enrolments.order_by().values("pk")
    sessions = session_figures(enrolments, today=today)
    status = OffTheJobActivity.Status
    activities = {
        enrolment: (logged, waiting)
        for enrolment, logged, waiting in OffTheJobActivity.objects.filter(enrolment__in=ids)
        .exclude(status=status.RETURNED).order_by().values("enrolment")
        .annotate(logged=Sum("hours"), waiting=Sum("hours", filter=Q(status=status.SUBMITTED)))
        .values_list("enrolment", "logged", "waiting")
    }
    unsigned = unsigned_reviews().values("pk")
    reviews = {
        enrolment: (last, unsigned_since)
        for enrolment, last, unsigned_since in ProgressReview.objects.filter(enrolment__in=ids).order_by()
        .values("enrolment").annotate(last=Max("date"), unsigned_since=Min("created_at", filter=Q(pk__in=unsigned)))
        .values_list("enrolment", "last", "unsigned_since")
    }
    no_sessions = {"last_session": None, "last_attendance": None, "previous_attendance": None,
                   "last_attended": None, "next_session": None, "sessions_this_quarter": 0,
                   "otj_from_sessions": Decimal("0.00")}
    for enrolment in rows:
        for name, value in sessions.get(enrolment.pk, no_sessions).items():
            setattr(enrolment, name, value)
        logged, waiting = activities.get(enrolment.pk, (None, None))
        enrolment.otj_from_activities = logged or Decimal("0.00")
        enrolment.otj_waiting_hours = waiting or Decimal("0.00")
        enrolment.last_review, unsigned_since = reviews.get(enrolment.pk, (None, None))
        enrolment.review_unsigned_since = timezone.localtime(unsigned_since).date() if unsigned_since else None
    return rows


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
    if risk.otj_behind is not None and risk.otj_behind > OTJ_BEHIND_LIMIT and not risk.otj_in_grace:
        reasons.append(
            RiskReason(
                "otj_behind",
                "Off-the-job hours behind",
                f"{risk.otj_logged.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} of {risk.otj_planned.hours} "
                f"hours planned to date logged "
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
    unsigned_since = getattr(risk.enrolment, "review_unsigned_since", None)
    if unsigned_since and (today - unsigned_since).days >= REVIEW_UNSIGNED_RISK_DAYS:
        reasons.append(RiskReason(
            "review_unsigned", f"Review unsigned for {REVIEW_UNSIGNED_RISK_DAYS} days",
            f"A progress review recorded on {unsigned_since.day} {unsigned_since:%B %Y} has waited "
            f"{(today - unsigned_since).days} days for signatures.",
        ))
    if risk.last_session_attendance == NO_SHOW and risk.enrolment.previous_attendance == NO_SHOW:
        reasons.append(RiskReason("no_shows", "Two no-shows in a row", "The last two sessions were no-shows."))
    return reasons


def _otj_behind(logged: Decimal, planned: Decimal) -> Decimal | None:
    if planned <= 0:
        return None
    return (planned - logged) / planned


def learner_risks(enrolments, *, today: dt.date, related: bool = True) -> list[LearnerRisk]:
    """Return a ``LearnerRisk`` for every enrolment of the queryset, in its order, with 5 queries.

    ``enrolments`` is an ``Enrolment`` queryset (already limited to what the user may
    see); ``today`` is the local date (``timezone.localdate()``). With ``related=False``
    the enrolments' learner, cohort and coach are not loaded (``enrolments_with_figures``):
    the flags and reasons are the same, but reading ``risk.learner`` would query.
    """
    rows = enrolments_with_figures(enrolments, today=today, related=related)
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
            otj_confirmed=logged - Decimal(enrolment.otj_waiting_hours),
            otj_waiting_hours=Decimal(enrolment.otj_waiting_hours),
        )
        risk.reasons = risk_reasons(risk)
        risks.append(risk)
    return risks


# --- Sorting ---------------------------------------------------------------------------

_FAR = dt.date.max


def _by_risk(r: LearnerRisk):
    e = r.enrolment
    return (not r.at_risk, -len(r.reasons), e.sort_last_name, e.sort_first_name, e.pk)


# Each reads the enrolment's ``sort_*`` annotations (``enrolments_with_figures``), not related objects.
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


@dataclass
class EnrolmentRules:
    """The funding rules' figures for one enrolment, each a ``RuleFigure``-like result with
    ``value``, ``text`` and ``source`` (``cohorts.funding_rules``): the off-the-job minimum
    (hours, ``None`` when not known), the progress review interval and the minimum duration
    (months)."""

    otj_minimum: RuleFigure
    review_interval: RuleFigure
    minimum_duration: RuleFigure


def enrolment_rules(enrolment: Enrolment, figures: LearnerRisk) -> EnrolmentRules:
    """Return the rules' figures for ``enrolment`` (its cohort's standard loaded), breaks from ``figures``. No query."""
    return EnrolmentRules(
        otj_minimum=funding_rules.otj_minimum(
            start_date=enrolment.start_date,
            planned_end_date=enrolment.planned_end_date,
            contracted_hours_per_week=enrolment.contracted_hours_per_week,
            standard_minimum_hours=enrolment.cohort.standard.otj_minimum_hours,
            prior_learning_reduction_hours=enrolment.prior_learning_reduction_hours,
            break_days=sum(b.days for b in figures.breaks if not b.open),
        ),
        review_interval=funding_rules.review_interval(start_date=enrolment.start_date),
        minimum_duration=funding_rules.minimum_duration(start_date=enrolment.start_date),
    )

