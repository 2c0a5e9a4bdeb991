"""Small statistics for cohort rates: the Wilson score interval and the exact binomial test.

Both wrap ``scipy.stats.binomtest`` so the arithmetic is SciPy's, not ours; this module
fixes the conventions Academy uses (docs/rules.md, "Statistics"): a 95% Wilson score interval
without continuity correction, and a two-sided exact test. Results are memoised by their
arguments: the metrics job asks for the same few (k, n) pairs across many cohorts, and
``binomtest`` costs about half a millisecond a call.
"""
from functools import lru_cache

from scipy.stats import binomtest


def _check_counts(k: int, n: int) -> None:
    if n < 1:
        raise ValueError(f"A rate needs a denominator of at least 1 (got {n}): there are no results yet.")
    if not 0 <= k <= n:
        raise ValueError(f"The numerator must be between 0 and the denominator (got {k} of {n}).")


@lru_cache(maxsize=4096)
def _wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    # SciPy may return -0.0 or a hair above 1 from rounding; clamp to the unit interval.
    return max(0.0, float(ci.low)), min(1.0, float(ci.high))


@lru_cache(maxsize=4096)
def _binomial_p(k: int, n: int, p: float) -> float:
    return float(binomtest(k, n, p).pvalue)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval ``(low, high)`` for ``k`` successes in ``n`` trials.

    Bounds are fractions 0–1, without continuity correction: method 3 ("score method") of
    Newcombe, R. G. (1998), "Two-sided confidence intervals for the single proportion:
    comparison of seven methods", *Statistics in Medicine* 17:857–872, after Wilson, E. B.
    (1927), *JASA* 22:209–212. For 81/263 it gives 0.2553–0.3662 (Newcombe, Table I).
    Computed by ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``.

    Raises ``ValueError`` when ``n`` is 0 (no interval exists for an empty denominator:
    callers show "no results yet") or when ``k`` is not within 0..``n``.
    """
    _check_counts(k, n)
    return _wilson(int(k), int(n), float(confidence))


def binomial_test(k: int, n: int, p: float) -> float:
    """Return the two-sided exact binomial test p-value of ``k`` successes in ``n`` trials against rate ``p``.

    ``p`` is a fraction 0–1 (e.g. a national benchmark). The two-sided p-value sums the
    probabilities of all outcomes no more likely than the one observed, as R's
    ``binom.test`` does (R documentation example: ``binom.test(682, 925, p = 0.75)``
    gives p-value 0.3825). Computed by ``scipy.stats.binomtest(k, n, p).pvalue``.

    Raises ``ValueError`` when ``n`` is 0, ``k`` is outside 0..``n`` or ``p`` is outside 0–1.
    """
    _check_counts(k, n)
    if not 0 <= p <= 1:
        raise ValueError(f"The benchmark rate must be a fraction between 0 and 1 (got {p}).")
    return _binomial_p(int(k), int(n), float(p))
