"""Counts and rates on DataFrames: pure functions, no I/O, tested on frames built by hand.

Every grouping (cohort, team, coach, standard, month) counts with the same functions, so a
team's rate means exactly what a cohort's does (docs/rules.md, "Achievement rate",
"Statistics").
"""
import logging

import pandas as pd
from django.conf import settings

from academy.dates import academic_year_label
from cohorts.models import AssessmentResult
from outcomes.benchmarking import match_benchmark
from outcomes.models import NationalBenchmark
from outcomes.stats import binomial_test, wilson_interval

from .frames import COUNT_FIELDS, HOUR_FIELDS, MEASURES, NO_COACH, PASSING_GRADES, YEAR_FIELDS, S, _academic_year_start

logger = logging.getLogger(__name__)


# --- Counts (pure functions on frames) -------------------------------------------------


def enrolment_counts(enrolments: pd.DataFrame) -> pd.DataFrame:
    """Return, per ``cohort_id``, enrolments by status and the planned off-the-job hours.

    Columns: ``enrolled``, ``active``, ``on_break`` (break in learning),
    ``at_gateway_or_epa`` (gateway or end-point assessment), ``completed``, ``withdrawn``
    (int64) and ``otj_hours_planned`` (float64, hours).
    """
    status = enrolments["status"]
    flags = pd.DataFrame(
        {
            "cohort_id": enrolments["cohort_id"],
            "enrolled": 1,
            "active": status.eq(S.ACTIVE),
            "on_break": status.eq(S.BREAK_IN_LEARNING),
            "at_gateway_or_epa": status.isin([S.GATEWAY, S.END_POINT_ASSESSMENT]),
            "completed": status.eq(S.COMPLETED),
            "withdrawn": status.eq(S.WITHDRAWN),
            "otj_hours_planned": enrolments["planned_otj_hours"],
        }
    )
    return flags.groupby("cohort_id").sum()


