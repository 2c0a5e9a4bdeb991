"""Choose the national benchmark a cohort rate is compared with."""
from collections.abc import Iterable
from functools import lru_cache

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

    The rule (DESIGN.md, "Statistics": a rate is compared only with the same measure):

    1. Only benchmarks of the same ``measure`` count; another measure is never borrowed.
    2. Suppressed figures (``rate`` empty: ``low``/``x`` in DfE tables) are skipped.
    3. Scope falls back from the most specific to the least: the cohort's standard
       (``standard_id``), then its level (``level``), then all standards. The first scope
       with any usable figure wins, even if a less specific scope has a newer one:
       a like-for-like comparison matters more than the latest year.
    4. Within a scope: the figure for ``academic_year`` ("2023/24") if published, else the
       latest earlier year; never a later year (a later figure did not exist when the
       learners were counted). With ``academic_year`` ``None`` (no results yet) the latest
       published year is used, so the page can still show the national figure.

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
    for in_scope in scopes:
        candidates = [b for b in usable if in_scope(b)]
        if candidates:
            return max(candidates, key=lambda b: _year_start(b.academic_year))
    return None
