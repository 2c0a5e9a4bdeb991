"""ESFA apprenticeship funding rules that change by year, keyed by the enrolment's start date.

An enrolment follows the rules of the academic year (1 August – 31 July) in which it
started. ``docs/rules.md`` ("Off-the-job (OTJ) training" and "Progress reviews,
duration, breaks") restates these rules with the same sources; where a newer official
source disagrees with either, the official source wins.

Every function is pure and returns a ``RuleFigure``: the value **and** the rule that
produced it (an id, a sentence for the page, and the source), so each figure shown to a
coach or lead can say how it was worked out.

Rule ids:

- ``otj-20pc-2021``: starts before 1 August 2022, at least 20% of contracted hours
  (ESFA apprenticeship funding rules 2021/22).
- ``otj-6h-2022`` / ``otj-20pc-part-time-2022``: starts from 1 August 2022, 6 hours a
  week for full-time apprentices (30 or more contracted hours a week), 20% of
  contracted hours for part-time (ESFA apprenticeship funding rules 2022/23).
- ``otj-fixed-2025``: starts from 1 August 2025, the fixed minimum published for the
  standard, reducible for prior learning but never below 187 hours (ESFA apprenticeship
  funding rules 2025/26).
- ``review-12w``: progress reviews at least every 12 weeks (ESFA apprenticeship funding
  rules 2022/23, P59–P60; applied to every start before 1 August 2025).
- ``review-3m-2025``: at least every 3 calendar months (ESFA apprenticeship funding
  rules 2025/26, rule 92).
- ``duration-12m`` / ``duration-8m-2025``: minimum duration 12 months; 8 months for
  starts from 1 August 2025 (ESFA apprenticeship funding rules 2025/26).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from academy.dates import add_months, uk_date

RULES_2022_FROM = dt.date(2022, 8, 1)
RULES_2025_FROM = dt.date(2025, 8, 1)

FULL_TIME_HOURS_PER_WEEK = Decimal(30)
OTJ_FLOOR_2025_HOURS = Decimal(187)
# Statutory annual leave (5.6 weeks a year) is not off-the-job time (docs/rules.md).
ANNUAL_LEAVE_WEEKS_PER_YEAR = Decimal("5.6")

SOURCE_2021 = "ESFA apprenticeship funding rules 2021/22 (off-the-job training: 20% of contracted hours)"
SOURCE_2022 = "ESFA apprenticeship funding rules 2022/23 (off-the-job training; progress reviews P59–P60)"
SOURCE_2025 = "ESFA apprenticeship funding rules 2025/26 (off-the-job minimum per standard; rule 92 reviews)"


@dataclass(frozen=True)
class RuleFigure:
    """A figure and the rule that produced it.

    ``value``: the figure (hours as ``Decimal``, a date, months or days as ``int``), or
    ``None`` when an input it needs is missing; ``rule_id``: a stable id (see the module
    docstring); ``text``: one sentence for the page ("How is this worked out?");
    ``source``: the published rule it comes from.
    """

    value: Any
    rule_id: str
    text: str
    source: str


def _hours(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def working_weeks(*, start_date: dt.date, planned_end_date: dt.date, break_days: int = 0) -> Decimal:
    """Return the weeks of learning between start and planned end, less breaks and annual leave.

    ``break_days`` (days on a break in learning inside the period) are taken off first;
    then 5.6 weeks a year of statutory annual leave, pro rata. Never negative.
    """
    weeks = Decimal(max((planned_end_date - start_date).days - break_days, 0)) / 7
    return weeks - weeks * ANNUAL_LEAVE_WEEKS_PER_YEAR / 52


def otj_minimum(
    *,
    start_date: dt.date,
    planned_end_date: dt.date,
    contracted_hours_per_week: Decimal | None,
    standard_minimum_hours: int | None = None,
    prior_learning_reduction_hours: Decimal = Decimal(0),
    break_days: int = 0,
) -> RuleFigure:
    """Return the minimum off-the-job hours for the whole programme (hours, ``Decimal``, 1 dp).

    - Starts before 1 August 2022: 20% of contracted hours over the working weeks
      (ESFA funding rules 2021/22).
    - From 1 August 2022: 6 hours a week over the working weeks for full-time
      apprentices (30+ contracted hours a week); 20% of contracted hours for part-time
      (ESFA funding rules 2022/23).
    - From 1 August 2025: the standard's published fixed minimum less any reduction for
      prior learning, never below 187 hours; 187 hours while the standard's figure is
      not loaded (ESFA funding rules 2025/26).

    Working weeks exclude breaks in learning and statutory annual leave
    (``working_weeks``). ``value`` is ``None`` when contracted hours are needed but not
    recorded. docs/rules.md restates these rules.
    """
    if start_date >= RULES_2025_FROM:
        reduction = Decimal(prior_learning_reduction_hours or 0)
        if standard_minimum_hours is None:
            return RuleFigure(
                OTJ_FLOOR_2025_HOURS, "otj-fixed-2025",
                "Starts from 1 August 2025 follow the fixed minimum published for the standard; it is not "
                "recorded for this standard yet, so the 187-hour floor applies.",
                SOURCE_2025,
            )
        value = max(Decimal(standard_minimum_hours) - reduction, OTJ_FLOOR_2025_HOURS)
        reduced = f", less {_hours(reduction)} hours for prior learning" if reduction else ""
        return RuleFigure(
            _hours(value), "otj-fixed-2025",
            f"Starts from 1 August 2025: the standard's published minimum of {standard_minimum_hours} hours"
            f"{reduced}, never below 187 hours.",
            SOURCE_2025,
        )
    weeks = working_weeks(start_date=start_date, planned_end_date=planned_end_date, break_days=break_days)
    if contracted_hours_per_week is None:
        rule_id = "otj-20pc-2021" if start_date < RULES_2022_FROM else "otj-6h-2022"
        return RuleFigure(
            None, rule_id,
            "Contracted hours a week are not recorded, so the minimum cannot be worked out.",
            SOURCE_2021 if start_date < RULES_2022_FROM else SOURCE_2022,
        )
    contracted = Decimal(contracted_hours_per_week)
    if start_date < RULES_2022_FROM:
        return RuleFigure(
            _hours(contracted * Decimal("0.2") * weeks), "otj-20pc-2021",
            f"Starts before 1 August 2022: 20% of {contracted} contracted hours a week over "
            f"{_hours(weeks)} working weeks (annual leave excluded).",
            SOURCE_2021,
        )
    if contracted >= FULL_TIME_HOURS_PER_WEEK:
        return RuleFigure(
            _hours(6 * weeks), "otj-6h-2022",
            f"Starts from 1 August 2022, full-time (30 or more hours a week): 6 hours a week over "
            f"{_hours(weeks)} working weeks (annual leave excluded).",
            SOURCE_2022,
        )
    return RuleFigure(
        _hours(contracted * Decimal("0.2") * weeks), "otj-20pc-part-time-2022",
        f"Starts from 1 August 2022, part-time: 20% of {contracted} contracted hours a week over "
        f"{_hours(weeks)} working weeks (annual leave excluded).",
        SOURCE_2022,
    )


def review_interval(*, start_date: dt.date) -> RuleFigure:
    """Return the longest gap allowed between progress reviews: ``("weeks", 12)`` or ``("months", 3)``.

    12 weeks for starts before 1 August 2025 (ESFA funding rules 2022/23, P59–P60);
    3 calendar months from 1 August 2025 (ESFA funding rules 2025/26, rule 92).
    docs/rules.md restates them.
    """
    if start_date >= RULES_2025_FROM:
        return RuleFigure(
            ("months", 3), "review-3m-2025",
            "Starts from 1 August 2025: a progress review at least every 3 calendar months.",
            SOURCE_2025,
        )
    return RuleFigure(
        ("weeks", 12), "review-12w",
        "Starts before 1 August 2025: a progress review at least every 12 weeks.",
        SOURCE_2022,
    )


def review_due_date(*, start_date: dt.date, last_review_date: dt.date | None) -> RuleFigure:
    """Return the date the next progress review is due: the interval after the last review, or the start.

    Uses ``review_interval``: 84 days for the 12-week rule; 3 calendar months (clamped
    to the month's end, e.g. 30 November → 28 February) for the 2025/26 rule.
    """
    interval = review_interval(start_date=start_date)
    base = last_review_date or start_date
    unit, amount = interval.value
    due = add_months(base, amount) if unit == "months" else base + dt.timedelta(weeks=amount)
    since = (
        f"the last review on {uk_date(last_review_date)}" if last_review_date else f"the start on {uk_date(start_date)}"
    )
    return RuleFigure(due, interval.rule_id, f"{interval.text} Due {amount} {unit} after {since}.", interval.source)


def minimum_duration(*, start_date: dt.date) -> RuleFigure:
    """Return the minimum duration in months: 12, or 8 for starts from 1 August 2025.

    Source: ESFA apprenticeship funding rules (12 months through 2024/25; 8 months
    in the 2025/26 rules). docs/rules.md restates it.
    """
    if start_date >= RULES_2025_FROM:
        return RuleFigure(
            8, "duration-8m-2025", "Starts from 1 August 2025: at least 8 months from start to planned end.",
            SOURCE_2025,
        )
    return RuleFigure(
        12, "duration-12m", "Starts before 1 August 2025: at least 12 months from start to planned end.",
        SOURCE_2022,
    )


def meets_minimum_duration(*, start_date: dt.date, planned_end_date: dt.date) -> bool:
    """Return whether the planned end is at least the minimum duration after the start."""
    months = minimum_duration(start_date=start_date).value
    return planned_end_date >= add_months(start_date, months)


def check_enrolment_plan(
    *,
    start_date: dt.date,
    planned_end_date: dt.date,
    planned_otj_hours: Decimal | None,
    contracted_hours_per_week: Decimal | None,
    standard_minimum_hours: int | None = None,
    prior_learning_reduction_hours: Decimal = Decimal(0),
) -> dict[str, str]:
    """Return ``{field name: message}`` for an enrolment plan that breaks the rules of its start year; ``{}`` if none.

    For enrolment forms (call from ``clean()`` and add each message to its field):
    ``planned_end_date`` shorter than ``minimum_duration``; ``planned_otj_hours`` below
    ``otj_minimum`` (when the minimum can be worked out). Each message names the rule.
    """
    errors: dict[str, str] = {}
    if start_date is None or planned_end_date is None:
        return errors
    duration = minimum_duration(start_date=start_date)
    if not meets_minimum_duration(start_date=start_date, planned_end_date=planned_end_date):
        errors["planned_end_date"] = (
            f"The planned end date must be at least {duration.value} months after the start "
            f"({uk_date(add_months(start_date, duration.value))} or later). {duration.text}"
        )
    minimum = otj_minimum(
        start_date=start_date, planned_end_date=planned_end_date, contracted_hours_per_week=contracted_hours_per_week,
        standard_minimum_hours=standard_minimum_hours,
        prior_learning_reduction_hours=prior_learning_reduction_hours or Decimal(0),
    )
    if planned_otj_hours is not None and minimum.value is not None and Decimal(planned_otj_hours) < minimum.value:
        errors["planned_otj_hours"] = (
            f"Planned off-the-job hours must be at least {minimum.value} hours. {minimum.text}"
        )
    return errors
