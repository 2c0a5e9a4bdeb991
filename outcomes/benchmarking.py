"""National benchmarks: choose the one a cohort rate is compared with; save one a lead enters."""
from collections.abc import Iterable
from functools import lru_cache

from django.db import transaction

from academy.changes import queue_recompute
from academy.dates import parse_academic_year
from outcomes.models import NationalBenchmark


@lru_cache(maxsize=256)
def _year_start(label: str) -> int:
    return parse_academic_year(label)


def load_benchmarks() -> list[NationalBenchmark]:
    """Return every national benchmark with its standard, in one query (for ``match_benchmark``)."""
    return list(NationalBenchmark.objects.select_related("standard"))


def match_benchmark(
    *,
    measure: str,
    academic_year: str | None,
    standard_id: int | None = None,
    level: int | None = None,
    benchmarks: Iterable[NationalBenchmark] | None = None,
) -> NationalBenchmark | None:
    """Return the national benchmark to compare a rate of ``measure`` with, or ``None``.

    The rule (docs/rules.md, "Statistics": a rate is compared only with the same measure):

    1. Only benchmarks of the same ``measure`` count; another measure is never borrowed.
    2. Suppressed figures (``rate`` empty: ``low``/``x`` in DfE tables) are skipped.
    3. Year first: the figure for ``academic_year`` ("2023/24") if any applicable scope
       publishes one, else the latest earlier year that has one; never a later year (a
       later figure did not exist when the learners were counted). With ``academic_year``
       ``None`` (no results yet) the latest published year is used, so the page can still
       show the national figure.
    4. Within that year, scope falls back from the most specific to the least: the
       cohort's standard (``standard_id``), then its level (``level``), then all standards.
       Year comes before scope so that a figure from years earlier (say a 2018/19 level 3
       rate) never outranks the current national rate: national achievement rates moved
       by more than 10 points between 2018/19 and 2023/24 (academy/data/SOURCES.md).

    ``benchmarks`` is a preloaded list (see ``load_benchmarks``) so a job matching many
    cohorts makes one query in all; without it, this function runs one query.
    """
    if benchmarks is None:
        benchmarks = NationalBenchmark.objects.filter(measure=measure).select_related("standard")
    limit = _year_start(academic_year) if academic_year else None
    usable = [
        b
        for b in benchmarks
        if b.measure == measure and b.rate is not None and (limit is None or _year_start(b.academic_year) <= limit)
    ]
    scopes = []
    if standard_id is not None:
        scopes.append(lambda b: b.scope == NationalBenchmark.Scope.STANDARD and b.standard_id == standard_id)
    if level is not None:
        scopes.append(lambda b: b.scope == NationalBenchmark.Scope.LEVEL and b.level == level)
    scopes.append(lambda b: b.scope == NationalBenchmark.Scope.ALL)
    applicable = [b for b in usable if any(in_scope(b) for in_scope in scopes)]
    if not applicable:
        return None
    year = max(_year_start(b.academic_year) for b in applicable)
    in_year = [b for b in applicable if _year_start(b.academic_year) == year]
    for in_scope in scopes:
        for candidate in in_year:
            if in_scope(candidate):
                return candidate
    return None


def save_benchmark(benchmark: NationalBenchmark, *, by) -> NationalBenchmark:
    """Save a national benchmark a lead entered or changed (its history records ``by``); return it.

    The caller has validated it (``outcomes.forms``). Every cohort is recomputed after the
    commit, so the dashboard compares with the new figure (``academy.changes``).
    """
    with transaction.atomic():
        benchmark._history_user = by
        benchmark.save()
        queue_recompute()
    return benchmark
