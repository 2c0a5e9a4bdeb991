"""Cohort metrics: counts, rates and benchmark comparisons, written as ``CohortMetrics`` snapshots.

The job reads each table with one ``.values_list()`` query into a pandas DataFrame with
explicit dtypes, computes every cohort at once with vectorised groupbys (no Python loop
over enrolments), and upserts one snapshot per cohort plus the all-cohorts row.
The pure functions here take and return DataFrames, so they are tested without I/O;
``recompute_metrics`` is the only function that touches the database.

Frames (dtypes fixed by ``_frame``):

- cohorts: ``id``, ``standard_id``, ``level`` (int64)
- enrolments: ``id``, ``cohort_id`` (int64), ``status`` (str), ``planned_end_date``,
  ``actual_end_date`` (datetime64, NaT when empty), ``planned_otj_hours`` (float64, hours),
  ``team_id`` (int64, the learner's team), ``coach_id`` (Int64, NA without a coach),
  ``start_date`` (datetime64)
- results: ``enrolment_id``, ``cohort_id`` (int64), ``grade`` (str), ``date`` (datetime64),
  ``attempt`` (int64), ``team_id`` (int64), ``coach_id`` (Int64)
- sessions: attended coaching sessions already summed by the database per cohort, team and
  (assigned) coach: ``cohort_id``, ``team_id`` (int64), ``coach_id`` (Int64),
  ``coaching_sessions`` (int64), ``minutes`` (float64), ``otj_hours_logged`` (float64,
  hours). Summing in SQL keeps the job's memory flat at a million sessions; the result is
  the same as a pandas groupby.
  Off-the-job training other than coaching (``learners.OffTheJobActivity``) is summed the
  same way by a second query and appended as rows with 0 sessions and 0 minutes, so
  ``otj_hours_logged`` counts both.

Grouping other than by cohort (team, coach, standard) reuses the same pure functions:
``group_counts(frames, by="team_id")`` relabels each frame's ``cohort_id`` with the chosen
column. ``live_metrics(filters)`` computes unsaved snapshots over a filtered set (dashboard
filters, ``outcomes.filters.DashboardFilters``) with the same constant number of queries.
"""
import hashlib
import logging
import pickle  # nosec B403 - only pickle.dumps, to digest our own values (fingerprint); nothing is unpickled
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, IntegerField, Sum, Value
from django.utils import timezone

from academy.dates import academic_year_label, parse_academic_year
from cohorts.models import AssessmentResult, Cohort, Enrolment
from coaching.models import CoachingSession, OffTheJobActivity
from coaching.risk import learner_risks
from outcomes.benchmarking import load_benchmarks, match_benchmark
from outcomes.dashboard_cache import bump_generation
from outcomes.models import CohortMetrics, NationalBenchmark
from outcomes.stats import binomial_test, wilson_interval

if TYPE_CHECKING:  # pragma: no cover
    from outcomes.filters import DashboardFilters

logger = logging.getLogger(__name__)

ALL_KEY = "all"
COUNT_FIELDS = (
    "enrolled",
    "active",
    "on_break",
    "at_gateway_or_epa",
    "completed",
    "withdrawn",
    "leavers",
    "achievers",
    "epa_completed",
    "distinction",
    "merit",
    "passed",
    "failed",
    "coaching_sessions",
)
HOUR_FIELDS = ("coaching_hours", "otj_hours_logged", "otj_hours_planned")
# Start year (2023 for "2023/24") of the academic year each family of measures is counted in.
YEAR_FIELDS = ("achievement_year", "epa_year")
MEASURES = ("achievement_rate", "first_attempt_pass_rate", "distinction_merit_share", "pass_rate")
# Group id for enrolments with no coach assigned, in ``group_counts(by="coach_id")``.
NO_COACH = 0
# Cache key holding the start time (ISO) of a recompute while it runs (``recompute_status``).
RUNNING_KEY = "outcomes:recompute:running"

PASSING_GRADES = [str(g) for g in AssessmentResult.PASSING_GRADES]
S = Enrolment.Status

COHORT_COLUMNS = {"id": "int64", "standard_id": "int64", "level": "int64"}
ENROLMENT_COLUMNS = {
    "id": "int64",
    "cohort_id": "int64",
    "status": "str",
    "planned_end_date": "datetime64[ns]",
    "actual_end_date": "datetime64[ns]",
    "planned_otj_hours": "float64",
    "team_id": "int64",
    "coach_id": "Int64",
    "start_date": "datetime64[ns]",
}
RESULT_COLUMNS = {
    "enrolment_id": "int64",
    "cohort_id": "int64",
    "grade": "str",
    "date": "datetime64[ns]",
    "attempt": "int64",
    "team_id": "int64",
    "coach_id": "Int64",
}
SESSION_COLUMNS = {
    "cohort_id": "int64",
    "team_id": "int64",
    "coach_id": "Int64",
    "coaching_sessions": "int64",
    "minutes": "float64",
    "otj_hours_logged": "float64",
}


