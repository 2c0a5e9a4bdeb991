"""The deterministic demo academy, shaped like the model customer (``python manage.py seed_demo``).

- ``cohorts``: ``seed_demo`` itself: users, teams, cohorts, learners, enrolments, status
  history, EPA results and coaching sessions, in one transaction;
- ``learners``: the progress reviews and off-the-job training ``seed_demo`` adds;
- ``impact``: the three business-impact records ``seed_demo`` adds;
- ``today``: the demo's fixed "today", ``DEMO_TODAY`` (29 November 2026).
"""
from demo.seed.cohorts import (
    REQUIRED_STANDARDS,
    DemoConflict,
    DemoError,
    DemoReport,
    DemoStandardsMissing,
    add_missing_portal_people,
    demo_logins,
    demo_present,
    seed_demo,
)
from demo.seed.impact import seed_impact_records
from demo.seed.learners import seed_reviews_and_activities
from demo.seed.today import DEMO_TODAY

__all__ = [
    "DEMO_TODAY",
    "REQUIRED_STANDARDS",
    "DemoConflict",
    "DemoError",
    "DemoReport",
    "DemoStandardsMissing",
    "add_missing_portal_people",
    "demo_logins",
    "demo_present",
    "seed_demo",
    "seed_impact_records",
    "seed_reviews_and_activities",
]
