"""The snapshot job: read the frames, count, compare with benchmarks, upsert ``CohortMetrics`` (only what changed)."""
import hashlib
import json
import logging
import pickle  # nosec B403 - only pickle.dumps, to digest our own values (fingerprint); nothing is unpickled
from decimal import Decimal

import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from academy.changes import bump_generation
from academy.dates import parse_academic_year
from academy.pg_copy import copy_in
from cohorts.models import Cohort
from outcomes.benchmarking import load_benchmarks
from outcomes.models import CohortMetrics

from .counts import cohort_counts, snapshot_rates, totals
from .frames import ALL_KEY, COUNT_FIELDS, HOUR_FIELDS, key_for, load_frames

logger = logging.getLogger(__name__)


# --- The service ----------------------------------------------------------------------


def counts_from_snapshots(rows: list[dict]) -> pd.DataFrame:
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


def build_snapshot(cohort_id: int | None, row, rates: dict, now) -> CohortMetrics:
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
    It also adds one to the dashboard generation (``academy.changes``), so no
    page cached before this run is served after it commits.
    """
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
        counts = pd.concat([fresh, counts_from_snapshots(stored)]) if stored else fresh
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
        snapshots.append(build_snapshot(int(cid), by_cohort[cid], rates, now))
    levels = cohorts["level"].unique()
    all_row = totals(counts)
    all_rates = snapshot_rates(
        all_row, standard_id=None, level=int(levels[0]) if len(levels) == 1 else None, benchmarks=benchmarks
    )
    snapshots.append(build_snapshot(None, all_row, all_rates, now))

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
    if connection.vendor != "postgresql" or len(snapshots) < COPY_UPSERT_MIN:
        update_fields = ["cohort", *COUNT_FIELDS, *HOUR_FIELDS, "rates", "fingerprint", "computed_at"]
        CohortMetrics.objects.bulk_create(
            snapshots, update_conflicts=True, unique_fields=["key"], update_fields=update_fields
        )
        return
    table = CohortMetrics._meta.db_table
    columns = ["key", "cohort_id", *COUNT_FIELDS, *HOUR_FIELDS, "rates", "fingerprint", "computed_at"]
    compared = ["cohort_id", *COUNT_FIELDS, *HOUR_FIELDS, "rates", "fingerprint"]
    names = ", ".join(columns)
    # Table and column names come from the model's metadata and constants above, never from
    # input; the only value (ALL_KEY) is passed as a parameter.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE metrics_upsert AS SELECT {names} FROM {table} WITH NO DATA")  # nosec B608
        copy_in(connection, cursor, table="metrics_upsert", columns=columns, rows=(
            (s.key, s.cohort_id, *(getattr(s, n) for n in (*COUNT_FIELDS, *HOUR_FIELDS)),
             json.dumps(s.rates), s.fingerprint, s.computed_at)
            for s in snapshots
        ))
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM metrics_upsert "  # nosec B608
            f"ON CONFLICT (key) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in columns[1:])} "
            f"WHERE {table}.key = %s OR ({', '.join(f'{table}.{c}' for c in compared)}) "
            f"IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in compared)})",
            [ALL_KEY],
        )
        cursor.execute("DROP TABLE metrics_upsert")
