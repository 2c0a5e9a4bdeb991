"""Cohort metrics: counts, rates and benchmark comparisons, written as ``CohortMetrics`` snapshots.

Three modules along the job's seams: ``frames`` reads the tables, ``counts`` counts and
rates on DataFrames (pure), ``job`` writes the snapshots. This package exports their
public names; what the dashboard pages read is in ``dashboards.readers``.

The job reads each table with one ``.values_list()`` query into a pandas DataFrame with
explicit dtypes, computes every cohort at once with vectorised groupbys (no Python loop
over enrolments), and upserts one snapshot per cohort plus the all-cohorts row.
The pure functions here take and return DataFrames, so they are tested without I/O;
``frames.load_frames`` reads and ``job.recompute_metrics`` writes; nothing else touches
the database.

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
column. ``dashboards.readers.live_metrics(filters)`` computes unsaved snapshots over a
filtered set (``outcomes.filters.DashboardFilters``) with the same constant number of queries.
"""
from .counts import (
    achievement_counts,
    cohort_counts,
    enrolment_counts,
    first_attempt_counts,
    group_counts,
    monthly_trends,
    rate_summary,
    session_totals,
    snapshot_rates,
    totals,
)
from .frames import (
    ALL_KEY,
    COUNT_FIELDS,
    HOUR_FIELDS,
    MEASURES,
    NO_COACH,
    enrolment_filter,
    key_for,
    load_frames,
)
from .job import fingerprint, recompute_metrics

__all__ = [
    "ALL_KEY", "COUNT_FIELDS", "HOUR_FIELDS", "MEASURES", "NO_COACH",
    "achievement_counts", "cohort_counts", "enrolment_counts", "enrolment_filter", "fingerprint",
    "first_attempt_counts", "group_counts", "key_for", "load_frames", "monthly_trends", "rate_summary",
    "recompute_metrics", "session_totals", "snapshot_rates", "totals",
]