def achievement_counts(enrolments: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Return, per ``cohort_id``, ``leavers``, ``achievers`` and ``achievement_year`` for the achievement rate.

    Methodology: the DfE qualification achievement rate (QAR) for apprenticeships
    (docs/rules.md; DfE "Apprenticeship national achievement rate tables" footnotes): the
    cohort is the leavers (no longer continuing and not on a break, with an actual end
    date), counted in the academic year (1 August–31 July) of their hybrid end date,
    the later of the actual and planned end dates; achievers are leavers whose ILR
    ``Outcome`` is 1 (achieved); achievement rate = achievers ÷ leavers.

    Simplified here:

    - leavers are enrolments with status ``completed`` or ``withdrawn`` (both carry an
      actual end date by database constraint);
    - the outcome comes from the EPA result, not an ILR ``Outcome`` code: an achiever is
      a leaver whose latest EPA attempt passed (distinction, merit or pass); a completed
      enrolment with no result yet counts as not achieved;
    - a cohort's rate pools its leavers of every year instead of one rate per hybrid end
      year (an intake usually leaves within one or two years); ``achievement_year`` is the
      start year of the latest hybrid end year among the leavers (nullable Int64; NA with
      no leavers), used to pick the national figure;
    - no rounding to the nearest 10 or small-cell suppression as in national tables.
    """
    leaver = enrolments["status"].isin([S.COMPLETED, S.WITHDRAWN])
    latest = results.sort_values(["enrolment_id", "attempt"]).drop_duplicates("enrolment_id", keep="last")
    passed_ids = latest.loc[latest["grade"].isin(PASSING_GRADES), "enrolment_id"]
    actual, planned = enrolments["actual_end_date"], enrolments["planned_end_date"]
    hybrid_end = actual.where(actual > planned, planned)  # NaT > date is False: planned
    flags = pd.DataFrame(
        {
            "cohort_id": enrolments["cohort_id"],
            "leavers": leaver,
            "achievers": leaver & enrolments["id"].isin(passed_ids),
            "achievement_year": _academic_year_start(hybrid_end).where(leaver),
        }
    )
    return flags.groupby("cohort_id").agg(
        leavers=("leavers", "sum"), achievers=("achievers", "sum"), achievement_year=("achievement_year", "max")
    )


def first_attempt_counts(results: pd.DataFrame) -> pd.DataFrame:
    """Return, per ``cohort_id``, counts of first-attempt EPA results by grade and ``epa_year``.

    Only attempt 1 counts (docs/rules.md, "Statistics": rates use completed assessments, first attempt), as
    in Ofqual's first-attempt pass rate. Columns: ``epa_completed`` (enrolments with a
    first-attempt result), ``distinction``, ``merit``, ``passed``, ``failed`` (int64) and
    ``epa_year``: start year of the academic year of the latest first-attempt result date
    (nullable Int64).
    """
    first = results[results["attempt"] == 1]
    grade = first["grade"]
    G = AssessmentResult.Grade
    flags = pd.DataFrame(
        {
            "cohort_id": first["cohort_id"],
            "epa_completed": 1,
            "distinction": grade.eq(G.DISTINCTION),
            "merit": grade.eq(G.MERIT),
            "passed": grade.eq(G.PASS),
            "failed": grade.eq(G.FAIL),
            "epa_year": _academic_year_start(first["date"]),
        }
    )
    sums = {name: (name, "sum") for name in ("epa_completed", "distinction", "merit", "passed", "failed")}
    return flags.groupby("cohort_id").agg(**sums, epa_year=("epa_year", "max"))


def session_totals(sessions: pd.DataFrame) -> pd.DataFrame:
    """Return, per ``cohort_id``, attended ``coaching_sessions``, ``coaching_hours`` and ``otj_hours_logged``.

    ``coaching_hours`` is the attended minutes ÷ 60.
    """
    out = sessions.set_index("cohort_id")
    return pd.DataFrame(
        {
            "coaching_sessions": out["coaching_sessions"],
            "coaching_hours": out["minutes"] / 60,
            "otj_hours_logged": out["otj_hours_logged"],
        }
    ).groupby(level=0).sum()


def cohort_counts(cohort_ids, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Return one row per cohort id in ``cohort_ids`` with every count, hour total and year.

    Columns: ``COUNT_FIELDS`` (int64), ``HOUR_FIELDS`` (float64, hours), ``YEAR_FIELDS``
    (nullable Int64 academic-year start). A cohort with no data gets zeros and NA years.
    """
    index = pd.Index(cohort_ids, dtype="int64", name="cohort_id")
    parts = [
        enrolment_counts(frames["enrolments"]),
        achievement_counts(frames["enrolments"], frames["results"]),
        first_attempt_counts(frames["results"]),
        session_totals(frames["sessions"]),
    ]
    counts = pd.concat([p.reindex(index) for p in parts], axis=1)
    for name in COUNT_FIELDS:
        counts[name] = counts[name].fillna(0).astype("int64")
    for name in HOUR_FIELDS:
        counts[name] = counts[name].fillna(0.0).astype("float64")
    for name in YEAR_FIELDS:
        counts[name] = counts[name].astype("Int64")
    return counts[[*COUNT_FIELDS, *HOUR_FIELDS, *YEAR_FIELDS]]


def totals(counts: pd.DataFrame) -> pd.Series:
    """Return the all-cohorts row of ``counts``: counts and hours summed, years the latest."""
    row = counts[[*COUNT_FIELDS, *HOUR_FIELDS]].sum()
    for name in YEAR_FIELDS:
        row[name] = counts[name].max() if counts[name].notna().any() else pd.NA
    return row


# --- Rates ----------------------------------------------------------------------------


