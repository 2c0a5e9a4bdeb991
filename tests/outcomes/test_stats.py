"""The Wilson score interval and the exact binomial test against published worked values."""
import math

import pytest

from outcomes.stats import binomial_test, wilson_interval


def wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson (1927) score interval without continuity correction, from the formula itself.

    (2np̂ + z² ± z·√(z² + 4np̂(1 − p̂))) / (2(n + z²)); Newcombe (1998), method 3.
    """
    p = k / n
    centre = 2 * n * p + z * z
    spread = z * math.sqrt(z * z + 4 * n * p * (1 - p))
    denominator = 2 * (n + z * z)
    return (centre - spread) / denominator, (centre + spread) / denominator


# Newcombe, R. G. (1998) Statistics in Medicine 17:857–872, Table I, method 3 (score, no correction).
NEWCOMBE_TABLE_I = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE_TABLE_I)
def test_it_matches_newcombe_table_i(k, n, low, high):
    """The interval agrees with Newcombe's published values to 4 decimal places."""
    got_low, got_high = wilson_interval(k, n)
    assert round(got_low, 4) == low
    assert round(got_high, 4) == high


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE_TABLE_I)
def test_it_matches_the_wilson_formula_by_hand(k, n, low, high):
    """SciPy's interval equals the closed-form Wilson formula, which also gives Newcombe's values."""
    by_hand = wilson_by_hand(k, n)
    assert wilson_interval(k, n) == pytest.approx(by_hand, abs=1e-12)
    assert (round(by_hand[0], 4), round(by_hand[1], 4)) == (low, high)


def test_it_handles_all_and_none():
    """k = n gives an upper bound of 1 and k = 0 a lower bound of 0, both within the unit interval."""
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert round(low, 4) == round(wilson_by_hand(10, 10)[0], 4) == 0.7225
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert round(high, 4) == 0.2775


def test_it_narrows_with_a_lower_confidence():
    low95, high95 = wilson_interval(81, 263)
    low90, high90 = wilson_interval(81, 263, confidence=0.90)
    assert low95 < low90 < 81 / 263 < high90 < high95


@pytest.mark.parametrize(("k", "n"), [(0, 0), (3, 2), (-1, 5)])
def test_it_refuses_an_empty_or_impossible_count(k, n):
    """An empty denominator has no interval ("no results yet"): ValueError, never a 0% rate."""
    with pytest.raises(ValueError):
        wilson_interval(k, n)
    with pytest.raises(ValueError):
        binomial_test(k, n, 0.5)


def test_binomial_test_matches_r_documentation_example():
    """R's binom.test(682, 925, p = 0.75) documentation example: p-value = 0.3825."""
    assert round(binomial_test(682, 925, 0.75), 4) == 0.3825


def test_binomial_test_is_two_sided():
    """Ten out of ten against 0.5: both tails, 2 × 0.5¹⁰ = 0.001953125."""
    assert binomial_test(10, 10, 0.5) == pytest.approx(2 * 0.5**10)
    assert binomial_test(0, 10, 0.5) == pytest.approx(2 * 0.5**10)
    assert binomial_test(5, 10, 0.5) == pytest.approx(1.0)


def test_binomial_test_refuses_a_rate_outside_0_1():
    with pytest.raises(ValueError):
        binomial_test(1, 2, 1.5)
