"""The strict Content Security Policy and plotly: charts draw without inline <style> elements.

plotly.js injects two <style> elements unless elements with their ids exist already
(checked by hand in headless Chromium: no CSP violation on the dashboard, docs/security.md).
These tests keep that arrangement true when plotly or the dashboard template changes.
"""
import re

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PLOTLY = settings.BASE_DIR / "static" / "vendor" / "plotly" / "plotly.min.js"
PARTIAL = settings.BASE_DIR / "templates" / "includes" / "plotly_styles.html"


def test_the_vendored_plotly_still_skips_injection_for_the_ids_the_partial_provides():
    source = PLOTLY.read_text()
    partial = PARTIAL.read_text()
    assert '"plotly.js-style-"' in source and '.no-inline-styles' in source
    assert 'id="plotly.js-style-global" class="no-inline-styles"' in partial
    guarded = re.findall(r'if\(!document\.getElementById\("([0-9a-f]{64})"\)\)\{var e=document\.createElement\("style"\)', source)
    assert guarded, "plotly.min.js no longer guards its map styles by id: re-check the CSP (docs/security.md)"
    for style_id in guarded:
        assert f'id="{style_id}"' in partial


def test_the_static_plotly_stylesheet_holds_plotlys_rules():
    css = (settings.BASE_DIR / "static" / "vendor" / "plotly" / "plotly-csp.css").read_text()
    assert ".js-plotly-plot .plotly" in css
    assert ".modebar" in css


def test_the_dashboard_links_the_plotly_styles_before_plotly_loads(client_for, head):
    from outcomes.metrics import recompute_metrics
    from tests import factories

    factories.AssessmentResultFactory()
    recompute_metrics()
    html = client_for(head).get(reverse("outcomes:dashboard")).content.decode()
    assert html.index('id="plotly.js-style-global"') < html.index("plotly.min.js")
