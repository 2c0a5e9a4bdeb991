"""Percentages in templates, rounded half up as everywhere on the site: ``{% load numbers %}``."""
from django import template

from academy.numbers import format_percent, format_percent_of

register = template.Library()


@register.filter
def percent_of(part, whole) -> str:
    """Return ``part`` as a whole-number percentage of ``whole``: ``{{ 1|percent_of:8 }}`` → "13%"; "" for 0."""
    return format_percent_of(part, whole)


@register.filter
def as_percent(fraction, places: int = 1) -> str:
    """Return a fraction 0–1 as a percentage: ``{{ 0.925926|as_percent }}`` → "92.6%"; "" for ``None``."""
    return format_percent(fraction, int(places))
