"""One percent formatter, rounding half up (12.5 → 13) like people and spreadsheets, not half to even."""
from decimal import Decimal

import pytest
from django.template import Context, Template

from academy.numbers import format_percent, format_percent_of, percent


@pytest.mark.parametrize(("fraction", "places", "text"), [
    (0.125, 0, "13%"), (0.135, 0, "14%"), (0.0625, 1, "6.3%"), (0.92, 1, "92.0%"), (Decimal("0.605"), 1, "60.5%"),
    ("0.9655", 1, "96.6%"), (0, 1, "0.0%"), (None, 1, ""),
])
def test_format_percent_rounds_half_up(fraction, places, text):
    assert format_percent(fraction, places) == text


def test_percent_of_and_its_template_filter_agree():
    assert format_percent_of(1, 8) == "13%"
    assert format_percent_of(3, 0) == "" and format_percent_of(None, 5) == ""
    assert percent(0.2005) == Decimal("20.1")
    html = Template("{% load numbers %}{{ part|percent_of:whole }}").render(Context({"part": 1, "whole": 8}))
    assert html == "13%"  # {% widthratio 1 8 100 %} gives 12
