"""Business impact pages: the list with totals, adding and changing a record, value for the levy.

Leads and heads of data read them (``academy.view_impact``); only leads add or change
records (``academy.manage_impact``). Coaches get 403.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from academy.decorators import perm_required

from .impact import (
    KIND_UNITS,
    default_hourly_cost,
    format_impact,
    impact_records_for_list,
    impact_totals,
    levy_value,
    programme_reach,
    record_impact,
    update_impact,
)
from .impact_forms import ImpactRecordForm, LevyValueForm
from .models import ImpactRecord

RECORDS_PER_PAGE = 25


@perm_required("academy.view_impact")
def impact_list(request: HttpRequest) -> HttpResponse:
    """Show what the academy has done (reach, results, training, funding-band value), the impact
    totals by kind and by team, then the records, 25 a page, newest first."""
    page = Paginator(impact_records_for_list(), RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    for record in page.object_list:
        record.value_text = format_impact(record.kind, record.value)
    return render(
        request,
        "outcomes/impact/list.html",
        {
            "reach": programme_reach(),
            "value": levy_value(),
            "totals": impact_totals(),
            "page": page,
            "units": KIND_UNITS,
            "can_manage": request.user.has_perm("academy.manage_impact"),
            "can_export": request.user.has_perm("academy.export_dashboard"),
        },
    )


@perm_required("academy.manage_impact")
def impact_create(request: HttpRequest) -> HttpResponse:
    """Add an impact record, then return to the list."""
    form = ImpactRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        record = record_impact(by=request.user, learners=form.cleaned_data["employee_numbers"], **form.record_fields())
        messages.success(request, f"Impact recorded: {record.title}.")
        return redirect("impact:list")
    return render(request, "outcomes/impact/form.html", {"form": form, "record": None})


@perm_required("academy.manage_impact")
def impact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an impact record, then return to the list."""
    record = get_object_or_404(ImpactRecord, pk=pk)
    form = ImpactRecordForm(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        # The ModelForm has already copied the cleaned values onto ``record``; save through the service.
        update_impact(record=record, by=request.user, learners=form.cleaned_data["employee_numbers"],
                      **form.record_fields())
        messages.success(request, f"Impact record changed: {record.title}.")
        return redirect("impact:list")
    return render(request, "outcomes/impact/form.html", {"form": form, "record": record})


@perm_required("academy.view_impact")
def levy(request: HttpRequest) -> HttpResponse:
    """Show the funding-band value of enrolments against the impact recorded, with the assumptions.

    GET ``hourly_cost`` (pounds an hour; default ``settings.ACADEMY_HOURLY_COST_GBP``) values
    the hours saved; ``pay_bill`` (pounds a year) adds the annual levy for context.
    """
    form = LevyValueForm(request.GET or None)
    hourly_cost = default_hourly_cost()
    hourly_cost_source = "settings" if hourly_cost is not None else ""
    pay_bill = None
    if form.is_bound and form.is_valid():
        if form.cleaned_data.get("hourly_cost") is not None:
            hourly_cost = form.cleaned_data["hourly_cost"]
            hourly_cost_source = "you"
        pay_bill = form.cleaned_data.get("pay_bill")
    value = levy_value(hourly_cost_gbp=hourly_cost, pay_bill_gbp=pay_bill)
    return render(
        request,
        "outcomes/impact/levy.html",
        {
            "form": form,
            "value": value,
            "hourly_cost_source": hourly_cost_source,
            "can_export": request.user.has_perm("academy.export_dashboard"),
            "hourly_query": f"?hourly_cost={hourly_cost}" if hourly_cost is not None else "",
        },
    )
