"""Cohort metrics: counts, rates and benchmark comparisons, written as ``CohortMetrics`` snapshots.

The job reads each table with one ``.values_list()`` query into a pandas DataFrame with
explicit dtypes, computes every cohort at once with vectorised groupbys (no Python loop
over enrolments), and upserts one snapshot per cohort plus the all-cohorts row.
The pure functions here take and return DataFrames, so they are tested without I/O;
``recompute_metrics`` is the only function that touches the database.

Frames (dtypes fixed by ``_frame``):

- cohorts: ``id``, ``standard_id``, ``level`` (int64)
- enrolments: ``id``, ``cohort_id`` (int64), ``status`` (str), ``planned_end_date``,
  ``actual_end_date`` (datetime64, NaT when empty), ``planned_otj_hours`` (float64, hours)
- results: ``enrolment_id``, ``cohort_id`` (int64), ``grade`` (str), ``date`` (datetime64),
  ``attempt`` (int64)
- sessions: attended coaching sessions already summed per cohort by the database:
  ``cohort_id`` (int64), ``coaching_sessions`` (int64), ``minutes`` (float64),
  ``otj_hours_logged`` (float64, hours). Summing in SQL keeps the job's memory flat at
  a million sessions; the result is the same as a pandas groupby.
"""
import logging
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from academy.dates import academic_year_label, parse_academic_year
from cohorts.models import Cohort, Enrolment
from learners.models import CoachingSession
from outcomes.benchmarking import load_benchmarks, match_benchmark
from outcomes.models import AssessmentResult, CohortMetrics, NationalBenchmark
from outcomes.stats import binomial_test, wilson_interval

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
MEASURES = ("achievement_rate", "first_attempt_pass_rate", "distinction_merit_share")

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
}
RESULT_COLUMNS = {
    "enrolment_id": "int64",
    "cohort_id": "int64",
    "grade": "str",
    "date": "datetime64[ns]",
    "attempt": "int64",
}
SESSION_COLUMNS = {
    "cohort_id": "int64",
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


def _academic_year_start(dates: pd.Series) -> pd.Series:
    """Return the start year of the academic year (1 August–31 July) of each date, nullable Int64."""
    return (dates.dt.year - (dates.dt.month < 8).astype("int64")).astype("Int64")


def load_frames(*, cohort_id: int | None = None) -> dict[str, pd.DataFrame]:
    """Read the tables the job needs, one query each; ``cohort_id`` limits all but cohorts to one cohort.

    Returns a dict of the frames described in the module docstring: ``cohorts`` (always
    every cohort: the all-cohorts row needs their levels), ``enrolments``, ``results``,
    ``sessions``.
    """
    enrolments = Enrolment.objects.order_by()
    results = AssessmentResult.objects.order_by()
    sessions = CoachingSession.objects.order_by().filter(attendance=CoachingSession.Attendance.ATTENDED)
    if cohort_id is not None:
        enrolments = enrolments.filter(cohort_id=cohort_id)
        results = results.filter(enrolment__cohort_id=cohort_id)
        sessions = sessions.filter(enrolment__cohort_id=cohort_id)
    return {
        "cohorts": _frame(
            Cohort.objects.order_by("id").values_list("id", "standard_id", "standard__level"), COHORT_COLUMNS
        ),
        "enrolments": _frame(
            enrolments.values_list(
                "id", "cohort_id", "status", "planned_end_date", "actual_end_date", "planned_otj_hours"
            ),
            ENROLMENT_COLUMNS,
        ),
        "results": _frame(
            results.values_list("enrolment_id", "enrolment__cohort_id", "grade", "date", "attempt"), RESULT_COLUMNS
        ),
        "sessions": _frame(
            sessions.values("enrolment__cohort_id")
            .annotate(n=Count("id"), minutes=Sum("duration_minutes"), otj=Sum("otj_hours"))
            .values_list("enrolment__cohort_id", "n", "minutes", "otj"),
            SESSION_COLUMNS,
        ),
    }


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
    (RULES.md; DfE "Apprenticeship national achievement rate tables" footnotes): the
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

    Only attempt 1 counts (DESIGN.md: rates use completed assessments, first attempt), as
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
    *, numerator: int, denominator: int, year: str | None, benchmark: NationalBenchmark | None, small_below: int
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
    (p < 0.05), each ``None`` without both a rate and a benchmark.
    """
    entry = {
        "numerator": numerator,
        "denominator": denominator,
        "rate": None,
        "ci_low": None,
        "ci_high": None,
        "year": year,
        "small": denominator < small_below,
        "benchmark": benchmark_summary(benchmark) if benchmark is not None else None,
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
    row, *, standard_id: int | None, level: int | None, benchmarks: list[NationalBenchmark]
) -> dict:
    """Return the ``rates`` dict (one ``rate_summary`` per measure in ``MEASURES``) for one counts row.

    ``row`` maps the ``cohort_counts`` columns to values (a Series or a dict).

    Each measure is compared with ``match_benchmark`` for the same measure, the year the
    figure is counted in, and ``standard_id``/``level`` (``None`` to skip that scope).
    """
    small_below = settings.ACADEMY_SMALL_COHORT
    rates = {}
    for measure in MEASURES:
        numerator, denominator, year_start = _num_den_year(row, measure)
        year = academic_year_label(year_start) if year_start is not None else None
        benchmark = match_benchmark(
            measure=measure, academic_year=year, standard_id=standard_id, level=level, benchmarks=benchmarks
        )
        rates[measure] = rate_summary(
            numerator=numerator, denominator=denominator, year=year, benchmark=benchmark, small_below=small_below
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
    return CohortMetrics(
        key=key_for(cohort_id),
        cohort_id=cohort_id,
        **{name: int(row[name]) for name in COUNT_FIELDS},
        **{name: _decimal_hours(row[name]) for name in HOUR_FIELDS},
        rates=rates,
        computed_at=now,
    )


@transaction.atomic
def recompute_metrics(*, cohort_id: int | None = None) -> list[CohortMetrics]:
    """Recompute and upsert ``CohortMetrics`` snapshots; return the rows written, ordered by key.

    With no ``cohort_id``: one row per cohort (key ``cohort:<id>``) and the all-cohorts
    row (key ``all``), and snapshots of cohorts that no longer exist are deleted.
    With ``cohort_id``: that cohort's row (deleted if the cohort is gone) and the ``all``
    row. The ``all`` row is then built from the other cohorts' stored snapshots, whose
    counts add up exactly (every count is a sum, every year a maximum); if any cohort
    has no snapshot yet, every cohort is recomputed instead.

    Runs in one transaction. It first locks the ``all`` row (``SELECT … FOR UPDATE`` on
    PostgreSQL), so two recomputes never interleave and overwrite the ``all`` row with a
    stale sum. The query count does not grow with the number of cohorts: one query per
    table, one for benchmarks, one upsert (``bulk_create`` with ``update_conflicts`` on
    ``key``: ``INSERT … ON CONFLICT DO UPDATE`` in batches, about 40 rows per statement on
    SQLite and 2,800 on PostgreSQL, rather than ``update_or_create``'s two queries per
    row), one delete and one read-back.
    """
    list(CohortMetrics.objects.select_for_update().filter(key=ALL_KEY).values_list("id"))
    frames = load_frames(cohort_id=cohort_id)
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
    for cid in write_ids:  # one loop per cohort (not per enrolment) to match benchmarks and build rows
        cohort = cohort_fields[cid]
        rates = snapshot_rates(
            by_cohort[cid], standard_id=int(cohort["standard_id"]), level=int(cohort["level"]), benchmarks=benchmarks
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
    update_fields = ["cohort", *COUNT_FIELDS, *HOUR_FIELDS, "rates", "computed_at"]
    CohortMetrics.objects.bulk_create(
        snapshots, update_conflicts=True, unique_fields=["key"], update_fields=update_fields
    )
    return list(CohortMetrics.objects.filter(key__in=keys).select_related("cohort").order_by("key"))
