"""The demo academy's plan: everything decided from the seed before anything is written.

Constants (the council's teams, the two standards, the cohorts, withdrawals and breaks) and
``_plan()``, which returns one ``_Learner`` a demo learner with their enrolment, grade and
coaching sessions; ``demo.seed.cohorts.seed_demo`` writes it.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from academy.dates import add_months
from academy.models import User
from academy.validators import uln_check_digit_ok
from coaching.models import CoachingSession
from cohorts.models import Enrolment
from demo.seed.today import DEMO_TODAY

DEMO_SEED = 2024
DEMO_PROVIDER = "Northgate Digital Skills Ltd"
# Invented: UKPRNs issued so far begin 100…; 1999… keeps clear of real providers.
DEMO_UKPRN = "19990417"
LEARNER_EMAIL_DOMAIN = "council.example.org"
DATA_TECHNICIAN = "ST0795"
DATA_ANALYST = "ST0118"
REQUIRED_STANDARDS = (DATA_ANALYST, DATA_TECHNICIAN)
# Demo durations (months to planned end), fixed so the demo does not shift when the
# reference data changes: Data Technician ~18 months, Data Analyst ~24 months.
DURATION_MONTHS = {DATA_TECHNICIAN: 18, DATA_ANALYST: 24}
SESSION_BATCH_SIZE = 500

STAFF = (
    # (email, role, full name)
    ("lead@example.org", User.Role.LEAD, "Sarah Whitfield"),
    ("head@example.org", User.Role.HEAD_OF_DATA, "David Marsh"),
    ("coach@example.org", User.Role.COACH, "Priya Shah"),
    ("coach2@example.org", User.Role.COACH, "Gareth Evans"),
    ("coach3@example.org", User.Role.COACH, "Hannah Okafor"),
)

# The apprentice and the line manager who sign in (portal): the first learner in learning
# coached by coach@example.org, and the line manager of that learner's team.
DEMO_APPRENTICE_EMAIL = "learner@example.org"
DEMO_LINE_MANAGER_EMAIL = "manager@example.org"

TEAMS = (
    # (name, directorate, weight for learners beyond the first in each team)
    ("Revenues and Benefits", "Resources", 5),
    ("Adult Social Care", "Adults and Health", 5),
    ("Children's Safeguarding", "Children's Services", 5),
    ("Highways", "Place", 2),
    ("Public Health", "Adults and Health", 4),
    ("Libraries", "Communities", 1),
    ("Waste Management", "Place", 2),
    ("Trading Standards", "Communities", 1),
    ("Finance", "Resources", 4),
    ("HR", "Resources", 2),
    ("ICT", "Resources", 3),
    ("Planning", "Place", 2),
    ("Property Services", "Resources", 1),
    ("Transport", "Place", 2),
    ("Education", "Children's Services", 3),
    ("Legal Services", "Resources", 1),
    ("Procurement", "Resources", 1),
    ("Climate and Environment (EV infrastructure)", "Place", 3),
    ("Customer Services", "Communities", 2),
    ("Communications", "Chief Executive's Office", 1),
    ("Registration Services", "Communities", 1),
    ("Archives", "Communities", 1),
    ("Emergency Planning", "Chief Executive's Office", 1),
    ("Fire and Rescue Support", "Fire and Rescue", 1),
    ("Housing", "Place", 1),
    ("Economic Development", "Place", 2),
    ("Democratic Services", "Chief Executive's Office", 1),
)

FIRST_NAMES = (
    "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily", "Thomas", "Sophie",
    "James", "Grace", "William", "Lily", "Daniel", "Chloe", "Samuel", "Ella", "Joseph", "Freya",
    "Matthew", "Evie", "Ryan", "Hannah", "Liam", "Megan", "Callum", "Rebecca", "Owen", "Niamh",
    "Rhys", "Bethan", "Connor", "Zara", "Aidan", "Aisha", "Imran", "Priya", "Arjun", "Fatima",
    "Kwame", "Adaeze", "Tomasz", "Agnieszka", "Ewan", "Morag", "Declan", "Siobhan", "Nathan", "Holly",
    "Luke", "Jessica", "Adam", "Laura", "Craig", "Gemma", "Stuart", "Claire", "Mark", "Rachel",
)
LAST_NAMES = (
    "Ashworth", "Bennett", "Bradshaw", "Carter", "Chapman", "Clarke", "Davies", "Dawson", "Ellis", "Fletcher",
    "Foster", "Gallagher", "Gibson", "Hargreaves", "Harris", "Hayward", "Holloway", "Hughes", "Jennings", "Kaur",
    "Kenyon", "Lambert", "Lawson", "Marsden", "Mitchell", "Morgan", "Nolan", "Osei", "Parry", "Patel",
    "Pearce", "Pritchard", "Quinn", "Rahman", "Reid", "Rowe", "Saunders", "Sharma", "Shaw", "Stokes",
    "Sutcliffe", "Thornton", "Turner", "Wainwright", "Walsh", "Webb", "Whittaker", "Wilkinson", "Yates", "Young",
)

EARLY_TOPICS = ("Python basics", "SQL queries", "Excel to Power BI", "Data ethics and GDPR", "Data cleansing")
MIDDLE_TOPICS = (
    "Power BI dashboards", "SQL joins and window functions", "Python with pandas", "Data visualisation",
    "Descriptive statistics", "Work-based project", "Stakeholder communication", "Data quality",
)
LATE_TOPICS = ("Portfolio", "EPA preparation", "Project report", "Professional discussion practice")


@dataclass(frozen=True)
class _Cohort:
    name: str
    standard: str
    start: dt.date
    # outcomes for its learners, in order: completed, withdrawn, break, gateway, active
    outcomes: tuple[str, ...]


COHORTS = (
    _Cohort("Data Technician L3 — January 2024", DATA_TECHNICIAN, dt.date(2024, 1, 15),
            ("completed",) * 10 + ("withdrawn",)),
    _Cohort("Data Analyst L4 — January 2024", DATA_ANALYST, dt.date(2024, 1, 22),
            ("completed",) * 13 + ("withdrawn",)),
    _Cohort("Data Technician L3 — April 2024", DATA_TECHNICIAN, dt.date(2024, 4, 15),
            ("completed",) * 12 + ("withdrawn",)),
    _Cohort("Data Analyst L4 — September 2024", DATA_ANALYST, dt.date(2024, 9, 16),
            ("completed",) * 15 + ("gateway", "break")),
    _Cohort("Data Analyst L4 — March 2025", DATA_ANALYST, dt.date(2025, 3, 17),
            ("active",) * 3 + ("break",)),
    _Cohort("Data Technician L3 — September 2025", DATA_TECHNICIAN, dt.date(2025, 9, 15),
            ("active",) * 2 + ("withdrawn",)),
)

WITHDRAWALS = {
    # cohort name: (ILR WithdrawReason, note)
    "Data Technician L3 — January 2024": (
        Enrolment.WithdrawalReason.PERSONAL, "Left the council for a post elsewhere."
    ),
    "Data Analyst L4 — January 2024": (Enrolment.WithdrawalReason.REDUNDANT, "Post deleted in a service restructure."),
    "Data Technician L3 — April 2024": (Enrolment.WithdrawalReason.HEALTH, "Long-term illness; could not continue."),
    "Data Technician L3 — September 2025": (
        Enrolment.WithdrawalReason.OTHER, "Moved to a role with no data work; employer withdrew support."
    ),
}
CURRENT_BREAKS = {
    # cohort name: (break start, reason)
    "Data Analyst L4 — September 2024": (
        dt.date(2026, 5, 11), "Long-term illness; break agreed with the employer, intends to return."
    ),
    "Data Analyst L4 — March 2025": (dt.date(2026, 8, 3), "Parental leave; returning in 2027."),
}
GATEWAY_DATE = dt.date(2026, 11, 9)


def _weekday(day: dt.date) -> dt.date:
    """Move a Saturday back to Friday and a Sunday on to Monday."""
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def make_uln(rng: random.Random) -> str:
    """Return a random valid ULN: nine random digits (first not 0) plus the DD01 check digit."""
    while True:
        digits = str(rng.randint(100_000_000, 999_999_999))
        remainder = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1))) % 11
        if remainder:  # r = 0 has no valid check digit (ILR DD01)
            uln = digits + str(10 - remainder)
            if uln != "9999999999" and uln_check_digit_ok(uln):
                return uln


def planned_otj_hours(start: dt.date, planned_end: dt.date) -> Decimal:
    """Return the planned off-the-job hours for a full-time (37 h/week) learner.

    6 hours a week over the programme's weeks less statutory annual leave (5.6 weeks a
    year, pro rata), rounded to whole hours: the ESFA funding rule for full-time starts
    from 1 August 2022 (docs/rules.md, "Off-the-job training"). Starts from 1 August 2025
    keep the same plan, which is above the 187-hour floor of the 2025/26 rules.
    """
    weeks = (planned_end - start).days / 7
    working_weeks = weeks - 5.6 * weeks / 52
    return Decimal(round(6 * working_weeks))


# --- The plan: everything decided from the seed, before touching the database ----------


@dataclass
class _Session:
    date: dt.date
    duration_minutes: int
    mode: str
    attendance: str
    topics: str
    notes: str
    next_session_date: dt.date | None = None


@dataclass
class _Learner:
    first_name: str
    last_name: str
    email: str
    employee_number: str
    uln: str
    team: str
    line_manager_name: str
    line_manager_email: str
    cohort: _Cohort | None = None
    outcome: str = ""
    coach_email: str = ""
    start: dt.date | None = None
    planned_end: dt.date | None = None
    planned_otj: Decimal = Decimal(0)
    actual_end: dt.date | None = None
    status: str = ""
    withdrawal_reason: str = ""
    # (from, to, effective date, reason)
    history: list[tuple[str, str, dt.date, str]] = field(default_factory=list)
    # (grade, date, attempt)
    results: list[tuple[str, dt.date, int]] = field(default_factory=list)
    # [start, end) periods with no coaching: breaks in learning
    breaks: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    sessions: list[_Session] = field(default_factory=list)


def _plan() -> list[_Learner]:
    """Return the 62 demo learners with their enrolment, history, results and sessions.

    Pure: depends only on ``DEMO_SEED`` and the constants above, so two runs give the
    same plan.
    """
    rng = random.Random(DEMO_SEED)

    # People: unique first.last pairs, so emails are unique.
    pairs: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    n_learners = sum(len(c.outcomes) for c in COHORTS)
    while len(pairs) < n_learners:
        pair = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        if pair not in seen:
            seen.add(pair)
            pairs.append(pair)
    employee_numbers = [f"{n:06d}" for n in rng.sample(range(1000, 99_999), n_learners)]
    ulns: list[str] = []
    while len(ulns) < n_learners:
        uln = make_uln(rng)
        if uln not in ulns:
            ulns.append(uln)

    # Teams: one learner each, the rest weighted towards the big services.
    team_names = [name for name, _, _ in TEAMS]
    weights = [weight for _, _, weight in TEAMS]
    teams = team_names + rng.choices(team_names, weights=weights, k=n_learners - len(team_names))
    rng.shuffle(teams)
    managers = {}
    for name in team_names:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        managers[name] = (f"{first} {last}", f"{first}.{last}@{LEARNER_EMAIL_DOMAIN}".lower())

    learners = [
        _Learner(
            first_name=first,
            last_name=last,
            email=f"{first}.{last}@{LEARNER_EMAIL_DOMAIN}".lower(),
            employee_number=employee_numbers[i],
            uln=ulns[i],
            team=teams[i],
            line_manager_name=managers[teams[i]][0],
            line_manager_email=managers[teams[i]][1],
        )
        for i, (first, last) in enumerate(pairs)
    ]

    # Cohorts and outcomes, in cohort order; coaches round-robin so each has a third.
    coach_emails = [email for email, role, _ in STAFF if role == User.Role.COACH]
    i = 0
    for cohort in COHORTS:
        for outcome in cohort.outcomes:
            learner = learners[i]
            learner.cohort, learner.outcome = cohort, outcome
            learner.coach_email = coach_emails[i % len(coach_emails)]
            i += 1

    _plan_grades(rng, learners)
    # Two completers had a break in learning on the way (planned end moved by its length).
    past_break = {
        "Data Analyst L4 — January 2024": rng.choice(
            [x for x in learners if x.cohort.name == "Data Analyst L4 — January 2024" and x.outcome == "completed"]
        ),
        "Data Technician L3 — April 2024": rng.choice(
            [x for x in learners if x.cohort.name == "Data Technician L3 — April 2024" and x.outcome == "completed"]
        ),
    }
    for learner in learners:
        _plan_enrolment(rng, learner, had_break=any(learner is x for x in past_break.values()))
        _plan_sessions(rng, learner)
    return learners


def _plan_grades(rng: random.Random, learners: list[_Learner]) -> None:
    """Share out 27 distinction, 19 merit, 3 pass and 1 fail first-attempt grades.

    Merit goes only to Data Analyst learners: some assessment plans grade only
    fail/pass/distinction (docs/rules.md), so the demo never gives a Data Technician a merit.
    The fail is in the earliest cohort so the resit (attempt 2, a pass) fits before
    ``DEMO_TODAY``.
    """
    completers = [x for x in learners if x.outcome == "completed"]
    analysts = [x for x in completers if x.cohort.standard == DATA_ANALYST]
    technicians = [x for x in completers if x.cohort.standard == DATA_TECHNICIAN]
    earliest = [x for x in technicians if x.cohort is COHORTS[0]]
    failer = rng.choice(earliest)
    failer.results = [("fail", None, 1), ("pass", None, 2)]
    others = [x for x in technicians if x is not failer]
    tech_grades = ["pass"] * 3 + ["distinction"] * (len(others) - 3)
    rng.shuffle(tech_grades)
    analyst_grades = ["merit"] * 19 + ["distinction"] * (len(analysts) - 19)
    rng.shuffle(analyst_grades)
    for learner, grade in [*zip(others, tech_grades), *zip(analysts, analyst_grades)]:
        learner.results = [(grade, None, 1)]
    grades = [r[0] for x in completers for r in x.results if r[2] == 1]
    counts = tuple(grades.count(g) for g in ("distinction", "merit", "pass", "fail"))
    if counts != (27, 19, 3, 1):
        raise RuntimeError("The demo's grade plan must give 27 distinction, 19 merit, 3 pass and 1 fail.")


def _plan_enrolment(rng: random.Random, learner: _Learner, *, had_break: bool) -> None:
    """Fill dates, status, history and result dates for one learner's enrolment."""
    cohort = learner.cohort
    start = cohort.start
    planned_end = add_months(start, DURATION_MONTHS[cohort.standard])
    history = [("", Enrolment.Status.ACTIVE, start, f"Enrolled on {cohort.name}.")]
    learner.start = start
    # Planned on the programme's length; a break moves the end date, not the hours.
    learner.planned_otj = planned_otj_hours(start, planned_end)

    if had_break:
        break_start = _weekday(start + dt.timedelta(days=rng.randint(210, 300)))
        break_end = break_start + dt.timedelta(weeks=rng.randint(8, 12))
        learner.breaks.append((break_start, break_end))
        planned_end += break_end - break_start  # docs/rules.md: the planned end moves by the break's length
        history += [
            (Enrolment.Status.ACTIVE, Enrolment.Status.BREAK_IN_LEARNING, break_start,
             "Caring responsibilities; agreed with the employer, intends to return."),
            (Enrolment.Status.BREAK_IN_LEARNING, Enrolment.Status.ACTIVE, break_end,
             "Returned to learning; planned end date moved by the length of the break."),
        ]
    learner.planned_end = planned_end

    if learner.outcome == "completed":
        gateway = _weekday(planned_end - dt.timedelta(days=rng.randint(5, 75)))
        epa_start = gateway + dt.timedelta(days=14)
        results = []
        day = epa_start
        for grade, _, attempt in learner.results:
            latest = DEMO_TODAY - dt.timedelta(days=3)
            day = _weekday(min(day + dt.timedelta(days=rng.randint(21, 70)), latest))
            if day > latest:  # a Sunday moved on to Monday past the cap
                day -= dt.timedelta(days=3)
            results.append((grade, day, attempt))
        learner.results = results
        final_grade = results[-1][0]
        learner.actual_end = gateway
        learner.status = Enrolment.Status.COMPLETED
        history += [
            (Enrolment.Status.ACTIVE, Enrolment.Status.GATEWAY, gateway,
             "Gateway agreed by employer and provider: portfolio and English and maths evidence complete."),
            (Enrolment.Status.GATEWAY, Enrolment.Status.END_POINT_ASSESSMENT, epa_start,
             "End-point assessment booked with the assessment organisation."),
            (Enrolment.Status.END_POINT_ASSESSMENT, Enrolment.Status.COMPLETED, results[-1][1],
             f"Achieved: {final_grade}" + (" at the resit." if len(results) > 1 else ".")),
        ]
    elif learner.outcome == "withdrawn":
        reason, note = WITHDRAWALS[cohort.name]
        end = _weekday(start + dt.timedelta(days=rng.randint(150, 330)))
        learner.actual_end = end
        learner.status = Enrolment.Status.WITHDRAWN
        learner.withdrawal_reason = reason
        history.append((Enrolment.Status.ACTIVE, Enrolment.Status.WITHDRAWN, end, note))
    elif learner.outcome == "break":
        break_start, reason = CURRENT_BREAKS[cohort.name]
        learner.breaks.append((break_start, DEMO_TODAY + dt.timedelta(days=1)))
        learner.status = Enrolment.Status.BREAK_IN_LEARNING
        history.append((Enrolment.Status.ACTIVE, Enrolment.Status.BREAK_IN_LEARNING, break_start, reason))
    elif learner.outcome == "gateway":
        learner.status = Enrolment.Status.GATEWAY
        history.append((Enrolment.Status.ACTIVE, Enrolment.Status.GATEWAY, GATEWAY_DATE,
                        "Gateway agreed by employer and provider; EPA to be booked."))
    else:
        learner.status = Enrolment.Status.ACTIVE
    learner.history = history