def _num_den_year(row, measure: str) -> tuple[int, int, int | None]:
    if measure == "achievement_rate":
        num, den, year = row["achievers"], row["leavers"], row["achievement_year"]
    elif measure == "pass_rate":
        # DfE pass rate: achievers ÷ completers (leavers who completed learning, whatever the EPA grade).
        num, den, year = row["achievers"], row["completed"], row["achievement_year"]
    elif measure == "first_attempt_pass_rate":
        num, den, year = row["distinction"] + row["merit"] + row["passed"], row["epa_completed"], row["epa_year"]
    else:  # distinction_merit_share
        num, den, year = row["distinction"] + row["merit"], row["epa_completed"], row["epa_year"]
    return int(num), int(den), (None if pd.isna(year) else int(year))


def benchmark_summary(benchmark: NationalBenchmark) -> dict:
    """Return the JSON-safe description of ``benchmark`` stored in a snapshot's rates."""
    return {
        "id": benchmark.pk,
        "rate": float(benchmark.rate),
        "academic_year": benchmark.academic_year,
        "period": benchmark.period,
        "scope": benchmark.scope,
        "scope_label": benchmark.scope_label,
        "population": benchmark.population,
        "source": benchmark.source,
        "source_url": benchmark.source_url,
    }


def rate_summary(
    *, numerator: int, denominator: int, year: str | None, benchmark: NationalBenchmark | None, small_below: int,
    benchmark_dict: dict | None = None,
) -> dict:
    """Return one measure's entry in ``CohortMetrics.rates``.

    Shape: ``numerator``, ``denominator`` (int); ``rate``, ``ci_low``, ``ci_high`` (95%
    Wilson score interval, ``outcomes.stats``) as fractions rounded to 6 dp (pages and
    exports round once more for display, so stored values must not be rounded twice), all ``None``
    when the denominator is 0 ("no results yet"); ``year`` (label such as "2025/26" or
    ``None``); ``small`` (denominator below ``small_below``, settings
    ``ACADEMY_SMALL_COHORT``); ``benchmark`` (``benchmark_summary`` or ``None``);
    ``difference`` (rate − benchmark rate, 6 dp), ``p_value`` (two-sided exact binomial
    test against the benchmark rate, 4 significant figures) and ``significant``
    (p < 0.05), each ``None`` without both a rate and a benchmark. ``benchmark_dict``:
    ``benchmark_summary(benchmark)`` already made (``snapshot_rates``' memo).
    """
    entry = {
        "numerator": numerator,
        "denominator": denominator,
        "rate": None,
        "ci_low": None,
        "ci_high": None,
        "year": year,
        "small": denominator < small_below,
        "benchmark": (benchmark_dict or benchmark_summary(benchmark)) if benchmark is not None else None,
        "difference": None,
        "p_value": None,
        "significant": None,
    }
    if denominator == 0:
        return entry
    rate = numerator / denominator
    low, high = wilson_interval(numerator, denominator)
    entry.update(rate=round(rate, 6), ci_low=round(low, 6), ci_high=round(high, 6))
    if benchmark is not None:
        national = float(benchmark.rate)
        p_value = binomial_test(numerator, denominator, national)
        entry.update(
            difference=round(rate - national, 6),
            p_value=float(f"{p_value:.4g}"),
            significant=bool(p_value < 0.05),
        )
    return entry


def snapshot_rates(
    row, *, standard_id: int | None, level: int | None, benchmarks: list[NationalBenchmark], memo: dict | None = None
) -> dict:
    """Return the ``rates`` dict (one ``rate_summary`` per measure in ``MEASURES``) for one counts row.

    ``row`` maps the ``cohort_counts`` columns to values (a Series or a dict).

    Each measure is compared with ``match_benchmark`` for the same measure, the year the
    figure is counted in, and ``standard_id``/``level`` (``None`` to skip that scope).
    ``memo`` (a dict kept for one run over the same ``benchmarks``) remembers each match,
    so thousands of cohorts of a dozen standards match benchmarks a few dozen times.
    """
    small_below = settings.ACADEMY_SMALL_COHORT
    rates = {}
    for measure in MEASURES:
        numerator, denominator, year_start = _num_den_year(row, measure)
        year = academic_year_label(year_start) if year_start is not None else None
        key = (measure, year, standard_id, level)
        if memo is not None and key in memo:
            benchmark, summary = memo[key]
        else:
            benchmark = match_benchmark(
                measure=measure, academic_year=year, standard_id=standard_id, level=level, benchmarks=benchmarks
            )
            summary = benchmark_summary(benchmark) if benchmark is not None else None
            if memo is not None:
                memo[key] = (benchmark, summary)
        rates[measure] = rate_summary(
            numerator=numerator, denominator=denominator, year=year, benchmark=benchmark, small_below=small_below,
            benchmark_dict=summary,
        )
    return rates


