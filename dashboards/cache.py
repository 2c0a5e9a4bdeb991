"""Cache of the unfiltered dashboard pages, keyed on the dashboard generation.

The expensive part of a dashboard page is the body under its header: figures from the
snapshots (or, on the trends, teams and coaching pages, computed live over every
enrolment), tables and plotly charts. Without filters it is the same for every reader, so
it is rendered once per *generation* and kept in the cache (``CACHES["default"]``:
Redis in production, process memory in the embedded setup).

The generation (``academy.changes``) changes whenever what the pages show may have
changed. A cached body is therefore never older than the generation it was rendered in, and it
is read from the database on every request (one query), so any web process sees a change
made by any other process or Celery worker at once, whatever the cache backend. Keys
hold the generation's number *and* the time of its bump (``generation_key``), so a
restored database never reads pages rendered for another database state. The
key also holds the day (the coaching page's risk flags depend on today's date), the page
number and the reader's export and benchmark permissions (the only per-reader parts of
the body). Filtered pages and pages with invalid filters are never cached: they are
computed live for the request.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from academy.changes import generation_key

from .filters import DashboardFilterForm

logger = logging.getLogger(__name__)

#: Seconds a cached body is kept; a change of generation makes it unused sooner.
CACHE_SECONDS = 24 * 60 * 60
#: The page-number parameters of the dashboard pages (cohorts; teams on the teams page; coaches).
PAGE_PARAMS = ("page", "coach_page")
#: Page numbers longer than this are not cached (they are not real page numbers).
MAX_PAGE_CHARS = 6
KEY = "outcomes:dashboard:v2:{generation}:{view}:{day}:{page}:{flags}"


def cache_key(request: HttpRequest, view: str, *, filtered: bool, flags: dict[str, bool]) -> str | None:
    """Return the cache key of this page's body for this reader, or ``None`` when it must not be cached.

    ``view``: the URL name (``outcomes:dashboard`` …); ``filtered``: True when filters
    are applied; ``flags``: the reader's permissions that change the body (e.g.
    ``{"can_export": True}``). Only the page numbers (``PAGE_PARAMS``) and blank filter
    parameters may be in the address: anything else (a recompute's ``run``, a malformed
    page number) is built for the request and not cached, because the body's links carry
    the address. One query (the generation).
    """
    if filtered:
        return None
    for name, values in request.GET.lists():
        value = values[-1] if values else ""
        if name in PAGE_PARAMS and len(values) == 1 and (value == "" or (value.isdigit() and len(value) <= MAX_PAGE_CHARS)):
            continue
        if name in DashboardFilterForm.PARAMS and not "".join(values).strip():
            continue
        return None
    pages = "-".join(request.GET.get(name) or "1" for name in PAGE_PARAMS)
    bits = "".join("1" if flags[name] else "0" for name in sorted(flags))
    return KEY.format(
        generation=generation_key(), view=view, day=timezone.localdate().isoformat(), page=pages, flags=bits
    )


def cached_body(
    request: HttpRequest,
    context: dict,
    *,
    key: str | None,
    template: str,
    build: Callable[[HttpRequest, dict], dict],
    keep: tuple[str, ...] = (),
) -> dict:
    """Return the page's body and what its frame needs, from the cache or by building it.

    On a miss (or with ``key`` None) calls ``build(request, context)`` for the body's
    context, renders ``template`` (a partial, e.g. ``"outcomes/dashboard.html#body"``)
    and stores ``{"body": html, "built_at": datetime, **{name: context[name] for name
    in keep}}`` under ``key`` for ``CACHE_SECONDS``. ``keep`` names the small values the
    page's header and scripts need (e.g. ``source``, ``has_charts``). Returns that dict
    with ``body`` marked safe and ``cached`` True when it came from the cache. A cache
    outage only costs the rendering: the page is built and served.
    """
    entry = None
    if key is not None:
        try:
            entry = cache.get(key)
        except Exception:  # noqa: BLE001 - a cache outage must not take the dashboard down
            logger.warning("Could not read the dashboard cache", exc_info=True)
    cached = entry is not None
    if entry is None:
        context.update(build(request, context))
        entry = {
            "body": render_to_string(template, context, request),
            "built_at": timezone.now(),
            **{name: context.get(name) for name in keep},
        }
        if key is not None:
            try:
                cache.set(key, entry, CACHE_SECONDS)
            except Exception:  # noqa: BLE001
                logger.warning("Could not write the dashboard cache", exc_info=True)
    return {**entry, "body": mark_safe(entry["body"]), "cached": cached}  # nosec B703 B308 - our own rendered template
