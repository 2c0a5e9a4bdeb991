"""What the dashboard pages read: stored snapshots, live (filtered) figures, groups and the risk counts.

Filtered pages and the trends, teams and coaching pages compute live with the metrics
job's own reading and counting functions (``outcomes.metrics``), one query per table,
so their query count never grows with the data.
"""
import logging
from typing import TYPE_CHECKING

import pandas as pd
from django.db.models import F, Max, Q, Sum
from django.db.models.fields.json import KT
from django.utils import timezone

from academy.dates import parse_academic_year
from coaching.risk import learner_risks
from cohorts.models import Cohort, Enrolment
from outcomes.benchmarking import load_benchmarks
from outcomes.metrics.counts import cohort_counts, group_counts, snapshot_rates, totals
from outcomes.metrics.frames import ALL_KEY, COUNT_FIELDS, HOUR_FIELDS, NO_COACH, enrolment_filter, load_frames
from outcomes.metrics.job import build_snapshot, counts_from_snapshots
from outcomes.models import CohortMetrics, NationalBenchmark

if TYPE_CHECKING:  # pragma: no cover
    from outcomes.filters import DashboardFilters


logger = logging.getLogger(__name__)


def rates_for(row, *, standard_id: int | None, level: int | None, benchmarks: list[NationalBenchmark]) -> dict:
    """Return the ``rates`` dict for a counts row of any group (alias of ``snapshot_rates``)."""
    return snapshot_rates(row, standard_id=standard_id, level=level, benchmarks=benchmarks)


def unsaved_snapshot(row, rates: dict, *, cohort=None, computed_at=None) -> CohortMetrics:
    """Return an unsaved ``CohortMetrics`` for a counts row, for pages that compute live (never saved)."""
    snapshot = build_snapshot(cohort.pk if cohort is not None else None, row, rates, computed_at or timezone.now())
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


# --- Dashboard page data (services the views call) -------------------------------------


def stored_snapshots():
    """Return every stored snapshot with cohort and standard, cohorts by start date then name (one query)."""
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
    live ones; ``dashboards.presentation.dashboard_summary`` accepts either.
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
    counts = counts_from_snapshots(
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
    return Q(**{f"rates__{measure}__year__isnull": False}) & ~Q(**{f"rates__{measure}__year": None})


def stored_standard_totals(benchmarks: list[NationalBenchmark]) -> dict[int, CohortMetrics]:
    """Return, per standard id, an unsaved snapshot summing its cohorts' stored snapshots: one ``GROUP BY`` query.

    The same figures as ``standard_totals`` over every stored cohort snapshot (counts and
    hours summed, years the latest: the largest "2023/24" label, whose order is the
    years' order), without loading a model per cohort, so it stays cheap with thousands
    of cohorts.
    """
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
