"""Cache of the unfiltered dashboard pages, keyed on the dashboard generation.

The expensive part of a dashboard page is the body under its header: figures from the
snapshots (or, on the trends, teams and coaching pages, computed live over every
enrolment), tables and plotly charts. Without filters it is the same for every reader, so
it is rendered once per *generation* and kept in the cache (``CACHES["default"]``:
Redis in production, process memory in the embedded setup).

The generation (``outcomes.models.DashboardGeneration``, one row) changes whenever what
the pages show may have changed:

- the metrics job adds one in the transaction that writes the snapshots
  (``outcomes.metrics.recompute_metrics``); it runs after every change to enrolments,
  cohorts, results and coaching sessions (``outcomes.signals``) and nightly;
- saving or deleting anything else a dashboard page reads (teams, learners, users,
  standards, national benchmarks, impact records, progress reviews, off-the-job
  activities) adds one once the transaction commits (receivers below).

A cached body is therefore never older than the generation it was rendered in, and it
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
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from academy.changes import is_paused
from academy.transactions import once_per_transaction

from .models import DashboardGeneration

logger = logging.getLogger(__name__)

#: Seconds a cached body is kept; a change of generation makes it unused sooner.
CACHE_SECONDS = 24 * 60 * 60
#: The page-number parameters of the dashboard pages (cohorts; teams on the teams page; coaches).
PAGE_PARAMS = ("page", "coach_page")
#: Page numbers longer than this are not cached (they are not real page numbers).
MAX_PAGE_CHARS = 6
KEY = "outcomes:dashboard:v2:{generation}:{view}:{day}:{page}:{flags}"


def current_generation() -> int:
    """Return the dashboard generation number (0 when the row is missing), in one query."""
    return int(_generation_row()[0])


def _generation_row() -> tuple[int, str]:
    """Return ``(number, time of the last bump as ISO text)``; ``(0, "")`` when the row is missing. One query."""
    row = DashboardGeneration.objects.filter(pk=1).values_list("number", "changed_at").first()
    return (int(row[0]), row[1].isoformat()) if row else (0, "")


def generation_key() -> str:
    """Return the generation as it goes into cache keys: its number and the time of its bump.

    The time makes a key unique to one bump: a database restored from a backup (or a
    test's rolled-back transaction) that carries an older number again never reads pages
    rendered for that number from other data.
    """
    number, changed_at = _generation_row()
    return f"{number}@{changed_at}"


def bump_generation() -> None:
    """Add one to the dashboard generation now, in the current transaction (creating the row if missing).

    ``UPDATE … SET number = number + 1`` locks the row until the transaction ends, so two
    writers never lose a bump.
    """
    if not DashboardGeneration.objects.filter(pk=1).update(number=F("number") + 1, changed_at=timezone.now()):
        DashboardGeneration.objects.get_or_create(pk=1, defaults={"number": 1})


class _Bump:
    """The dashboard generation's bump owed by the current transaction (``once_per_transaction``)."""

    def flush(self) -> None:
        _safe_bump()


def bump_generation_on_commit() -> None:
    """Add one to the generation once the current transaction commits (at once outside one).

    Called by the receivers of this module. Within one transaction the bump is registered
    once, however many rows are saved; a rolled-back transaction bumps nothing. Failures
    are logged, never raised into the request whose data has been committed: the nightly
    metrics run bumps the generation again.
    """
    if once_per_transaction("dashboard_generation_bump", _Bump) is None:
        _safe_bump()


def _safe_bump() -> None:
    try:
        bump_generation()
    except Exception:  # noqa: BLE001 - the change is committed; a stale page heals at the next run
        logger.exception("Could not bump the dashboard generation")


def cache_key(request: HttpRequest, view: str, *, filtered: bool, flags: dict[str, bool]) -> str | None:
    """Return the cache key of this page's body for this reader, or ``None`` when it must not be cached.

    ``view``: the URL name (``outcomes:dashboard`` …); ``filtered``: True when filters
    are applied; ``flags``: the reader's permissions that change the body (e.g.
    ``{"can_export": True}``). Only the page numbers (``PAGE_PARAMS``) and blank filter
    parameters may be in the address: anything else (a recompute's ``run``, a malformed
    page number) is built for the request and not cached, because the body's links carry
    the address. One query (the generation).
    """
    from outcomes.filters import DashboardFilterForm

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


def _changed(sender, instance=None, update_fields=None, **kwargs) -> None:
    """Receiver: a row a dashboard page reads was saved or deleted; bump the generation on commit.

    A user's sign-in only writes ``last_login`` and changes no page: it is ignored. Inside
    ``academy.changes.metrics_paused()`` (bulk loaders, which run the metrics job, and so
    bump, at the end) nothing is registered.
    """
    if is_paused() or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    bump_generation_on_commit()


def connect_receivers() -> None:
    """Connect ``_changed`` to the models the dashboard pages read but the metrics job is not run for.

    Called from ``OutcomesConfig.ready``.
    """
    from django.apps import apps

    for label in (
        "academy.Team",
        "academy.User",
        "learners.Learner",
        "coaching.ProgressReview",
        "coaching.OffTheJobActivity",
        "cohorts.Standard",
        "outcomes.NationalBenchmark",
        "outcomes.ImpactRecord",
    ):
        model = apps.get_model(label)
        uid = f"outcomes_dashboard_generation_{label}"
        post_save.connect(_changed, sender=model, dispatch_uid=uid + "_saved")
        post_delete.connect(_changed, sender=model, dispatch_uid=uid + "_deleted")
