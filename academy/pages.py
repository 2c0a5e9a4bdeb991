"""The page toolkit every app's views share: list pagination and filters, add/change form pages, stale edits, list downloads.

A view parses input, asks the permission rules, calls a service and renders; these
helpers are the common parts of those steps (``cohorts``, ``coaching`` and ``learners``
build their lead's-workspace pages with them).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from academy import audit
from academy.concurrency import StaleEdit, save_if_current
from academy.decorators import perm_required
from academy.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, Table, write_csv, write_xlsx
from academy.models import AuditEvent

PAGE_SIZE = 25
EXPORT_CHUNK = 2000


def _or_blank(value):
    return "(blank)" if value in (None, "") else value


def stale_edit_form(form_class, request: HttpRequest, current, *, what: str):
    """Return ``form_class`` bound to the user's entries with a message about someone else's save.

    Nothing is lost: the page shows the user's entries and, next to them, what is saved
    now (``form.stale_differences``: label, saved value, your entry). The hidden version
    becomes the current one, so saving again is a deliberate choice to overwrite.
    """
    data = request.POST.copy()
    data["version"] = current.version
    form = form_class(data, instance=current)
    saved_values = {name: getattr(current, name, None) for name in form.fields}  # before validation edits it
    form.is_valid()
    differences = []
    for name, field in form.fields.items():
        if name == "version" or name not in getattr(form, "cleaned_data", {}):
            continue
        saved = saved_values[name]
        mine = form.cleaned_data[name]
        if (saved or "") != (mine or ""):
            differences.append((field.label, _or_blank(saved), _or_blank(mine)))
    form.stale_differences = differences
    form.add_error(
        None,
        f"Someone else changed this {what} while you were editing it, so your changes have not been saved. "
        "Check what they saved, then save again to keep your entries.",
    )
    return form


def _audit_export(request: HttpRequest, *, what: str, fmt: str, count: int) -> None:
    audit.record(
        request=request,
        action=AuditEvent.Action.EXPORT,
        detail={"what": what, "format": fmt, "rows": count, "filters": {k: v for k, v in request.GET.items() if v}},
    )


def export_response(request: HttpRequest, *, rows, columns, name: str, fmt: str, what: str) -> HttpResponse:
    """Return the queryset ``rows`` as a CSV or XLSX download named ``academy-<name>-<date>.<fmt>``, and audit it.

    Rows are read in chunks of ``EXPORT_CHUNK``; ``fmt`` is "csv" or "xlsx".
    """
    count = 0

    def counted():
        nonlocal count
        # Read in chunks (prefetches run per chunk), so memory does not grow with the list.
        for row in rows.iterator(chunk_size=EXPORT_CHUNK):
            count += 1
            yield row

    stamp = f"{timezone.localdate():%Y-%m-%d}"
    table = Table(name.capitalize(), name.capitalize(), columns, counted())
    if fmt == "xlsx":
        response = HttpResponse(write_xlsx(table), content_type=XLSX_CONTENT_TYPE)
    else:
        response = HttpResponse(write_csv(table), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="academy-{name}-{stamp}.{fmt}"'
    _audit_export(request, what=what, fmt=fmt, count=count)
    return response


def list_export_views(*, name: str, filtered, rows, columns):
    """Return the (CSV view, XLSX view) that download a list page's filtered rows, for ``export_learners`` only.

    ``filtered(request)`` returns (filter form, queryset) exactly as the list page filters;
    ``rows(queryset)`` prepares it for ``columns``; ``name`` ("learners") names the file
    and the audit record. CSV is formula-safe with ISO dates; XLSX has real dates.
    """

    def make(fmt: str, doc: str):
        def view(request: HttpRequest) -> HttpResponse:
            _, objects = filtered(request)
            return export_response(request, rows=rows(objects), columns=columns, name=name, fmt=fmt, what=name)

        view.__name__ = view.__qualname__ = f"{name.rstrip('s')}_export_{fmt}"
        view.__doc__ = f"Download the filtered {name[:-1]} list as {doc}."
        return perm_required("academy.export_learners")(view)

    return make("csv", "CSV (formula-safe, ISO dates)"), make("xlsx", "an Excel workbook (formula-safe, real dates)")


def sort_headers(request: HttpRequest, key: str, descending: bool, columns, *, descending_first=()) -> list[dict]:
    """Return one dict per sortable column of a table: ``key``, ``heading``, ``url`` and ``aria_sort``.

    ``columns`` are ``(key, heading)`` pairs. ``url`` is the GET query with ``?sort=`` set
    (other filters kept, back to page 1): the current column's link reverses its order;
    another column's sorts ascending, or descending for keys in ``descending_first``.
    """
    headers = []
    for column, heading in columns:
        params = request.GET.copy()
        params.pop("page", None)
        active = column == key
        descend = (not descending) if active else column in descending_first
        params["sort"] = f"-{column}" if descend else column
        headers.append({
            "key": column,
            "heading": heading,
            "url": f"?{params.urlencode()}",
            "aria_sort": ("descending" if descending else "ascending") if active else "none",
        })
    return headers


def paginate(request: HttpRequest, objects):
    """Return the ``?page=`` page (``PAGE_SIZE`` rows) of ``objects``; a bad page number gives the nearest page."""
    return Paginator(objects, PAGE_SIZE).get_page(request.GET.get("page"))


def is_filtered(request: HttpRequest) -> bool:
    """Return whether any GET filter other than the page number is set."""
    return any(v for k, v in request.GET.items() if k != "page")


def save_form(request: HttpRequest, form_class, *, instance=None, what: str, changed: Callable[[Any], None]):
    """Bind ``form_class`` to the POST and save it; return ``(form, saved record or None)``.

    A new record (``instance`` None) is saved with ``form.save()``; an edit with
    ``academy.concurrency.save_if_current`` against the form's hidden ``version``, and a save that lost
    a race with someone else's comes back unsaved as ``stale_edit_form`` (``what``
    names the record in its message). GET and invalid POSTs return ``(form, None)``.
    ``changed(record)`` is called after a save, in its transaction, to say what changed
    (``academy.changes``: e.g. ``lambda cohort: cohorts_changed(cohort.pk)``).
    """
    form = form_class(request.POST or None, instance=instance)
    if request.method != "POST" or not form.is_valid():
        return form, None
    with transaction.atomic():
        if instance is None:
            saved = form.save()
        else:
            try:
                saved = save_if_current(form.instance, expected_version=form.cleaned_data["version"] or 0)
            except StaleEdit as stale:
                return stale_edit_form(form_class, request, stale.current, what=what), None
        changed(saved)
    return form, saved


def form_page(
    request: HttpRequest,
    form,
    *,
    heading: str,
    crumbs: list[tuple[str, str]],
    submit: str,
    cancel_url: str,
    title: str = "",
    caption: str = "",
    template: str = "learners/form_page.html",
    context: dict | None = None,
) -> HttpResponse:
    """Render a record's add or change page: breadcrumbs, error summary, heading, stale-save table, form, buttons.

    ``crumbs`` are (text, url) links above the heading; ``submit`` is the button text;
    ``title`` (the browser title) defaults to ``heading``; ``caption`` goes above it.
    ``template`` may extend ``learners/form_page.html`` to add an intro (block ``intro``).
    """
    page = {
        "form": form,
        "heading": heading,
        "title": title,
        "caption": caption,
        "crumbs": crumbs,
        "submit": submit,
        "cancel_url": cancel_url,
    }
    return render(request, template, {**page, **(context or {})})


def named_record_form_page(request: HttpRequest, form, record, *, noun: str, namespace: str) -> HttpResponse:
    """Render the add (``record`` None) or change page of a record with a ``name``, such as a cohort or team.

    Its list and detail pages are ``<namespace>:list`` and ``<namespace>:detail``;
    ``noun`` ("cohort") words the heading ("Add a cohort", "Change <name>") and button.
    """
    list_url = reverse(f"{namespace}:list")
    detail_url = reverse(f"{namespace}:detail", args=[record.pk]) if record else None
    return form_page(
        request,
        form,
        heading=f"Change {record.name}" if record else f"Add a {noun}",
        crumbs=[(namespace.capitalize(), list_url), *([(record.name, detail_url)] if record else [])],
        submit="Save changes" if record else f"Add {noun}",
        cancel_url=detail_url or list_url,
        context={noun: record},
    )