def key_for(cohort_id: int | None) -> str:
    """Return the snapshot key: ``"cohort:<id>"``, or ``"all"`` for ``None``."""
    return ALL_KEY if cohort_id is None else f"cohort:{cohort_id}"


# --- Frames ---------------------------------------------------------------------------


def _frame(rows, columns: dict[str, str]) -> pd.DataFrame:
    """Return a DataFrame of ``rows`` (tuples) with the given column dtypes, also when empty."""
    df = pd.DataFrame.from_records(list(rows), columns=list(columns))
    for name, dtype in columns.items():
        if dtype.startswith("datetime64"):
            df[name] = pd.to_datetime(df[name]).astype(dtype)
        else:
            df[name] = df[name].astype(dtype)  # Decimal → float64 for hours
    return df


class _logged:
    """Record a statement run on the raw psycopg cursor (``COPY``) in Django's query log, as Django's cursor would.

    So query counts (``CaptureQueriesContext``, the benchmark) include the ``COPY``s.
    """

    def __init__(self, connection, sql: str):
        self.connection, self.sql = connection, sql

    def __enter__(self):
        import time

        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        import time

        if self.connection.queries_logged:
            self.connection.queries_log.append({"sql": self.sql, "time": f"{time.monotonic() - self.start:.3f}"})
        return False


