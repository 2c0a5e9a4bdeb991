"""The demo's business impact: three records the size of the model customer's.

The county council the demo is modelled on reported £3.5m of debt resolved (Revenues
and Benefits), 260+ hours a year saved in children's safeguarding, and 50% less time
refining an EV-infrastructure project (README.md). ``seed_impact_records`` writes
the same three records against the demo's teams and some of their learners; it is
called by ``demo.seed.cohorts.seed_demo`` inside its transaction.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from academy.models import Team
from learners.models import Learner
from outcomes.models import ImpactRecord

# (title, kind, value, team name, evidence, date, learners from the team)
DEMO_IMPACT = (
    (
        "Council tax and business rates debt resolved with an arrears dashboard",
        ImpactRecord.Kind.MONEY,
        Decimal("3500000"),
        "Revenues and Benefits",
        "A Power BI dashboard built by apprentices ranks arrears cases by the chance of recovery, so officers work "
        "the most recoverable first. Debt resolved in the 12 months after launch, from the revenues system's "
        "recovery reports, agreed with the Head of Revenues.",
        dt.date(2026, 3, 31),
        2,
    ),
    (
        "Safeguarding referrals report automated",
        ImpactRecord.Kind.HOURS_PER_YEAR,
        Decimal("260"),
        "Children's Safeguarding",
        "A Python pipeline replaced a weekly manual referrals report of about 5 hours: 5 hours × 52 weeks = "
        "260 hours a year, confirmed by the team manager's timesheets.",
        dt.date(2026, 6, 30),
        2,
    ),
    (
        "EV charge point siting analysis refined in half the time",
        ImpactRecord.Kind.TIME_REDUCED,
        Decimal("50"),
        "Climate and Environment (EV infrastructure)",
        "SQL and Power BI models of demand and grid capacity halved the time to refine the EV infrastructure "
        "project's charge point shortlist (from 6 weeks to 3), per the project board's minutes.",
        dt.date(2026, 9, 30),
        1,
    ),
)


def seed_impact_records(*, recorded_by=None) -> list[ImpactRecord]:
    """Replace the demo's three impact records (matched by title) and return them.

    Each is linked to its team and to the first learners of that team (by employee
    number) where the team exists; a missing team leaves the record without one.
    Queries: a few per record (3 records), whatever the data size.
    """
    titles = [row[0] for row in DEMO_IMPACT]
    ImpactRecord.objects.filter(title__in=titles).delete()
    teams = {team.name: team for team in Team.objects.filter(name__in=[row[3] for row in DEMO_IMPACT])}
    records = []
    for title, kind, value, team_name, evidence, date, learner_count in DEMO_IMPACT:
        team = teams.get(team_name)
        record = ImpactRecord.objects.create(
            title=title, kind=kind, value=value, team=team, evidence=evidence, date=date, recorded_by=recorded_by
        )
        if team is not None:
            learners = Learner.objects.filter(team=team).order_by("employee_number")[:learner_count]
            record.learners.set(list(learners))
        records.append(record)
    return records
