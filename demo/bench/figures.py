"""The benchmark's measurements, each with its baseline (docs/scaling.md).

- ``time_metrics_job`` / ``time_metrics_floor``: ``outcomes.metrics.recompute_metrics()``
  for every cohort against one SQL ``GROUP BY`` that computes the same per-cohort
  aggregates (``FLOOR_SQL``), the floor any implementation pays to read the data;
- ``time_import`` / ``time_copy``: 10,000 spreadsheet rows through the real import
  path (``cohorts.imports.pipeline.build_plan`` + ``apply_plan``) against ``COPY`` of the
  same learners and enrolments; both roll back, so the database is unchanged;
- ``page_queries``: the SQL queries one request of a page runs (Django test client,
  in-process), with their text for ``EXPLAIN``.
All timings are wall-clock seconds (``time.perf_counter``).
"""
from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import statistics
import time

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from academy.models import Team, User
from cohorts.models import Cohort
from demo.scale import uln_series
from outcomes.metrics import recompute_metrics
from outcomes.models import CohortMetrics

# The same aggregates as outcomes.metrics.cohort_counts, per cohort, in one statement.
FLOOR_SQL = """
WITH latest AS (
    SELECT DISTINCT ON (enrolment_id) enrolment_id, grade
    FROM outcomes_assessmentresult ORDER BY enrolment_id, attempt DESC
), sessions AS (
    SELECT e.cohort_id, COUNT(*) AS n, SUM(s.duration_minutes) AS minutes, SUM(s.otj_hours) AS otj
    FROM learners_coachingsession s JOIN cohorts_enrolment e ON e.id = s.enrolment_id
    WHERE s.attendance = 'attended' GROUP BY e.cohort_id
), enrolments AS (
    SELECT e.cohort_id,
        COUNT(*) AS enrolled,
        COUNT(*) FILTER (WHERE e.status = 'active') AS active,
        COUNT(*) FILTER (WHERE e.status = 'break_in_learning') AS on_break,
        COUNT(*) FILTER (WHERE e.status IN ('gateway', 'end_point_assessment')) AS at_gateway_or_epa,
        COUNT(*) FILTER (WHERE e.status = 'completed') AS completed,
        COUNT(*) FILTER (WHERE e.status = 'withdrawn') AS withdrawn,
        COUNT(*) FILTER (WHERE e.status IN ('completed', 'withdrawn')) AS leavers,
        COUNT(*) FILTER (WHERE e.status IN ('completed', 'withdrawn')
                         AND l.grade IN ('distinction', 'merit', 'pass')) AS achievers,
        MAX(GREATEST(e.actual_end_date, e.planned_end_date))
            FILTER (WHERE e.status IN ('completed', 'withdrawn')) AS hybrid_end,
        SUM(e.planned_otj_hours) AS otj_planned,
        COUNT(f.id) AS epa_completed,
        COUNT(*) FILTER (WHERE f.grade = 'distinction') AS distinction,
        COUNT(*) FILTER (WHERE f.grade = 'merit') AS merit,
        COUNT(*) FILTER (WHERE f.grade = 'pass') AS passed,
        COUNT(*) FILTER (WHERE f.grade = 'fail') AS failed,
        MAX(f.date) AS epa_last
    FROM cohorts_enrolment e
    LEFT JOIN latest l ON l.enrolment_id = e.id
    LEFT JOIN outcomes_assessmentresult f ON f.enrolment_id = e.id AND f.attempt = 1
    GROUP BY e.cohort_id
)
SELECT c.id, en.enrolled, en.active, en.on_break, en.at_gateway_or_epa, en.completed, en.withdrawn,
       en.leavers, en.achievers, en.hybrid_end, en.otj_planned, en.epa_completed, en.distinction,
       en.merit, en.passed, en.failed, en.epa_last, s.n, s.minutes, s.otj
FROM cohorts_cohort c
LEFT JOIN enrolments en ON en.cohort_id = c.id
LEFT JOIN sessions s ON s.cohort_id = c.id
"""


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def time_metrics_job(repeat: int = 3) -> tuple[float, list]:
    """Return the median seconds of ``recompute_metrics()`` (all cohorts) over ``repeat`` runs, and its rows."""
    return _median_time(recompute_metrics, repeat)


def time_metrics_rewrite() -> float:
    """Return the seconds of one ``recompute_metrics()`` that must write every snapshot; rolled back.

    The stored snapshots are deleted first (inside a transaction that is rolled back), so
    the job inserts all of them: the cost of a first run, or of a change touching every
    cohort (a new national benchmark). ``time_metrics_job`` measures the usual case,
    where most cohorts' figures are unchanged and are not rewritten.
    """
    elapsed = 0.0
    try:
        with transaction.atomic():
            CohortMetrics.objects.all().delete()
            started = time.perf_counter()
            recompute_metrics()
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


def time_metrics_floor(repeat: int = 3) -> tuple[float, list[tuple]]:
    """Return the median seconds of ``FLOOR_SQL`` (fetched in full) over ``repeat`` runs, and its rows."""

    def run():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL)
            return cursor.fetchall()

    return _median_time(run, repeat)


def floor_agrees(floor_rows: list[tuple]) -> dict[str, tuple[int, int]]:
    """Return ``{count: (floor total, job's all-cohorts snapshot)}`` for a few counts, to show both measure the same."""
    snapshot = CohortMetrics.objects.get(key="all")
    columns = {"enrolled": 1, "leavers": 7, "achievers": 8, "epa_completed": 11, "distinction": 12,
               "coaching_sessions": 17}
    return {
        name: (sum(int(row[i] or 0) for row in floor_rows), int(getattr(snapshot, name)))
        for name, i in columns.items()
    }


