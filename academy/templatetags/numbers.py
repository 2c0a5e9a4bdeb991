"""Percentages in templates, rounded half up as everywhere on the site: ``{% load numbers %}``."""
from django import template

from academy.numbers import format_percent_of

register = template.Library()


@register.filter
def percent_of(part, whole) -> str:
    """Return ``part`` as a whole-number percentage of ``whole``: ``{{ 1|percent_of:8 }}`` → "13%"; "" for 0."""
    return format_percent_of(part, whole)
