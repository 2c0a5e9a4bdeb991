"""Reading the tables into DataFrames: one ``.values_list()`` query per table, explicit dtypes (the frames are described in ``outcomes.metrics``)."""
import io
import logging
from typing import TYPE_CHECKING

import pandas as pd
from django.db import connection
from django.db.models import Count, IntegerField, Q, Sum, Value

from academy.pg_copy import copy_out_csv
from coaching.models import CoachingSession, OffTheJobActivity
from cohorts.models import AssessmentResult, Cohort, Enrolment
from outcomes.models import ALL_KEY  # noqa: F401 - re-exported: the metrics package names it

if TYPE_CHECKING:  # pragma: no cover
    from outcomes.filters import DashboardFilters

logger = logging.getLogger(__name__)


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


def _read_frame(queryset, columns: dict[str, str]) -> pd.DataFrame:
    """Return the rows of a ``values_list`` ``queryset`` as a DataFrame with ``columns``' dtypes (one query).

    On PostgreSQL the query runs as ``COPY (SELECT …) TO STDOUT`` (CSV, psycopg 3) read by
    ``pandas.read_csv``: no Python tuple or Decimal per value, several times faster than
    iterating the queryset at 100,000 rows. Elsewhere (SQLite) the queryset's tuples go
    through ``_frame``. Both give the same frame (``tests/outcomes/test_metrics.py`` compares them).
    """
    if connection.vendor != "postgresql":
        return _frame(queryset, columns)
    sql, params = queryset.query.sql_with_params()
    data = copy_out_csv(connection, sql, params)
    if not data:  # no rows: read_csv would refuse an empty file
        return _frame([], columns)
    buffer = io.BytesIO(data)
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
    # Training returned to the apprentice counts as neither logged nor confirmed (coaching.training).
    activities = (OffTheJobActivity.objects.order_by().filter(enrolment_filter(filters, "enrolment__"))
                  .exclude(status=OffTheJobActivity.Status.RETURNED))
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
