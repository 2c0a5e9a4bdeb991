"""Template helpers for business impact: ``{% load impact %}``.

- ``{{ value|money }}``: pounds as "£3,500,000" (``outcomes.impact.format_money``).
- ``{% impact_totals_panel %}``: the impact totals by kind, with a link to the impact
  page, for the dashboard (drawn only for users who may see impact).
"""
from django import template

from outcomes.impact import format_money, impact_totals

register = template.Library()


@register.filter
def money(value) -> str:
    """Return pounds as "£3,500,000" or "£1,234.50"; ``None`` → "unknown"."""
    return format_money(value)


@register.inclusion_tag("outcomes/impact/_totals_panel.html", takes_context=True)
def impact_totals_panel(context) -> dict:
    """Return the context of the dashboard's impact panel: totals by kind and by team (two queries)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    allowed = bool(user is not None and user.has_perm("academy.view_impact"))
    return {"allowed": allowed, "totals": impact_totals() if allowed else None}
