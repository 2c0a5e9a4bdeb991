"""A synthetic academy of any size for scale tests: ``generate_scale(learners=N, seed=S)``.

Shape (per ``N`` learners; ``SCALE_TODAY`` is the demo's fixed "today", 29 November 2026,
so nothing is dated after it and the data do not shift with the calendar):

- coaches: one per ``LEARNERS_PER_COACH`` (50) learners, ``coach00001@scale.example.org``…,
  plus ``scale-lead@`` (apprenticeship lead) and ``scale-head@scale.example.org`` (head of
  data); no usable passwords (the benchmark signs in with sessions);
- teams: one per ``LEARNERS_PER_TEAM`` (200) learners, skewed sizes (a few big teams);
- cohorts: one per ``LEARNERS_PER_COHORT`` (25) learners, intakes from September 2019 to
  October 2026 (more in later years), each on one of up to 12 standards taken from the
  loaded reference data (four ``ST8xxx`` standards are created when none is loaded) and
  with one of 12 invented providers (UKPRNs ``1999xxxx``, clear of real ones);
- learners: one enrolment each; ULNs pass the check digit (ILR rule DD01; 3% blank,
  "not known yet"); employee numbers ``S0000001``…;
- enrolments: status from the dates: planned end passed more than 120 days ago →
  completed (with a result) or withdrawn (about 28%); near the planned end → gateway,
  end-point assessment or completed; otherwise in learning (7% on a break). Withdrawn
  ones carry an ILR reason and an actual end date and never a result; completed ones end
  on their last EPA date;
- EPA results: first attempt about 25% distinction, 30% merit, 35% pass, 10% fail
  (Ofqual's first-attempt pass rate is 89.7%); most fails resit 60–120 days later;
- coaching sessions: about ``SESSIONS_PER_LEARNER`` (10) per learner, spread over each
  enrolment's time in learning; 86% attended, 8% cancelled, 6% no-show; off-the-job
  hours only on attended sessions (the session's length);
- status history: "→ active" at the start, and the change to the current status.

Everything comes from ``numpy.random.default_rng(seed)`` over arrays (no per-row Python
loop), so the same seed on the same reference data gives the same rows (ids aside, which
continue from the tables' highest ids). Rows are written with PostgreSQL ``COPY`` (psycopg
3) or, on other databases, ``bulk_create`` in batches, in one transaction; the metrics job
then runs once. No history rows are written (a bulk load, like ``seed_demo``'s).
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import numpy as np
import pandas as pd
from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

from academy.models import User
from cohorts.models import Standard
from demo.seed.plan import FIRST_NAMES, LAST_NAMES
from demo.seed.today import DEMO_TODAY
from outcomes.metrics import recompute_metrics

SCALE_TODAY = DEMO_TODAY
DEFAULT_SEED = 2026
EMAIL_DOMAIN = "scale.example.org"
LEAD_EMAIL = f"scale-lead@{EMAIL_DOMAIN}"
HEAD_EMAIL = f"scale-head@{EMAIL_DOMAIN}"
COHORT_PREFIX = "Scale"
LEARNERS_PER_COHORT = 25
LEARNERS_PER_COACH = 50
LEARNERS_PER_TEAM = 200
SESSIONS_PER_LEARNER = 10
FIRST_INTAKE = dt.date(2019, 9, 1)
LAST_INTAKE = dt.date(2026, 10, 1)
PREFERRED_STANDARDS = ("ST0118", "ST0795", "ST0119", "ST0116", "ST0763", "ST0585", "ST0787")
MAX_STANDARDS = 12
BATCH_ROWS = 100_000

PROVIDERS = (
    "Aldergate Training Ltd", "Brookfield Skills", "Castleford Learning", "Dunmore College",
    "Eastway Apprenticeships", "Fernhill Digital Academy", "Greystone Training", "Harbourside College",
    "Ivybridge Skills Partnership", "Kingsmead Learning", "Larchwood Apprenticeships", "Moorgate Digital Skills",
)
DIRECTORATES = ("Resources", "Adults and Health", "Children's Services", "Place", "Communities")
TOPICS = (
    "Portfolio review", "SQL joins and aggregation", "Python data cleaning", "Power BI data model",
    "Stakeholder presentation", "Data protection and ethics", "Statistics refresher", "Project scoping",
    "EPA preparation", "Off-the-job hours plan",
)
WITHDRAWAL_REASONS = ("44", "43", "29", "3", "2", "97", "98")
WITHDRAWAL_WEIGHTS = (0.30, 0.10, 0.10, 0.12, 0.18, 0.15, 0.05)

ProgressFn = Callable[[str, int, int], None]


class ScaleDataExists(Exception):
    """Raised when the database already holds a synthetic academy (its lead user exists)."""


# --- Pure generation: arrays in, DataFrames out ---------------------------------------------


def uln_series(count: int, first_base: int = 500_000_000) -> np.ndarray:
    """Return ``count`` distinct valid ULNs (strings) from consecutive 9-digit bases, per rule DD01."""
    bases = np.arange(first_base, first_base + int(count * 1.2) + 20, dtype=np.int64)
    digits = (bases[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    remainder = (digits * np.arange(10, 1, -1)).sum(axis=1) % 11
    ok = remainder != 0  # a remainder of 0 has no valid check digit
    ulns = bases[ok] * 10 + (10 - remainder[ok])
    return ulns[:count].astype(str)


def _days(dates: np.ndarray) -> np.ndarray:
    return dates.astype("datetime64[D]")


def build_frames(*, learners: int, seed: int, standards: list[tuple[int, int, int | None, str]]) -> dict:
    """Return the synthetic academy as DataFrames, ids counted from 0 within each table.

    ``standards`` lists ``(id, level, typical_duration_months or None, title)``. Returns
    ``{"users", "teams", "cohorts", "learners", "enrolments", "results", "sessions",
    "status_changes"}``; foreign keys hold 0-based positions (``write`` adds the id bases).
    Deterministic for ``seed`` and ``standards``.
    """
    if learners < 1:
        raise ValueError("The academy needs at least one learner.")
    rng = np.random.default_rng(seed)
    today = np.datetime64(SCALE_TODAY, "D")
    n = learners
    n_coaches = max(1, round(n / LEARNERS_PER_COACH))
    n_teams = max(3, round(n / LEARNERS_PER_TEAM))
    n_cohorts = max(1, round(n / LEARNERS_PER_COHORT))

    users = pd.DataFrame(
        {
            "email": [f"coach{i + 1:05d}@{EMAIL_DOMAIN}" for i in range(n_coaches)],
            "full_name": [
                f"{f} {l}"
                for f, l in zip(rng.choice(FIRST_NAMES, n_coaches), rng.choice(LAST_NAMES, n_coaches), strict=True)
            ],
            "role": "coach",
        }
    )
    teams = pd.DataFrame(
        {
            "name": [f"{COHORT_PREFIX} team {i + 1:04d}" for i in range(n_teams)],
            "directorate": rng.choice(DIRECTORATES, n_teams),
        }
    )

    # Cohorts: monthly intakes, later years busier (apprenticeships grew).
    month_starts = np.arange(
        np.datetime64(FIRST_INTAKE, "M"), np.datetime64(LAST_INTAKE, "M") + 1, dtype="datetime64[M]"
    )
    month_weights = np.linspace(1.0, 2.0, len(month_starts))
    month_idx = np.sort(rng.choice(len(month_starts), n_cohorts, p=month_weights / month_weights.sum()))
    cohort_start = month_starts[month_idx].astype("datetime64[D]") + rng.integers(0, 14, n_cohorts)
    std_pick = rng.integers(0, len(standards), n_cohorts)
    std_ids = np.array([s[0] for s in standards], dtype=np.int64)
    std_levels = np.array([s[1] for s in standards], dtype=np.int64)
    std_months = np.array([min(max(s[2] or 18, 12), 48) for s in standards], dtype=np.int64)
    std_titles = np.array([s[3][:70] for s in standards], dtype=object)
    provider_pick = rng.integers(0, len(PROVIDERS), n_cohorts)
    start_labels = pd.to_datetime(cohort_start).strftime("%B %Y")
    cohorts = pd.DataFrame(
        {
            "name": [
                f"{COHORT_PREFIX} {i + 1:05d}: {t} L{lv} — {m}"
                for i, (t, lv, m) in enumerate(
                    zip(std_titles[std_pick], std_levels[std_pick], start_labels, strict=True)
                )
            ],
            "standard_id": std_ids[std_pick],
            "provider": np.array(PROVIDERS, dtype=object)[provider_pick],
            "provider_ukprn": [f"1999{p:04d}" for p in provider_pick],
            "start_date": cohort_start,
        }
    )

    # Learners.
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    index = np.arange(1, n + 1).astype(str)
    team_weights = 1.0 / np.sqrt(np.arange(1, n_teams + 1))
    uln = uln_series(n)
    uln = np.where(rng.random(n) < 0.03, "", uln)
    learners_df = pd.DataFrame(
        {
            "first_name": first,
            "last_name": last,
            "work_email": pd.Series(first).str.lower() + "." + pd.Series(last).str.lower() + "." + index
            + "@" + EMAIL_DOMAIN,
            "employee_number": "S" + pd.Series(index).str.zfill(7),
            "uln": uln,
            "team_id": rng.choice(n_teams, n, p=team_weights / team_weights.sum()),
            "line_manager_name": pd.Series(rng.choice(FIRST_NAMES, n)) + " " + pd.Series(rng.choice(LAST_NAMES, n)),
            "line_manager_email": "",
        }
    )

    # Enrolments: one per learner.
    cohort_of = rng.integers(0, n_cohorts, n)
    start = cohort_start[cohort_of] + rng.integers(0, 21, n)
    months = std_months[std_pick[cohort_of]]
    planned_end = start + np.round(months * 30.44).astype(np.int64)
    duration = (planned_end - start).astype(np.int64)
    elapsed = np.minimum((today - start).astype(np.int64), duration)
    contracted = rng.choice([37.0, 30.0, 22.5], n, p=[0.8, 0.12, 0.08])
    planned_otj = np.round(contracted * 0.2 * duration / 7 * (46.4 / 52), 2)

    status = np.full(n, "active", dtype=object)
    actual_end = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    change_date = start.copy()
    u = rng.random(n)
    withdrawn = u < 0.28 * (elapsed / duration)
    withdraw_date = start + np.maximum(1, (rng.uniform(0.1, 0.9, n) * elapsed).astype(np.int64))
    withdraw_date = np.minimum(withdraw_date, today - 1)
    status[withdrawn] = "withdrawn"
    actual_end[withdrawn] = withdraw_date[withdrawn]
    change_date[withdrawn] = withdraw_date[withdrawn]

    since_end = (today - planned_end).astype(np.int64)
    v = rng.random(n)
    long_ended = ~withdrawn & (since_end > 120)
    near_end = ~withdrawn & (since_end > -60) & (since_end <= 120)
    completed = long_ended | (near_end & (v < 0.5))
    gateway = near_end & (v >= 0.5) & (v < 0.75)
    epa = near_end & (v >= 0.75)
    on_break = ~withdrawn & ~completed & ~gateway & ~epa & (rng.random(n) < 0.07)
    status[gateway] = "gateway"
    status[epa] = "end_point_assessment"
    status[on_break] = "break_in_learning"
    gateway_date = np.minimum(np.maximum(planned_end - 30, start + 1), today - 1)
    change_date[gateway | epa] = gateway_date[gateway | epa]
    change_date[on_break] = (start + np.maximum(1, (rng.random(n) * elapsed).astype(np.int64)))[on_break]
    change_date[on_break] = np.minimum(change_date[on_break], today - 1)

    # Results of completed enrolments: first attempt, then a resit for most fails.
    epa_date_1 = np.minimum(planned_end + rng.integers(0, 90, n), today - 1)
    epa_date_1 = np.maximum(epa_date_1, start + 1)
    grade_1 = rng.choice(["distinction", "merit", "pass", "fail"], n, p=[0.25, 0.30, 0.35, 0.10])
    epa_date_2 = epa_date_1 + rng.integers(60, 121, n)
    resit = completed & (grade_1 == "fail") & (rng.random(n) < 0.75) & (epa_date_2 < today)
    grade_2 = rng.choice(["merit", "pass", "fail"], n, p=[0.25, 0.60, 0.15])
    status[completed] = "completed"
    actual_end[completed] = np.where(resit, epa_date_2, epa_date_1)[completed]
    change_date[completed] = actual_end[completed]
    first_rows = np.flatnonzero(completed)
    resit_rows = np.flatnonzero(resit)
    results = pd.DataFrame(
        {
            "enrolment_id": np.concatenate([first_rows, resit_rows]),
            "grade": np.concatenate([grade_1[first_rows], grade_2[resit_rows]]),
            "date": np.concatenate([epa_date_1[first_rows], epa_date_2[resit_rows]]),
            "attempt": np.concatenate([np.ones(len(first_rows), np.int64), np.full(len(resit_rows), 2)]),
        }
    )
    reasons = rng.choice(WITHDRAWAL_REASONS, n, p=WITHDRAWAL_WEIGHTS)
    enrolments = pd.DataFrame(
        {
            "learner_id": np.arange(n),
            "cohort_id": cohort_of,
            "coach_id": rng.integers(0, n_coaches, n),
            "start_date": start,
            "planned_end_date": planned_end,
            "actual_end_date": actual_end,
            "planned_otj_hours": planned_otj,
            "contracted_hours_per_week": contracted,
            "status": status,
            "withdrawal_reason": np.where(withdrawn, reasons, ""),
        }
    )

    # Status history: the start, then the change to the current status.
    changed = status != "active"
    status_changes = pd.DataFrame(
        {
            "enrolment_id": np.concatenate([np.arange(n), np.flatnonzero(changed)]),
            "from_status": np.concatenate([np.full(n, "", dtype=object), np.full(changed.sum(), "active", dtype=object)]),
            "to_status": np.concatenate([np.full(n, "active", dtype=object), status[changed]]),
            "effective_date": np.concatenate([start, change_date[changed]]),
        }
    )

    # Coaching sessions: a Poisson number over each enrolment's time in learning,
    # scaled so the academy averages SESSIONS_PER_LEARNER.
    window_end = np.where(np.isnat(actual_end), np.minimum(today - 1, planned_end + 60), actual_end)
    window = np.maximum((window_end - start).astype(np.int64), 1)
    rate = SESSIONS_PER_LEARNER * n / window.sum()
    per_enrolment = rng.poisson(window * rate)
    owner = np.repeat(np.arange(n), per_enrolment)
    m = len(owner)
    session_date = start[owner] + (rng.random(m) * window[owner]).astype(np.int64)
    minutes = rng.choice([30, 45, 60, 90], m, p=[0.2, 0.2, 0.5, 0.1])
    attendance = rng.choice(["attended", "cancelled", "no_show"], m, p=[0.86, 0.08, 0.06])
    sessions = pd.DataFrame(
        {
            "enrolment_id": owner,
            "coach_id": enrolments["coach_id"].to_numpy()[owner],
            "date": session_date,
            "duration_minutes": minutes,
            "mode": rng.choice(["video", "in_person", "phone"], m, p=[0.6, 0.3, 0.1]),
            "attendance": attendance,
            "otj_hours": np.where(attendance == "attended", np.round(minutes / 60, 2), 0.0),
            "topics": rng.choice(TOPICS, m),
            "notes": "",
        }
    )
    return {
        "users": users,
        "teams": teams,
        "cohorts": cohorts,
        "learners": learners_df,
        "enrolments": enrolments,
        "results": results,
        "sessions": sessions,
        "status_changes": status_changes,
    }


# --- Writing --------------------------------------------------------------------------------

# frame name -> (model label, {foreign-key column: frame it points into})
TABLES = {
    "users": ("academy.User", {}),
    "teams": ("academy.Team", {}),
    "cohorts": ("cohorts.Cohort", {}),
    "learners": ("learners.Learner", {"team_id": "teams"}),
    "enrolments": ("cohorts.Enrolment", {"learner_id": "learners", "cohort_id": "cohorts", "coach_id": "users"}),
    "status_changes": ("cohorts.EnrolmentStatusChange", {"enrolment_id": "enrolments"}),
    "results": ("cohorts.AssessmentResult", {"enrolment_id": "enrolments"}),
    "sessions": ("coaching.CoachingSession", {"enrolment_id": "enrolments", "coach_id": "users"}),
}
ORDER = ("users", "teams", "cohorts", "learners", "enrolments", "status_changes", "results", "sessions")


def _complete_columns(model, frame: pd.DataFrame, now) -> pd.DataFrame:
    """Return ``frame`` with every concrete column of ``model``: field defaults, NULLs, timestamps.

    Raises ``ValueError`` naming a required column the generator does not fill (a new
    field without a default).
    """
    out = frame.copy()
    for field in model._meta.concrete_fields:
        column = field.column
        if column in out.columns or field.primary_key:
            continue
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            out[column] = now
        elif field.name == "password":
            out[column] = "!scale-data-no-password"
        elif field.has_default():
            default = field.get_default()
            out[column] = now if isinstance(default, dt.datetime) else default
        elif field.null:
            out[column] = None
        elif field.blank and isinstance(field, (models.CharField, models.TextField)):
            out[column] = ""
        else:
            raise ValueError(f"{model.__name__}.{field.name} has no default: teach demo.scale to fill it.")
    if "date_joined" in out.columns:
        out["date_joined"] = now
    return out


def _text_column(series: pd.Series) -> pd.Series:
    """Return ``series`` as COPY text: dates ISO, NULL as ``\\N``, booleans t/f."""
    values = series.to_numpy()
    if np.issubdtype(values.dtype, np.datetime64):
        text = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
        text[np.isnat(values)] = r"\N"
        return pd.Series(text, index=series.index)
    if values.dtype == bool:
        return pd.Series(np.where(values, "t", "f"), index=series.index)
    if values.dtype == object:
        out = series.astype(object)
        return out.where(out.notna(), r"\N").map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    return series.astype(str)


def _copy_frame(table: str, frame: pd.DataFrame, progress: Callable[[int], None]) -> None:
    """COPY ``frame`` into ``table`` with psycopg 3 in blocks of ``BATCH_ROWS`` rows."""
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    with connection.cursor() as cursor:
        pg = cursor.cursor  # the psycopg cursor under Django's wrapper
        with pg.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for lo in range(0, len(frame), BATCH_ROWS):
                block = frame.iloc[lo : lo + BATCH_ROWS]
                text = pd.DataFrame({c: _text_column(block[c]) for c in block.columns})
                buffer = io.StringIO()
                text.to_csv(buffer, sep="\t", header=False, index=False, quoting=3, lineterminator="\n")
                copy.write(buffer.getvalue())
                progress(len(block))


def _bulk_create(model, frame: pd.DataFrame, progress: Callable[[int], None], batch: int = 2000) -> None:
    """Insert ``frame`` with ``bulk_create`` in batches (databases other than PostgreSQL)."""
    fields = {f.column: f for f in model._meta.concrete_fields}
    for lo in range(0, len(frame), batch):
        block = frame.iloc[lo : lo + batch]
        rows = []
        for record in block.to_dict("records"):
            values = {}
            for column, value in record.items():
                field = fields[column]
                if isinstance(value, (np.datetime64, pd.Timestamp, type(pd.NaT))):
                    if pd.isna(value):
                        value = None
                    elif isinstance(field, models.DateTimeField):
                        value = pd.Timestamp(value).to_pydatetime()
                    else:
                        value = pd.Timestamp(value).date()
                elif isinstance(value, float) and np.isnan(value):
                    value = None
                elif isinstance(value, np.generic):
                    value = value.item()
                values[field.attname] = value
            rows.append(model(**values))
        model.objects.bulk_create(rows)
        progress(len(block))


def _id_base(model) -> int:
    """Return the next free id of ``model``'s table (its highest id + 1)."""
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def _standards() -> list[tuple[int, int, int | None, str]]:
    """Return up to ``MAX_STANDARDS`` standards as (id, level, months, title); create four if none exist."""
    chosen = list(
        Standard.objects.filter(reference__in=PREFERRED_STANDARDS)
        .order_by("reference")
        .values_list("id", "level", "typical_duration_months", "title")
    )
    others = Standard.objects.exclude(reference__in=PREFERRED_STANDARDS).order_by("reference")
    others = list(others.values_list("id", "level", "typical_duration_months", "title"))
    step = max(1, len(others) // MAX_STANDARDS)
    chosen += others[::step][: MAX_STANDARDS - len(chosen)]
    if chosen:
        return chosen
    created = [
        Standard.objects.create(reference=f"ST80{i:02d}", title=title, level=level, typical_duration_months=months)
        for i, (title, level, months) in enumerate(
            [("Data technician", 3, 18), ("Data analyst", 4, 24), ("Software developer", 4, 24),
             ("Data scientist (integrated degree)", 6, 36)],
            start=1,
        )
    ]
    return [(s.id, s.level, s.typical_duration_months, s.title) for s in created]


def generate_scale(*, learners: int, seed: int = DEFAULT_SEED, progress: ProgressFn | None = None) -> dict[str, int]:
    """Write a synthetic academy of ``learners`` learners, then run the metrics job once.

    Returns the rows written per frame name (``users``, ``teams``, ``cohorts``,
    ``learners``, ``enrolments``, ``status_changes``, ``results``, ``sessions``).
    ``progress(step, done, total)`` is called as rows are written (rows of all tables).
    Uses COPY on PostgreSQL, ``bulk_create`` elsewhere; one transaction.
    Raises ``ScaleDataExists`` if a synthetic academy is already there (its lead user).
    """
    report = progress or (lambda step, done, total: None)
    if User.objects.filter(email=LEAD_EMAIL).exists():
        raise ScaleDataExists(f"A synthetic academy is already in this database ({LEAD_EMAIL} exists).")
    now = timezone.now()
    with transaction.atomic():
        report("planning", 0, 1)
        frames = build_frames(learners=learners, seed=seed, standards=_standards())
        total = sum(len(f) for f in frames.values())
        done = 0
        bases = {}
        postgres = connection.vendor == "postgresql"
        for name in ORDER:
            label, fks = TABLES[name]
            model = apps.get_model(label)
            bases[name] = _id_base(model)
            frame = frames[name].copy()
            for column, target in fks.items():
                frame[column] = frame[column].to_numpy() + bases[target]
            frame.insert(0, "id", np.arange(len(frame)) + bases[name])
            frame = _complete_columns(model, frame, now)

            def step(rows, name=name):
                nonlocal done
                done += rows
                report(f"writing {name}", done, total)

            if postgres:
                _copy_frame(model._meta.db_table, frame, step)
                with connection.cursor() as cursor:
                    table = model._meta.db_table
                    cursor.execute(
                        # bandit B608: the table name comes from model meta, not from input.
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT MAX(id) FROM \"{table}\"))"  # nosec B608
                    )
            else:
                _bulk_create(model, frame, step)
        User.objects.create_user(LEAD_EMAIL, role=User.Role.LEAD, full_name="Scale Lead")
        User.objects.create_user(HEAD_EMAIL, role=User.Role.HEAD_OF_DATA, full_name="Scale Head of Data")
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh planner statistics for the new rows
    report("computing metrics", 0, 1)
    recompute_metrics()
    report("done", 1, 1)
    return {name: len(frames[name]) for name in ORDER}