def _read_frame(queryset, columns: dict[str, str]) -> pd.DataFrame:
    """Return the rows of a ``values_list`` ``queryset`` as a DataFrame with ``columns``' dtypes (one query).

    On PostgreSQL the query runs as ``COPY (SELECT …) TO STDOUT`` (CSV, psycopg 3) read by
    ``pandas.read_csv``: no Python tuple or Decimal per value, several times faster than
    iterating the queryset at 100,000 rows. Elsewhere (SQLite) the queryset's tuples go
    through ``_frame``. Both give the same frame (``tests/test_metrics.py`` compares them).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return _frame(queryset, columns)
    import io

    sql, params = queryset.query.sql_with_params()
    buffer = io.BytesIO()
    with connection.cursor() as cursor, _logged(connection, f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"):
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for block in copy:
                buffer.write(block)
    if not buffer.tell():  # no rows: read_csv would refuse an empty file
        return _frame([], columns)
    buffer.seek(0)
    text_columns = {name: "str" for name, dtype in columns.items() if dtype == "str"}
    df = pd.read_csv(buffer, names=list(columns), header=None, dtype=text_columns, keep_default_na=False,
                     na_values={name: [""] for name in columns if name not in text_columns})
    for name, dtype in columns.items():
        if dtype.startswith("datetime64"):
            df[name] = pd.to_datetime(df[name], format="%Y-%m-%d").astype(dtype)
        else:
            df[name] = df[name].astype(dtype)
    return df


def _academic_year_start(dates: pd.Series) -> pd.Series:
    """Return the start year of the academic year (1 August–31 July) of each date, nullable Int64."""
    return (dates.dt.year - (dates.dt.month < 8).astype("int64")).astype("Int64")


def enrolment_filter(filters: "DashboardFilters | None", prefix: str = ""):
    """Return ``Q`` limiting rows (enrolments, or rows reached through ``prefix`` "enrolment__") to ``filters``.

    The date range is not applied here: it means something different per table
    (``load_frames``).
    """
    from django.db.models import Q

    q = Q()
    if filters is None:
        return q
    if filters.cohort_id is not None:
        q &= Q(**{f"{prefix}cohort_id": filters.cohort_id})
    if filters.standard_id is not None:
        q &= Q(**{f"{prefix}cohort__standard_id": filters.standard_id})
    if filters.level is not None:
        q &= Q(**{f"{prefix}cohort__standard__level": filters.level})
    if filters.team_id is not None:
        q &= Q(**{f"{prefix}learner__team_id": filters.team_id})
    if filters.coach_id is not None:
        q &= Q(**{f"{prefix}coach_id": filters.coach_id})
    return q


def load_frames(
    *, cohort_id: int | None = None, filters: "DashboardFilters | None" = None, sessions_by_cohort: bool = False
) -> dict[str, pd.DataFrame]:
    """Read the tables the job needs, one query each; ``cohort_id`` limits all but cohorts to one cohort.

    Returns a dict of the frames described in the module docstring: ``cohorts`` (every
    cohort, or with ``filters`` the cohorts of the filtered standard, level or cohort: the
    all-cohorts row needs their levels), ``enrolments``, ``results``, ``sessions``.

    ``filters`` (``outcomes.filters.DashboardFilters``) limits enrolments, results and
    sessions to the filtered cohort, standard, level, team (the learner's) and coach (the
    enrolment's). Its date range keeps enrolments in learning at some time in the range
    (started on or before its end; not ended before its start), results dated in the range
    and sessions held in the range. Still one query per table.

    ``sessions_by_cohort`` (the metrics job, which needs only per-cohort totals) sums the
    sessions per cohort alone and skips the join to learners: every frame then has
    ``team_id`` 0, and the sessions frame ``coach_id`` NA, so these frames must not be
    grouped by team or coach (``group_counts``). Summing 1M sessions
    into 4,000 cohorts instead of ~100,000 (cohort, team, coach) groups avoids a join to
    learners and a hash aggregate that spills to disk.
    """
    enrolments = Enrolment.objects.order_by().filter(enrolment_filter(filters))
    results = AssessmentResult.objects.order_by().filter(enrolment_filter(filters, "enrolment__"))
    sessions = (
        CoachingSession.objects.order_by()
        .filter(attendance=CoachingSession.Attendance.ATTENDED)
        .filter(enrolment_filter(filters, "enrolment__"))
    )
    cohorts = Cohort.objects.order_by("id")
    if cohort_id is not None:
        enrolments = enrolments.filter(cohort_id=cohort_id)
        results = results.filter(enrolment__cohort_id=cohort_id)
        sessions = sessions.filter(enrolment__cohort_id=cohort_id)
    if filters is not None:
        from django.db.models import Q

        if filters.date_from is not None:
            enrolments = enrolments.filter(Q(actual_end_date__isnull=True) | Q(actual_end_date__gte=filters.date_from))
            results = results.filter(date__gte=filters.date_from)
            sessions = sessions.filter(date__gte=filters.date_from)
        if filters.date_to is not None:
            enrolments = enrolments.filter(start_date__lte=filters.date_to)
            results = results.filter(date__lte=filters.date_to)
            sessions = sessions.filter(date__lte=filters.date_to)
        if filters.cohort_id is not None:
            cohorts = cohorts.filter(pk=filters.cohort_id)
        if filters.standard_id is not None:
            cohorts = cohorts.filter(standard_id=filters.standard_id)
        if filters.level is not None:
            cohorts = cohorts.filter(standard__level=filters.level)
    team = Value(0, output_field=IntegerField())  # ``sessions_by_cohort``: no join to learners for their team
    return {
        "cohorts": _read_frame(cohorts.values_list("id", "standard_id", "standard__level"), COHORT_COLUMNS),
        "enrolments": _read_frame(
            enrolments.values_list(
                "id",
                "cohort_id",
                "status",
                "planned_end_date",
                "actual_end_date",
                "planned_otj_hours",
                team if sessions_by_cohort else "learner__team_id",
                "coach_id",
                "start_date",
            ),
            ENROLMENT_COLUMNS,
        ),
        "results": _read_frame(
            results.values_list(
                "enrolment_id",
                "enrolment__cohort_id",
                "grade",
                "date",
                "attempt",
                team if sessions_by_cohort else "enrolment__learner__team_id",
                "enrolment__coach_id",
            ),
            RESULT_COLUMNS,
        ),
        "sessions": pd.concat(
            [
                _read_frame(
                    sessions.values("enrolment__cohort_id")
                    .annotate(n=Count("id"), minutes=Sum("duration_minutes"), otj=Sum("otj_hours"))
                    .values_list("enrolment__cohort_id", Value(0), Value(None, output_field=IntegerField()), "n",
                                 "minutes", "otj"),
                    SESSION_COLUMNS,
                )
                if sessions_by_cohort
                else _read_frame(
                    sessions.values("enrolment__cohort_id", "enrolment__learner__team_id", "enrolment__coach_id")
                    .annotate(n=Count("id"), minutes=Sum("duration_minutes"), otj=Sum("otj_hours"))
                    .values_list(
                        "enrolment__cohort_id", "enrolment__learner__team_id", "enrolment__coach_id", "n", "minutes",
                        "otj",
                    ),
                    SESSION_COLUMNS,
                ),
                _otj_activity_frame(cohort_id=cohort_id, filters=filters),
            ],
            ignore_index=True,
        ),
    }


def _otj_activity_frame(*, cohort_id: int | None, filters: "DashboardFilters | None") -> pd.DataFrame:
    """Return off-the-job training other than coaching (``learners.OffTheJobActivity``) in the sessions frame's shape.

    One aggregate query, summed per cohort, team and coach like the sessions; rows carry
    0 sessions and 0 minutes, so they add only to ``otj_hours_logged``. Filtered like the
    sessions (cohort, dashboard filters, date range on the activity's date).
    """
    activities = OffTheJobActivity.objects.order_by().filter(enrolment_filter(filters, "enrolment__"))
    if cohort_id is not None:
        activities = activities.filter(enrolment__cohort_id=cohort_id)
    if filters is not None and filters.date_from is not None:
        activities = activities.filter(date__gte=filters.date_from)
    if filters is not None and filters.date_to is not None:
        activities = activities.filter(date__lte=filters.date_to)
    rows = (
        activities.values("enrolment__cohort_id", "enrolment__learner__team_id", "enrolment__coach_id")
        .annotate(otj=Sum("hours"))
        .values_list("enrolment__cohort_id", "enrolment__learner__team_id", "enrolment__coach_id", "otj")
    )
    return _frame(((cohort, team, coach, 0, 0.0, otj) for cohort, team, coach, otj in rows), SESSION_COLUMNS)


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


# --- The service ----------------------------------------------------------------------


def _counts_from_snapshots(rows: list[dict]) -> pd.DataFrame:
    """Return stored snapshot rows as a counts frame (the inverse of writing them), indexed by cohort id."""

    def year(rates: dict, measure: str):
        label = (rates or {}).get(measure, {}).get("year")
        return parse_academic_year(label) if label else pd.NA

    return pd.DataFrame(
        {
            **{name: pd.array([r[name] for r in rows], dtype="int64") for name in COUNT_FIELDS},
            **{name: pd.array([float(r[name]) for r in rows], dtype="float64") for name in HOUR_FIELDS},
            "achievement_year": pd.array([year(r["rates"], "achievement_rate") for r in rows], dtype="Int64"),
            "epa_year": pd.array([year(r["rates"], "first_attempt_pass_rate") for r in rows], dtype="Int64"),
        },
        index=pd.Index([r["cohort_id"] for r in rows], dtype="int64", name="cohort_id"),
    )


def _decimal_hours(value: float) -> Decimal:
    return Decimal(f"{float(value):.2f}")


def _snapshot(cohort_id: int | None, row, rates: dict, now) -> CohortMetrics:
    snapshot = CohortMetrics(
        key=key_for(cohort_id),
        cohort_id=cohort_id,
        **{name: int(row[name]) for name in COUNT_FIELDS},
        **{name: _decimal_hours(row[name]) for name in HOUR_FIELDS},
        rates=rates,
        computed_at=now,
    )
    snapshot.fingerprint = fingerprint(snapshot)
    return snapshot


def fingerprint(snapshot: CohortMetrics) -> str:
    """Return a digest (32 hex characters) of what a snapshot shows: cohort, counts, hours and rates.

    Equal fingerprints mean equal figures, so the job does not rewrite a stored snapshot
    whose fingerprint is unchanged (``recompute_metrics``); ``computed_at`` is not part of
    it. The digest is of the values' pickle (fast, and exact for floats): it is only ever
    compared, never unpickled. A new Python version may pickle differently, which only
    makes the next run rewrite every snapshot once.
    """
    shown = (
        snapshot.cohort_id,
        tuple(getattr(snapshot, name) for name in COUNT_FIELDS),
        tuple(str(getattr(snapshot, name)) for name in HOUR_FIELDS),
        snapshot.rates,
    )
    return hashlib.blake2b(pickle.dumps(shown, protocol=5), digest_size=16).hexdigest()


@transaction.atomic
def recompute_metrics(*, cohort_id: int | None = None) -> list[CohortMetrics]:
    """Recompute and upsert ``CohortMetrics`` snapshots; return them (as stored: with ids), ordered by key.

    With no ``cohort_id``: one row per cohort (key ``cohort:<id>``) and the all-cohorts
    row (key ``all``), and snapshots of cohorts that no longer exist are deleted.
    With ``cohort_id``: that cohort's row (deleted if the cohort is gone) and the ``all``
    row. The ``all`` row is then built from the other cohorts' stored snapshots, whose
    counts add up exactly (every count is a sum, every year a maximum); if any cohort
    has no snapshot yet, every cohort is recomputed instead.

    Runs in one transaction. It first locks the ``all`` row (``SELECT … FOR UPDATE`` on
    PostgreSQL), so two recomputes never interleave and overwrite the ``all`` row with a
    stale sum. The query count does not grow with the number of cohorts: one query per
    table (read with ``COPY … TO STDOUT`` into pandas on PostgreSQL, ``_read_frame``),
    one for benchmarks, one for the stored snapshots' fingerprints (``fingerprint``: only
    the snapshots whose figures changed, and the ``all`` row, are written), the upsert
    (``_upsert``: ``bulk_create`` with ``update_conflicts``
    on ``key`` for a few rows; on PostgreSQL at scale ``COPY`` and one ``INSERT … ON
    CONFLICT DO UPDATE`` that skips unchanged rows), one delete and one read-back of the
    ids and ``computed_at`` (the returned snapshots do not have their cohort loaded).
    It also adds one to the dashboard generation (``outcomes.dashboard_cache``), so no
    page cached before this run is served after it commits.
    """
    _mark_running()
    list(CohortMetrics.objects.select_for_update().filter(key=ALL_KEY).values_list("id"))
    frames = load_frames(cohort_id=cohort_id, sessions_by_cohort=True)
    cohorts = frames["cohorts"].set_index("id")
    benchmarks = load_benchmarks()

    if cohort_id is not None:
        others = [int(i) for i in cohorts.index if i != cohort_id]
        stored = list(
            CohortMetrics.objects.filter(cohort__isnull=False).exclude(cohort_id=cohort_id).values(
                "cohort_id", *COUNT_FIELDS, *HOUR_FIELDS, "rates"
            )
        )
        if len(stored) < len(others):
            logger.info("Some cohorts have no metrics snapshot yet: recomputing every cohort.")
            return recompute_metrics(cohort_id=None)
        mine = [cohort_id] if cohort_id in cohorts.index else []
        fresh = cohort_counts(mine, frames)
        counts = pd.concat([fresh, _counts_from_snapshots(stored)]) if stored else fresh
        write_ids = mine
        if not mine:
            CohortMetrics.objects.filter(key=key_for(cohort_id)).delete()
    else:
        counts = cohort_counts(list(cohorts.index), frames)
        write_ids = list(cohorts.index)

    now = timezone.now()
    snapshots = []
    by_cohort = counts.to_dict("index")
    cohort_fields = cohorts.to_dict("index")
    memo: dict = {}
    for cid in write_ids:  # one loop per cohort (not per enrolment) to match benchmarks and build rows
        cohort = cohort_fields[cid]
        rates = snapshot_rates(
            by_cohort[cid], standard_id=int(cohort["standard_id"]), level=int(cohort["level"]), benchmarks=benchmarks,
            memo=memo,
        )
        snapshots.append(_snapshot(int(cid), by_cohort[cid], rates, now))
    levels = cohorts["level"].unique()
    all_row = totals(counts)
    all_rates = snapshot_rates(
        all_row, standard_id=None, level=int(levels[0]) if len(levels) == 1 else None, benchmarks=benchmarks
    )
    snapshots.append(_snapshot(None, all_row, all_rates, now))

    keys = [s.key for s in snapshots]
    if cohort_id is None:
        # Deleting a cohort cascades to its snapshot; this catches any row left behind
        # without sending a list of every key to the database.
        CohortMetrics.objects.filter(cohort__isnull=False).exclude(cohort__in=Cohort.objects.values("id")).delete()
    # Write only what changed (and the all row, whose computed_at is the time of the run):
    # an unchanged snapshot is neither sent nor rewritten.
    known = CohortMetrics.objects.order_by()
    if cohort_id is not None:
        known = known.filter(key__in=keys)
    fingerprints = dict(known.values_list("key", "fingerprint"))
    _upsert([s for s in snapshots if s.key == ALL_KEY or fingerprints.get(s.key) != s.fingerprint])
    bump_generation()  # cached dashboard pages of the previous generation are no longer used
    # Read back only what the database decided (id, and computed_at, which an unchanged row
    # keeps): one light query instead of loading every snapshot and its cohort again.
    stored = CohortMetrics.objects.order_by()
    if cohort_id is not None:  # two keys; a full recompute wrote (or kept) every row
        stored = stored.filter(key__in=keys)
    ids = {key: (pk, computed_at) for key, pk, computed_at in stored.values_list("key", "id", "computed_at")}
    for snapshot in snapshots:
        snapshot.pk, snapshot.computed_at = ids[snapshot.key]
        snapshot._state.adding = False
        snapshot._state.db = stored.db
    return sorted(snapshots, key=lambda s: s.key)


# Above this many snapshots, PostgreSQL writes them with COPY and one conditional upsert.
COPY_UPSERT_MIN = 500


def _upsert(snapshots: list[CohortMetrics]) -> None:
    """Insert or update ``snapshots`` by ``key``.

    On PostgreSQL with at least ``COPY_UPSERT_MIN`` rows (a full recompute at scale):
    ``COPY`` into a temporary table, then one ``INSERT … SELECT … ON CONFLICT (key) DO
    UPDATE … WHERE`` the stored row differs: a cohort whose counts, hours and rates are
    unchanged is not rewritten (no dead row, and its ``computed_at`` stays the time its
    figures last changed); the ``all`` row is always written, so its ``computed_at`` is
    the time of the run. Four statements whatever the number of rows.

    Otherwise ``bulk_create(update_conflicts=True)``: ``INSERT … ON CONFLICT DO UPDATE``
    of every row in batches (one statement for a handful of rows).
    """
    from django.db import connection

    if connection.vendor != "postgresql" or len(snapshots) < COPY_UPSERT_MIN:
        update_fields = ["cohort", *COUNT_FIELDS, *HOUR_FIELDS, "rates", "fingerprint", "computed_at"]
        CohortMetrics.objects.bulk_create(
            snapshots, update_conflicts=True, unique_fields=["key"], update_fields=update_fields
        )
        return
    import json

    table = CohortMetrics._meta.db_table
    columns = ["key", "cohort_id", *COUNT_FIELDS, *HOUR_FIELDS, "rates", "fingerprint", "computed_at"]
    compared = ["cohort_id", *COUNT_FIELDS, *HOUR_FIELDS, "rates", "fingerprint"]
    names = ", ".join(columns)
    # Table and column names come from the model's metadata and constants above, never from
    # input; the only value (ALL_KEY) is passed as a parameter.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE metrics_upsert AS SELECT {names} FROM {table} WITH NO DATA")  # nosec B608
        with _logged(connection, f"COPY metrics_upsert ({names}) FROM STDIN"), cursor.cursor.copy(
            f"COPY metrics_upsert ({names}) FROM STDIN"
        ) as copy:
            for s in snapshots:
                copy.write_row(
                    (s.key, s.cohort_id, *(getattr(s, n) for n in (*COUNT_FIELDS, *HOUR_FIELDS)),
                     json.dumps(s.rates), s.fingerprint, s.computed_at)
                )
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM metrics_upsert "  # nosec B608
            f"ON CONFLICT (key) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in columns[1:])} "
            f"WHERE {table}.key = %s OR ({', '.join(f'{table}.{c}' for c in compared)}) "
            f"IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in compared)})",
            [ALL_KEY],
        )
        cursor.execute("DROP TABLE metrics_upsert")


def _mark_running() -> None:
    """Note in the cache when this recompute started, for the dashboard's progress (``RUNNING_KEY``).

    Best effort: a cache outage never stops the job.
    """
    try:
        cache.set(RUNNING_KEY, timezone.now().isoformat(), timeout=3600)
    except Exception:  # noqa: BLE001 - progress is a nicety; the snapshots are what matter
        logger.warning("Could not note the recompute's start in the cache", exc_info=True)


# --- Any grouping, and live (filtered) metrics -----------------------------------------


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


def rates_for(row, *, standard_id: int | None, level: int | None, benchmarks: list[NationalBenchmark]) -> dict:
    """Return the ``rates`` dict for a counts row of any group (alias of ``snapshot_rates``)."""
    return snapshot_rates(row, standard_id=standard_id, level=level, benchmarks=benchmarks)


def unsaved_snapshot(row, rates: dict, *, cohort=None, computed_at=None) -> CohortMetrics:
    """Return an unsaved ``CohortMetrics`` for a counts row, for pages that compute live (never saved)."""
    snapshot = _snapshot(cohort.pk if cohort is not None else None, row, rates, computed_at or timezone.now())
    if cohort is not None:
        snapshot.cohort = cohort
    return snapshot


def live_metrics(filters: "DashboardFilters | None" = None) -> dict:
    """Compute the dashboard's figures now over the filtered set, without saving anything.

    Returns ``{"frames": frames, "counts": cohort counts frame, "cohorts": {id: Cohort with
    standard}, "benchmarks": [...], "snapshots": [unsaved CohortMetrics per cohort, then the
    all row]}``. Cohorts with neither enrolments nor results in the filtered set are left
    out when a team, coach or date filter is set (they are not part of the answer).

    Queries, whatever the data size: cohorts frame, enrolments, results, sessions, other
    off-the-job training (one each), cohort objects with standards, benchmarks: 7.
    """
    frames = load_frames(filters=filters)
    cohort_ids = [int(i) for i in frames["cohorts"]["id"]]
    counts = cohort_counts(cohort_ids, frames)
    cross_cutting = filters is not None and (
        filters.team_id is not None or filters.coach_id is not None or filters.has_date_range
    )
    if cross_cutting:
        counts = counts[(counts["enrolled"] > 0) | (counts["epa_completed"] > 0)]
    cohorts = {c.pk: c for c in Cohort.objects.filter(pk__in=list(counts.index)).select_related("standard")}
    benchmarks = load_benchmarks()
    now = timezone.now()
    snapshots = []
    by_cohort = counts.to_dict("index")
    for cid in sorted(cohorts, key=lambda i: (cohorts[i].start_date, cohorts[i].name)):
        cohort = cohorts[cid]
        rates = snapshot_rates(
            by_cohort[cid], standard_id=cohort.standard_id, level=cohort.standard.level, benchmarks=benchmarks
        )
        snapshots.append(unsaved_snapshot(by_cohort[cid], rates, cohort=cohort, computed_at=now))
    levels = {c.standard.level for c in cohorts.values()}
    all_row = totals(counts)
    all_rates = snapshot_rates(
        all_row, standard_id=None, level=levels.pop() if len(levels) == 1 else None, benchmarks=benchmarks
    )
    snapshots.append(unsaved_snapshot(all_row, all_rates, computed_at=now))
    return {"frames": frames, "counts": counts, "cohorts": cohorts, "benchmarks": benchmarks, "snapshots": snapshots}


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


# --- Dashboard page data (services the views call) -------------------------------------


def stored_snapshots():
    """Return every stored snapshot with cohort and standard, cohorts by start date then name (one query)."""
    from django.db.models import F

    return list(
        CohortMetrics.objects.select_related("cohort__standard").order_by(
            F("cohort__start_date").asc(nulls_first=True), "cohort__name", "key"
        )
    )


def stored_overall():
    """Return the stored all-cohorts snapshot (key ``all``), or ``None`` before the first run (one query)."""
    return CohortMetrics.objects.filter(key=ALL_KEY).first()


def stored_cohort_snapshots():
    """Return a lazy queryset of the stored cohort snapshots, newest cohorts first (start date, then name).

    With ``cohort__standard`` joined, for one page at a time (``Paginator``): the page never
    holds every cohort's row.
    """
    return (
        CohortMetrics.objects.filter(cohort__isnull=False)
        .select_related("cohort__standard")
        .order_by("-cohort__start_date", "cohort__name", "key")
    )


def newest_first(snapshots: list[CohortMetrics]) -> list[CohortMetrics]:
    """Return the cohort snapshots of ``snapshots`` (cohorts loaded), newest cohort first, then by name. No query."""
    cohorts = sorted((s for s in snapshots if s.cohort_id is not None), key=lambda s: s.cohort.name)
    return sorted(cohorts, key=lambda s: s.cohort.start_date, reverse=True)


def dashboard_snapshots(filters: "DashboardFilters | None" = None) -> tuple[list[CohortMetrics], str]:
    """Return ``(snapshots, source)`` for the dashboard: the stored snapshots when unfiltered, else live ones.

    ``source`` is ``"snapshot"`` (read from ``CohortMetrics``, one query) or ``"live"``
    (computed now over the filtered set by ``live_metrics``, unsaved, 7 queries). The
    all-cohorts row (``cohort`` ``None``) comes first for stored snapshots and last for
    live ones; ``outcomes.presentation.dashboard_summary`` accepts either.
    """
    if filters is None or not filters.is_filtered:
        return stored_snapshots(), "snapshot"
    return live_metrics(filters)["snapshots"], "live"


def standard_totals(snapshots: list[CohortMetrics], benchmarks: list[NationalBenchmark]) -> dict[int, CohortMetrics]:
    """Return, per standard id, an unsaved snapshot summing the cohort snapshots of that standard.

    Counts and hours are summed and years take the latest, exactly as the all-cohorts row
    (``totals``); rates are compared with the benchmark for the standard, falling back to
    its level, then all standards (``match_benchmark``). The cohorts' standards must be
    loaded (``select_related("cohort__standard")``). No query.
    """
    cohort_rows = [s for s in snapshots if s.cohort_id is not None]
    if not cohort_rows:
        return {}
    counts = _counts_from_snapshots(
        [
            {
                "cohort_id": s.cohort_id,
                **{name: getattr(s, name) for name in (*COUNT_FIELDS, *HOUR_FIELDS)},
                "rates": s.rates,
            }
            for s in cohort_rows
        ]
    )
    standard_of = {s.cohort_id: s.cohort.standard for s in cohort_rows}
    counts["standard_id"] = [standard_of[cid].pk for cid in counts.index]
    out = {}
    computed = max(s.computed_at for s in cohort_rows)
    for standard_id, group in counts.groupby("standard_id"):  # one loop per standard
        standard = next(st for st in standard_of.values() if st.pk == standard_id)
        row = totals(group)
        rates = snapshot_rates(row, standard_id=int(standard_id), level=standard.level, benchmarks=benchmarks)
        out[int(standard_id)] = unsaved_snapshot(row, rates, computed_at=computed)
    return out


def _has_year(measure: str):
    """Return ``Q`` for snapshots whose ``rates[measure]["year"]`` is a label (present and not JSON null)."""
    from django.db.models import Q

    return Q(**{f"rates__{measure}__year__isnull": False}) & ~Q(**{f"rates__{measure}__year": None})


def stored_standard_totals(benchmarks: list[NationalBenchmark]) -> dict[int, CohortMetrics]:
    """Return, per standard id, an unsaved snapshot summing its cohorts' stored snapshots: one ``GROUP BY`` query.

    The same figures as ``standard_totals`` over every stored cohort snapshot (counts and
    hours summed, years the latest: the largest "2023/24" label, whose order is the
    years' order), without loading a model per cohort, so it stays cheap with thousands
    of cohorts.
    """
    from django.db.models import Max, Sum
    from django.db.models.fields.json import KT

    rows = (
        CohortMetrics.objects.filter(cohort__isnull=False)
        .order_by()
        .values("cohort__standard_id", "cohort__standard__level")
        .annotate(
            **{f"sum_{name}": Sum(name) for name in (*COUNT_FIELDS, *HOUR_FIELDS)},
            achievement_label=Max(KT("rates__achievement_rate__year"), filter=_has_year("achievement_rate")),
            epa_label=Max(KT("rates__first_attempt_pass_rate__year"), filter=_has_year("first_attempt_pass_rate")),
            last_computed=Max("computed_at"),
        )
    )
    out = {}
    for r in rows:
        row = {name: r[f"sum_{name}"] for name in (*COUNT_FIELDS, *HOUR_FIELDS)}
        row["achievement_year"] = parse_academic_year(r["achievement_label"]) if r["achievement_label"] else pd.NA
        row["epa_year"] = parse_academic_year(r["epa_label"]) if r["epa_label"] else pd.NA
        standard_id = int(r["cohort__standard_id"])
        rates = snapshot_rates(row, standard_id=standard_id, level=r["cohort__standard__level"], benchmarks=benchmarks)
        out[standard_id] = unsaved_snapshot(row, rates, computed_at=r["last_computed"])
    return out


def group_snapshots(
    frames: dict[str, pd.DataFrame], *, by: str, ids: list[int], benchmarks: list[NationalBenchmark]
) -> dict[int, CohortMetrics]:
    """Return, per id in ``ids`` (teams or coaches), an unsaved snapshot of its counts and rates.

    Rates are compared with the all-standards benchmark of each measure (a team or a
    coach spans standards). Ids with no data get zero counts ("no results yet"). No query.
    """
    counts = group_counts(frames, by=by, index=ids)
    now = timezone.now()
    return {
        int(gid): unsaved_snapshot(
            row, snapshot_rates(row, standard_id=None, level=None, benchmarks=benchmarks), computed_at=now
        )
        for gid, row in counts.to_dict("index").items()
    }


def at_risk_counts(filters: "DashboardFilters | None" = None, *, today=None) -> dict:
    """Return learners at risk among those in learning, by cohort and by coach.

    Uses ``coaching.risk.learner_risks`` (the four risk rules, 2 queries
    whatever the number of learners) on the enrolments in learning (``active``) that
    match ``filters`` (the date range does not apply: risk is as of ``today``, the local
    date by default). Returns ``{"by_cohort": {cohort_id: (at_risk, in_learning)},
    "by_coach": {coach_id or NO_COACH: (at_risk, in_learning)}, "total": (at_risk,
    in_learning)}``.
    """
    enrolments = Enrolment.objects.filter(enrolment_filter(filters), status=Enrolment.Status.ACTIVE).order_by("pk")
    risks = learner_risks(enrolments, today=today or timezone.localdate(), related=False)
    flags = pd.DataFrame(
        {
            "cohort_id": [r.enrolment.cohort_id for r in risks],
            "coach_id": [r.enrolment.coach_id or NO_COACH for r in risks],
            "at_risk": [r.at_risk for r in risks],
            "in_learning": 1,
        },
        columns=["cohort_id", "coach_id", "at_risk", "in_learning"],
    )

    def by(column):
        grouped = flags.groupby(column)[["at_risk", "in_learning"]].sum()
        return {int(k): (int(v["at_risk"]), int(v["in_learning"])) for k, v in grouped.to_dict("index").items()}

    return {
        "by_cohort": by("cohort_id"),
        "by_coach": by("coach_id"),
        "total": (int(flags["at_risk"].sum()), int(len(flags))),
    }
