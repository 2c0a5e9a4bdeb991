"""Template helpers for GOV.UK components: ``{% load govuk %}``."""
from django import template
from django.core.paginator import Page

register = template.Library()


@register.filter
def elided_pages(page: Page) -> list:
    """Return the page numbers to show in GOV.UK pagination for ``page``.

    A list of ints with ``Paginator.ELLIPSIS`` ("…") in gaps: the first and last page and
    one either side of the current one, e.g. ``[1, "…", 6, 7, 8, "…", 20]``.
    """
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1))


@register.simple_tag(takes_context=True)
def page_url(context, number, param: str = "page") -> str:
    """Return ``?…&<param>=<number>``: the current query string (e.g. a search) with the page set.

    ``param`` is the page's parameter (``page`` by default; a second list on the same page
    uses its own, e.g. ``coach_page``).
    """
    query = context["request"].GET.copy()
    query[param or "page"] = number
    return f"?{query.urlencode()}"