def _plan_sessions(rng: random.Random, learner: _Learner) -> None:
    """Plan roughly monthly one-to-ones from the start to the end of learning (or ``DEMO_TODAY``).

    Mostly attended (about 86%), some cancelled (10%) and a few no-shows (4%); 45–90
    minutes; video, in person or phone; topics move from foundations to EPA preparation.
    """
    if learner.status == Enrolment.Status.GATEWAY:
        last = GATEWAY_DATE
    elif learner.actual_end:
        last = learner.actual_end
    else:
        last = DEMO_TODAY - dt.timedelta(days=1)
    span = max((last - learner.start).days, 1)
    sessions: list[_Session] = []
    day = learner.start + dt.timedelta(days=rng.randint(7, 20))
    while True:
        day = _weekday(day)
        if day > last:
            break
        if not any(b_start <= day < b_end for b_start, b_end in learner.breaks):
            progress = (day - learner.start).days / span
            pool = EARLY_TOPICS if progress < 0.3 else MIDDLE_TOPICS if progress < 0.8 else LATE_TOPICS
            topics = rng.sample(pool, rng.randint(1, 2))
            attendance = rng.choices(
                [CoachingSession.Attendance.ATTENDED, CoachingSession.Attendance.CANCELLED,
                 CoachingSession.Attendance.NO_SHOW],
                weights=[86, 10, 4],
            )[0]
            if attendance == CoachingSession.Attendance.ATTENDED:
                notes = f"Worked on: {topics[0]}. Agreed actions for the work-based project before next time."
            elif attendance == CoachingSession.Attendance.CANCELLED:
                notes = rng.choice(
                    ["Cancelled by the learner: service pressures; rearranged.", "Cancelled by the coach: illness."]
                )
            else:
                notes = "Learner did not attend; line manager informed."
            sessions.append(
                _Session(
                    date=day,
                    duration_minutes=rng.choice([45, 60, 60, 60, 75, 90]),
                    mode=rng.choices(
                        [CoachingSession.Mode.VIDEO, CoachingSession.Mode.IN_PERSON, CoachingSession.Mode.PHONE],
                        weights=[50, 35, 15],
                    )[0],
                    attendance=attendance,
                    topics=", ".join(topics),
                    notes=notes,
                )
            )
        day = day + dt.timedelta(days=rng.randint(26, 35))
    for current, following in zip(sessions, sessions[1:]):
        current.next_session_date = following.date
    if sessions and learner.status == Enrolment.Status.ACTIVE:
        sessions[-1].next_session_date = _weekday(sessions[-1].date + dt.timedelta(days=28))
    learner.sessions = sessions


def demo_apprentice(plan: list[_Learner]) -> _Learner:
    """Return the planned learner who signs in as ``DEMO_APPRENTICE_EMAIL``: the first in learning coached by coach@."""
    return next(x for x in plan if x.status == "active" and x.coach_email == "coach@example.org")

