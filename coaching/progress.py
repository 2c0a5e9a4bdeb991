"""Progress arithmetic: breaks in learning, off-the-job hours planned to date, review due dates.

Pure functions on dates and numbers (no queries), so the coach's page and the reminder
job can work out every learner from rows they have already loaded.

Break periods come from ``cohorts.EnrolmentStatusChange`` rows: a change to
``break_in_learning`` opens a break on its ``effective_date``; the next change to any
other status (normally back to ``active``) closes it on that change's date. A break
still open runs to ``today``. docs/rules.md ("Progress reviews, duration, breaks"): the
planned end date moves by the length of the break.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from academy.dates import uk_date
from cohorts.funding_rules import RuleFigure, review_due_date

BREAK = "break_in_learning"


@dataclass(frozen=True)
class BreakPeriod:
    """A break in learning from ``start`` (first day off) to ``end`` (the day learning resumed), half-open.

    ``open`` is True when no return has been recorded; ``end`` is then the ``today``
    the period was worked out for.
    """

    start: dt.date
    end: dt.date
    open: bool = False

    @property
    def days(self) -> int:
        return max((self.end - self.start).days, 0)


def break_periods(changes: Iterable[tuple[str, dt.date]], *, today: dt.date) -> list[BreakPeriod]:
    """Return the breaks in learning described by status changes, oldest first.

    ``changes`` is an iterable of ``(to_status, effective_date)`` in the order they
    happened (e.g. ``EnrolmentStatusChange`` ordered by ``changed_at, id``). A change to
    ``break_in_learning`` opens a break; the next change to another status closes it; a
    second "break" change while one is open is ignored. An open break ends at ``today``
    (or at its start, if it starts after ``today``).
    """
    periods: list[BreakPeriod] = []
    opened: dt.date | None = None
    for to_status, day in changes:
        if to_status == BREAK:
            if opened is None:
                opened = day
        elif opened is not None:
            periods.append(BreakPeriod(opened, max(day, opened)))
            opened = None
    if opened is not None:
        periods.append(BreakPeriod(opened, max(today, opened), open=True))
    return periods


def _overlap_days(period: BreakPeriod, start: dt.date, end: dt.date) -> int:
    """Days of ``period`` inside the half-open window ``[start, end)``."""
    return max((min(period.end, end) - max(period.start, start)).days, 0)


@dataclass(frozen=True)
class PlannedToDate:
    """Off-the-job hours planned to date and how they were worked out.

    ``hours`` (``Decimal``, 1 dp); ``learning_days_elapsed`` and ``learning_days_total``
    (break days left out); ``text`` for the page.
    """

    hours: Decimal
    learning_days_elapsed: int
    learning_days_total: int
    text: str


def planned_hours_to_date(
    *,
    planned_hours: Decimal,
    start_date: dt.date,
    planned_end_date: dt.date,
    breaks: list[BreakPeriod],
    today: dt.date,
) -> PlannedToDate:
    """Return the off-the-job hours planned by ``today``: the plan spread evenly over the planned duration.

    Elapsed learning days = days from ``start_date`` to ``today`` (capped at the
    planned end) less days on a break in that window: the plan pauses during a break.
    Total learning days = days from start to planned end less the days of *closed*
    breaks (the planned end has already moved by their length, docs/rules.md); an open break
    is not taken off the total, because the planned end moves only when the learner
    returns. Hours planned to date = ``planned_hours`` × elapsed ÷ total, between 0 and
    ``planned_hours``, rounded half up to 0.1 hour.

    Example: 365 hours over 365 days, 100 days in with a finished 30-day break (planned
    end moved by 30 days): 365 × 70 ÷ 365 = 70.0 hours.
    """
    planned_hours = Decimal(planned_hours)
    window_end = min(max(today, start_date), planned_end_date)
    elapsed = (window_end - start_date).days - sum(_overlap_days(b, start_date, window_end) for b in breaks)
    total = (planned_end_date - start_date).days - sum(
        _overlap_days(b, start_date, planned_end_date) for b in breaks if not b.open
    )
    elapsed = max(elapsed, 0)
    if total <= 0:
        hours = planned_hours if today >= planned_end_date else Decimal(0)
    else:
        hours = min(planned_hours * elapsed / total, planned_hours)
    hours = hours.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    paused = sum(b.days for b in breaks)
    text = (
        f"{planned_hours.normalize():f} planned hours spread evenly from {uk_date(start_date)} to "
        f"{uk_date(planned_end_date)}: {elapsed} of {max(total, 0)} learning days have passed"
        + (f" (the plan paused for {paused} days on a break in learning)" if paused else "")
        + "."
    )
    return PlannedToDate(hours, elapsed, max(total, 0), text)


def review_due(
    *, start_date: dt.date, last_review_date: dt.date | None, breaks: list[BreakPeriod] | None = None
) -> RuleFigure:
    """Return the next progress review's due date as a ``RuleFigure`` (see ``funding_rules.review_due_date``).

    A break in learning that starts before the due date pushes it back by the days of
    the break that fall after the last review (or start): no review is due while the
    learner is away. ``value`` is a ``datetime.date``.
    """
    figure = review_due_date(start_date=start_date, last_review_date=last_review_date)
    base = last_review_date or start_date
    due = figure.value
    for period in sorted(breaks or [], key=lambda b: b.start):
        if period.start < due and period.end > base:
            due += dt.timedelta(days=_overlap_days(period, base, period.end))
    if due == figure.value:
        return figure
    return RuleFigure(
        due, figure.rule_id, f"{figure.text} Moved to {uk_date(due)} by a break in learning.", figure.source
    )


def quarter_start(day: dt.date) -> dt.date:
    """Return the first day of the calendar quarter containing ``day`` (1 January, 1 April, 1 July, 1 October)."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