# --- Any grouping ---------------------------------------------------------------------


def group_counts(frames: dict[str, pd.DataFrame], *, by: str, index=None) -> pd.DataFrame:
    """Return ``cohort_counts`` grouped by another column of the frames: ``team_id``, ``coach_id`` or ``standard_id``.

    The same pure functions count every group, so a team's rates mean exactly what a
    cohort's do. ``coach_id`` NA (no coach assigned) becomes ``NO_COACH`` (0).
    ``standard_id`` is taken from the cohorts frame. ``index`` lists the groups to return
    (those with no data get zeros, e.g. teams not yet taking part); by default every group
    seen in the enrolments or results.
    """
    if by == "cohort_id":
        regrouped = frames
    else:
        regrouped = {"cohorts": frames["cohorts"]}
        standard_of = frames["cohorts"].set_index("id")["standard_id"]
        for name in ("enrolments", "results", "sessions"):
            df = frames[name]
            if by == "standard_id":
                key = df["cohort_id"].map(standard_of)
            else:
                key = df[by]
            key = key.astype("Int64").fillna(NO_COACH).astype("int64")
            regrouped[name] = df.assign(cohort_id=key)
    if index is None:
        seen = pd.concat([regrouped["enrolments"]["cohort_id"], regrouped["results"]["cohort_id"]]).unique()
        index = sorted(int(i) for i in seen)
    return cohort_counts(list(index), regrouped)


# --- Trends (pure) ---------------------------------------------------------------------


def _months(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("M")


def _month_range(*series: pd.Series) -> pd.PeriodIndex:
    """Return every month from the earliest to the latest in ``series`` (empty when all are empty)."""
    values = pd.concat([s.dropna() for s in series]) if series else pd.Series(dtype="period[M]")
    if values.empty:
        return pd.PeriodIndex([], freq="M", name="month")
    return pd.period_range(values.min(), values.max(), freq="M", name="month")


def monthly_trends(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Return intake and first-attempt results by calendar month, every month between the first and last.

    Index: ``month`` (pandas Period, monthly). Columns (int64): ``started`` (enrolments
    whose start date is in the month), ``epa_completed``, ``distinction``, ``merit``,
    ``passed``, ``failed`` (first-attempt EPA results dated in the month, as
    ``first_attempt_counts``). Empty frame (same columns) without data.
    """
    enrolments, results = frames["enrolments"], frames["results"]
    start_month = _months(enrolments["start_date"])
    first = results[results["attempt"] == 1]
    months = _month_range(start_month, _months(first["date"]))
    started = start_month.value_counts().reindex(months, fill_value=0).rename("started")
    graded = first_attempt_counts(results.assign(cohort_id=_months(results["date"]).astype(str)))
    graded.index = pd.PeriodIndex(graded.index, freq="M") if len(graded) else pd.PeriodIndex([], freq="M")
    graded = graded.reindex(months)
    out = pd.DataFrame({"started": started})
    for name in ("epa_completed", "distinction", "merit", "passed", "failed"):
        out[name] = graded[name].fillna(0).astype("int64") if len(graded) else pd.Series(dtype="int64")
    out.index.name = "month"
    return out.astype("int64")
