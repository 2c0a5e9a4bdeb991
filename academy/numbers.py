"""Percentages as the site shows them: one formatter, rounding half up (12.5 → 13), as people and spreadsheets do.

Python's ``format`` and Django's ``{% widthratio %}`` round half to even (12.5 → 12) and
binary floats land beside the half (0.0625 × 100 = 6.25 → "6.2"); these work in
``Decimal`` from the value's shortest text, so the half is exact and always rounds up.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def percent(fraction: Any, places: int = 1) -> Decimal | None:
    """Return a fraction 0–1 (float, ``Decimal`` or decimal text) in per cent, rounded half up to ``places``.

    ``percent(0.125, 0)`` → ``Decimal("13")``; ``percent(0.0625)`` → ``Decimal("6.3")``;
    ``None`` or "" → ``None``.
    """
    value = _decimal(fraction)
    if value is None:
        return None
    return (value * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_percent(fraction: Any, places: int = 1) -> str:
    """Return a fraction 0–1 as text: 0.92 → "92.0%", 0.125 with ``places=0`` → "13%"; ``None`` → ""."""
    value = percent(fraction, places)
    return "" if value is None else f"{value}%"


def format_percent_of(part: Any, whole: Any, places: int = 0) -> str:
    """Return ``part`` as a share of ``whole``: (1, 8) → "13%"; "" when ``whole`` is 0 or missing."""
    whole = _decimal(whole)
    part = _decimal(part)
    if not whole or part is None:
        return ""
    return format_percent(part / whole, places)
