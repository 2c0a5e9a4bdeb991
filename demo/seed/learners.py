"""Progress reviews and off-the-job training for the demo academy (``demo.seed.cohorts.seed_demo``).

Called once by ``seed_demo`` inside its transaction, after the coaching sessions and
before the metrics run. Deterministic: every choice comes from a ``random.Random``
seeded with ``DEMO_SEED`` and the learner's employee number, and from fixed dates, never
from today's date (the demo's "today" is ``demo.seed.today.DEMO_TODAY``).

What it adds, for every demo enrolment:

- progress reviews with learner, line manager and coach, roughly every 10–11 weeks
  (or just inside 3 calendar months for starts from 1 August 2025), none during a break,
  mostly rated green;
- off-the-job training other than coaching: a training day (7 hours) about every
  four weeks and weekly self-study, shadowing or practical training, sized so that the
  learner's logged hours track a target share of the hours planned to date
  (``coaching.progress.planned_hours_to_date``): most learners within a few per cent of
  plan, completers a little ahead, leavers behind.

So that the coach's page has learners at risk for different reasons, three learners in
learning (ordered by employee number) are made so: the first is well behind on
off-the-job hours, the second's last progress review is long overdue, and the third did
not attend their last two sessions (those two demo sessions are set to no-shows with no
off-the-job hours).
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from academy.dates import add_months
from coaching.canonical import content_sha256
from coaching.models import CoachingSession, OffTheJobActivity, ProgressReview
from coaching.progress import BreakPeriod, break_periods, planned_hours_to_date
from cohorts.funding_rules import review_interval
from cohorts.models import Enrolment, EnrolmentStatusChange
from demo.seed.today import DEMO_TODAY

DEMO_SEED = 2025
TRAINING_DAY_HOURS = Decimal(7)
ACTIONS = (
    "Finish the data-cleansing exercise and share it with the line manager.",
    "Book time with the team's analyst to shadow the monthly report.",
    "Draft the work-based project proposal and agree its scope.",
    "Complete the SQL module and log the self-study hours.",
    "Prepare two portfolio pieces for the next review.",
    "Agree a protected half-day a week for off-the-job training.",
    "Present the dashboard prototype to the service manager.",
)
TRAINING_DAYS = (
    "Provider workshop: data modelling", "Provider workshop: Power BI", "Provider workshop: Python for analysis",
    "Provider workshop: statistics", "Masterclass: data protection", "Provider workshop: SQL",
)
SELF_STUDY = (
    "E-learning modules", "Reading and exercises", "Assignment work", "Portfolio write-up", "Practice project",
)
OTHER = (
    (OffTheJobActivity.Category.SHADOWING, "Shadowed the performance team's reporting cycle"),
    (OffTheJobActivity.Category.PRACTICAL, "Practical training on the council's data platform"),
    (OffTheJobActivity.Category.VISIT, "Public-sector data community event"),
)


def _weekday(day: dt.date, weekday: int) -> dt.date:
    """Return the day of the week ``weekday`` (0 = Monday) in the week of ``day``."""
    return day - dt.timedelta(days=day.weekday()) + dt.timedelta(days=weekday)


def _on_break(day: dt.date, breaks: list[BreakPeriod]) -> BreakPeriod | None:
    return next((b for b in breaks if b.start <= day < b.end or (b.open and day >= b.start)), None)


def _end_of_learning(enrolment: Enrolment, gateway_dates: dict[int, dt.date], today: dt.date) -> dt.date:
    if enrolment.actual_end_date:
        return enrolment.actual_end_date
    if enrolment.pk in gateway_dates:
        return gateway_dates[enrolment.pk]
    return today - dt.timedelta(days=1)


def _plan_reviews(rng, enrolment, breaks, end, *, stop_before=None, red=False) -> list[ProgressReview]:
    interval = review_interval(start_date=enrolment.start_date).value
    reviews = []
    base = enrolment.start_date
    while True:
        if interval[0] == "months":
            day = add_months(base, interval[1]) - dt.timedelta(days=rng.randint(3, 14))
        else:
            day = base + dt.timedelta(weeks=interval[1]) - dt.timedelta(days=rng.randint(3, 14))
        period = _on_break(day, breaks)
        if period is not None:
            if period.open:
                break
            day = period.end + dt.timedelta(days=rng.randint(5, 10))
        day = _weekday(day, min(day.weekday(), 4))
        if day > end or (stop_before and day >= stop_before):
            break
        rag = rng.choices(["green", "amber", "red"], weights=[78, 18, 4])[0]
        learner_there = True
        manager_there = rng.random() > 0.12
        reviews.append(
            ProgressReview(
                enrolment=enrolment, date=day, learner_attended=learner_there, line_manager_attended=manager_there,
                coach_attended=True, agreed_actions=" ".join(rng.sample(ACTIONS, 2)), rag=rag,
                notes="" if manager_there else "Line manager sent apologies; actions shared by email.",
                recorded_by=enrolment.coach,
            )
        )
        base = day
    if red and reviews:
        reviews[-1].rag = ProgressReview.Rag.RED
    return reviews


def _plan_activities(rng, enrolment, breaks, end, sessions, ratio: float, today) -> list[OffTheJobActivity]:
    """Return activities that keep logged hours near ``ratio`` × planned to date, week by week."""
    activities: list[OffTheJobActivity] = []
    sessions = sorted(sessions)
    session_index, session_hours, activity_hours = 0, Decimal(0), Decimal(0)
    closed = [b for b in breaks if not b.open]
    if enrolment.status in (Enrolment.Status.COMPLETED, Enrolment.Status.GATEWAY):
        # Completers reach their whole plan by gateway, so aim at the plan spread up to then.
        at_end = planned_hours_to_date(
            planned_hours=enrolment.planned_otj_hours, start_date=enrolment.start_date,
            planned_end_date=enrolment.planned_end_date, breaks=closed, today=end,
        ).hours
        if at_end > 0:
            ratio = ratio * float(Decimal(enrolment.planned_otj_hours) / at_end)
    week = _weekday(enrolment.start_date, 0) + dt.timedelta(weeks=1)
    learning_week = 0
    while week <= end:
        if _on_break(week, breaks) is None:
            learning_week += 1
            while session_index < len(sessions) and sessions[session_index][0] <= week + dt.timedelta(days=6):
                session_hours += sessions[session_index][1]
                session_index += 1
            open_breaks = [BreakPeriod(b.start, min(b.end, week), True) for b in breaks if b.open and b.start < week]
            planned = planned_hours_to_date(
                planned_hours=enrolment.planned_otj_hours, start_date=enrolment.start_date,
                planned_end_date=enrolment.planned_end_date, breaks=closed + open_breaks,
                today=week + dt.timedelta(days=7),
            ).hours
            deficit = planned * Decimal(str(ratio)) - session_hours - activity_hours
            planned_days = []
            if learning_week % 4 == 2 and deficit >= 5:
                planned_days.append((_weekday(week, 2), TRAINING_DAY_HOURS,
                                     OffTheJobActivity.Category.TRAINING_DAY, rng.choice(TRAINING_DAYS)))
                deficit -= TRAINING_DAY_HOURS
            if deficit >= 1:
                hours = min(deficit, Decimal(rng.choice([4, 5, 6, 7, 8])))
                hours = max((hours * 2).to_integral_value() / 2, Decimal("0.5"))
                category, description = (
                    rng.choice(OTHER) if rng.random() < 0.12
                    else (OffTheJobActivity.Category.SELF_STUDY, rng.choice(SELF_STUDY))
                )
                planned_days.append((_weekday(week, rng.choice([1, 3, 4])), hours, category, description))
            for day, hours, category, description in planned_days:
                if enrolment.start_date <= day <= min(end, today):
                    activities.append(
                        OffTheJobActivity(
                            enrolment=enrolment, date=day, category=category, hours=hours,
                            description=description, recorded_by=enrolment.coach,
                        )
                    )
                    activity_hours += hours
        week += dt.timedelta(weeks=1)
    return activities


def seed_reviews_and_activities(*, enrolments, today: dt.date = DEMO_TODAY) -> tuple[int, int]:
    """Add progress reviews and off-the-job activities to the demo ``enrolments``; return (reviews, activities).

    ``enrolments``: the demo's freshly created ``Enrolment`` rows; ``today``: the demo's
    fixed today (``DEMO_TODAY``). Writes with ``bulk_create`` (no history rows, as for
    the demo's sessions). Also sets the last two sessions of one learner in learning to
    no-shows (see the module docstring). Four queries plus the bulk inserts.
    """
    ids = [e.pk for e in enrolments]
    rows = list(
        Enrolment.objects.filter(pk__in=ids).select_related("learner", "coach").order_by("learner__employee_number")
    )
    changes: dict[int, list] = {}
    gateway_dates: dict[int, dt.date] = {}
    for enrolment_id, to_status, day in (
        EnrolmentStatusChange.objects.filter(enrolment_id__in=ids)
        .order_by("enrolment_id", "effective_date", "id")
        .values_list("enrolment_id", "to_status", "effective_date")
    ):
        changes.setdefault(enrolment_id, []).append((to_status, day))
        if to_status == Enrolment.Status.GATEWAY:
            gateway_dates[enrolment_id] = day
    sessions: dict[int, list] = {}
    for enrolment_id, pk, day, hours, attendance in (
        CoachingSession.objects.filter(enrolment_id__in=ids)
        .order_by("enrolment_id", "date", "id")
        .values_list("enrolment_id", "pk", "date", "otj_hours", "attendance")
    ):
        sessions.setdefault(enrolment_id, []).append((day, hours, pk, attendance))

    active = [e for e in rows if e.status == Enrolment.Status.ACTIVE]
    behind = active[0].pk if active else None
    overdue = active[1].pk if len(active) > 1 else None
    no_shows = active[2].pk if len(active) > 2 else None

    no_show_ids = []
    if no_shows is not None:
        past = [s for s in sessions.get(no_shows, []) if s[0] <= today]
        no_show_ids = [s[2] for s in past[-2:]]
        sessions[no_shows] = [
            (day, Decimal(0) if pk in no_show_ids else hours, pk, attendance)
            for day, hours, pk, attendance in sessions[no_shows]
        ]
        CoachingSession.objects.filter(pk__in=no_show_ids).update(
            attendance=CoachingSession.Attendance.NO_SHOW, otj_hours=0,
            notes="Learner did not attend; line manager informed.",
        )

    reviews: list[ProgressReview] = []
    activities: list[OffTheJobActivity] = []
    for enrolment in rows:
        rng = random.Random(f"{DEMO_SEED}:{enrolment.learner.employee_number}")
        breaks = break_periods(changes.get(enrolment.pk, []), today=today)
        end = _end_of_learning(enrolment, gateway_dates, today)
        if enrolment.pk == behind:
            ratio = 0.62
        elif enrolment.status in (Enrolment.Status.COMPLETED, Enrolment.Status.GATEWAY):
            ratio = rng.uniform(1.0, 1.08)
        elif enrolment.status == Enrolment.Status.WITHDRAWN:
            ratio = rng.uniform(0.55, 0.85)
        else:
            ratio = rng.uniform(0.94, 1.06)
        stop_before = today - dt.timedelta(days=150) if enrolment.pk == overdue else None
        reviews += _plan_reviews(
            rng, enrolment, breaks, end, stop_before=stop_before, red=enrolment.pk in (behind, no_shows)
        )
        attended = [(day, hours) for day, hours, _, attendance in sessions.get(enrolment.pk, [])
                    if attendance == CoachingSession.Attendance.ATTENDED]
        activities += _plan_activities(rng, enrolment, breaks, end, attended, ratio, today)
    for review in reviews:  # bulk_create skips save(), which stores the hash of the agreed content
        review.content_sha256 = content_sha256("progress_review", review)
    ProgressReview.objects.bulk_create(reviews, batch_size=500)
    OffTheJobActivity.objects.bulk_create(activities, batch_size=500)
    return len(reviews), len(activities)