def explain(sql: str, *, analyze: bool = True) -> str:
    """Return PostgreSQL's plan for ``sql`` (``EXPLAIN (ANALYZE, BUFFERS)`` unless ``analyze`` is False)."""
    option = "(ANALYZE, BUFFERS)" if analyze else ""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {option} {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


# --- Import ------------------------------------------------------------------------------------

IMPORT_MODULE = "cohorts.imports.pipeline"


def import_available() -> str | None:
    """Return ``None`` when the import path exists, else why it is not available."""
    if importlib.util.find_spec(IMPORT_MODULE) is None:
        return f"{IMPORT_MODULE} does not exist yet"
    module = importlib.import_module(IMPORT_MODULE)
    missing = [name for name in ("build_plan", "apply_plan") if not hasattr(module, name)]
    return f"{IMPORT_MODULE} has no {', '.join(missing)}" if missing else None


def import_rows(count: int) -> list[dict]:
    """Return ``count`` new staff rows with enrolments on existing synthetic cohorts (a spreadsheet's columns)."""
    teams = list(Team.objects.order_by("id").values_list("name", flat=True)[:50])
    cohorts = list(Cohort.objects.order_by("-start_date", "id").values_list("name", "start_date")[:40])
    coaches = list(User.objects.filter(role="coach").order_by("id").values_list("email", flat=True)[:40])
    ulns = uln_series(count, first_base=800_000_000)
    rows = []
    for i in range(count):
        cohort, start = cohorts[i % len(cohorts)]
        rows.append({
            "Employee number": f"IMP{i:06d}",
            "First name": "Import",
            "Last name": f"Learner{i:05d}",
            "Work email": f"import.learner{i}@import.example.org",
            "ULN": str(ulns[i]),
            "Team": teams[i % len(teams)],
            "Line manager name": "Sam Jones",
            "Cohort": cohort,
            "Coach email": coaches[i % len(coaches)],
            "Start date": start.strftime("%d/%m/%Y"),
            "Planned end date": start.replace(year=start.year + 2).strftime("%d/%m/%Y"),
            "Planned off-the-job hours": "400",
        })
    return rows


def rows_as_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


class _Rollback(Exception):
    pass


def time_import(rows: list[dict], *, user) -> tuple[float, dict]:
    """Return seconds to check and apply ``rows`` through the import pipeline, and its counts; rolled back.

    Raises ``RuntimeError`` when the plan has error rows (the rows would not import).
    """
    pipeline = importlib.import_module(IMPORT_MODULE)
    content = rows_as_csv(rows)
    counts = {}
    started = time.perf_counter()
    try:
        with transaction.atomic():
            plan = pipeline.build_plan(content=content, options={})
            blocking = plan.blocking_rows(())
            if blocking:
                first = blocking[0]
                raise RuntimeError(f"{len(blocking)} import rows have errors, e.g. row {first.row}: "
                                   f"{getattr(first, 'problems', '')}")
            counts = pipeline.apply_plan(plan=plan, user=user, filename="benchmark.csv")
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed, counts


def time_copy(rows: list[dict]) -> float:
    """Return seconds to ``COPY`` the learners and enrolments of ``rows`` (ids resolved in memory); rolled back."""
    started = time.perf_counter()
    try:
        with transaction.atomic():
            teams = dict(Team.objects.values_list("name", "id"))
            cohorts = dict(Cohort.objects.values_list("name", "id"))
            coaches = dict(User.objects.filter(role="coach").values_list("email", "id"))
            with connection.cursor() as cursor:
                cursor.execute("SELECT COALESCE(MAX(id), 0) FROM learners_learner")
                base = cursor.fetchone()[0] + 1
                pg = cursor.cursor
                with pg.copy(
                    "COPY learners_learner (id, first_name, last_name, work_email, employee_number, uln, team_id, "
                    "line_manager_name, line_manager_email, version, created_at, updated_at) FROM STDIN"
                ) as copy:
                    for i, r in enumerate(rows):
                        copy.write_row((base + i, r["First name"], r["Last name"], r["Work email"],
                                        r["Employee number"], r["ULN"], teams[r["Team"]], r["Line manager name"],
                                        "", 1, "now", "now"))
                with pg.copy(
                    "COPY cohorts_enrolment (learner_id, cohort_id, coach_id, start_date, planned_end_date, "
                    "planned_otj_hours, prior_learning_reduction_hours, status, withdrawal_reason, version, "
                    "created_at, updated_at) FROM STDIN"
                ) as copy:
                    for i, r in enumerate(rows):
                        start = "-".join(reversed(r["Start date"].split("/")))
                        end = "-".join(reversed(r["Planned end date"].split("/")))
                        copy.write_row((base + i, cohorts[r["Cohort"]], coaches[r["Coach email"]], start, end,
                                        r["Planned off-the-job hours"], 0, "active", "", 1, "now", "now"))
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


# --- Queries per page ----------------------------------------------------------------------------


def page_queries(client, path: str) -> tuple[int, list[dict], int]:
    """GET ``path`` with ``client``; return (status code, captured queries ``{"sql", "time"}``, response bytes)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, secure=True, HTTP_HOST="127.0.0.1")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, list(captured.captured_queries), len(body)
