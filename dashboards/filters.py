"""Dashboard filters: parsed from the URL's query string, validated, carried across the dashboard pages.

Public API (stable: the exports, board report and read-only API import it):

- ``DashboardFilters`` (from ``outcomes.filters``): the cleaned filters (a frozen dataclass; all fields optional).
- ``DashboardFilterForm``: the GET form that validates ``request.GET``.
- ``parse_filters(query) -> (DashboardFilters, DashboardFilterForm)``: the filters to use
  and the bound form to show. With any invalid value (unknown cohort, standard, team or
  coach id, a level outside 2–7, a malformed date, an end before the start) the filters
  are **empty** (the unfiltered page) and the form carries the GOV.UK error messages.

URL parameters: ``from`` and ``to`` (dates, 29/11/2026 or 2026-11-29), ``standard``,
``cohort``, ``team``, ``coach`` (database ids) and ``level`` (2–7).

What a filter means (each is also said on the page, ``DashboardFilters.descriptions``):

- standard, level, cohort: enrolments on cohorts of that standard, level or cohort;
- team: enrolments of learners in that team; coach: enrolments assigned to that coach;
- date range: enrolments in learning at any time in the range (started on or before its
  end and not ended before its start), end-point assessment results dated in the range
  and coaching sessions held in the range.
"""
from __future__ import annotations

from django import forms

from academy.forms import NamedLookupField
from academy.models import Team, User
from cohorts.models import Cohort, Standard
from outcomes.filters import DashboardFilters

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
LEVEL_CHOICES = [("", "Any level")] + [(str(level), f"Level {level}") for level in range(2, 8)]


class DashboardFilterForm(forms.Form):
    """Validate the dashboard filters from ``request.GET`` (see the module docstring for the parameters).

    Each query for choices runs once per page (not per row): standards with cohorts,
    cohorts (newest first), teams, coaches. Cohort, team and coach are selects up to
    ``SELECT_LIMIT`` (200) records and text inputs taking a name or number above that
    (``NamedLookupField``), so the page stays small with thousands of cohorts.
    """

    date_from = forms.DateField(
        label="From",
        required=False,
        input_formats=DATE_FORMATS,
        help_text="The first day to count, for example 01/08/2025",
        error_messages={"invalid": "From must be a real date, like 01/08/2025"},
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        input_formats=DATE_FORMATS,
        help_text="The last day to count, for example 31/07/2026",
        error_messages={"invalid": "To must be a real date, like 31/07/2026"},
    )
    standard = NamedLookupField(queryset=Standard.objects.none(), what="standard", empty_label="Any standard")
    level = forms.TypedChoiceField(
        label="Level",
        required=False,
        choices=LEVEL_CHOICES,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Choose a level from 2 to 7"},
    )
    cohort = NamedLookupField(queryset=Cohort.objects.none(), what="cohort", empty_label="Any cohort")
    team = NamedLookupField(queryset=Team.objects.none(), what="team", empty_label="Any team")
    coach = NamedLookupField(
        queryset=User.objects.none(), what="coach", empty_label="Any coach", name_fields=("full_name", "email")
    )

    # URL parameter → form field (short, shareable names in the address).
    PARAMS = {"from": "date_from", "to": "date_to", "standard": "standard", "level": "level", "cohort": "cohort",
              "team": "team", "coach": "coach"}

    def __init__(self, query=None, **kwargs):
        # ``add_prefix`` maps each field to its URL parameter, so the query dict is the data as is.
        super().__init__(query, **kwargs)
        self.fields["standard"].queryset = Standard.objects.filter(cohorts__isnull=False).distinct().order_by(
            "title", "reference"
        )
        self.fields["cohort"].queryset = Cohort.objects.order_by("-start_date", "name")
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["coach"].queryset = User.objects.filter(role=User.Role.COACH).order_by("full_name", "email")
        for name in ("cohort", "team", "coach"):  # one query each, as the selects' choices were
            self.fields[name].prepare()
        for name in ("date_from", "date_to"):
            self.fields[name].widget.attrs["class"] = "govuk-input--width-10"

    def add_prefix(self, field_name):
        """Use the short URL parameter (``from``, ``to``) as the input's name, so the form submits a shareable address."""
        reverse = {field: param for param, field in self.PARAMS.items()}
        return reverse.get(field_name, field_name)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date must be the same as or after the start date")
        return cleaned

    def filters(self) -> DashboardFilters:
        """Return the cleaned filters; call only after ``is_valid()`` returned True."""
        c = self.cleaned_data
        standard, cohort, team, coach = c.get("standard"), c.get("cohort"), c.get("team"), c.get("coach")
        return DashboardFilters(
            date_from=c.get("date_from"),
            date_to=c.get("date_to"),
            standard_id=standard.pk if standard else None,
            level=c.get("level"),
            cohort_id=cohort.pk if cohort else None,
            team_id=team.pk if team else None,
            coach_id=coach.pk if coach else None,
            standard_label=str(standard) if standard else "",
            cohort_label=str(cohort) if cohort else "",
            team_label=str(team) if team else "",
            coach_label=str(coach) if coach else "",
        )


def has_filter_params(query) -> bool:
    """Return True when the query dict (``request.GET``) sets any filter parameter to a non-blank value."""
    return any(query.get(param, "").strip() for param in DashboardFilterForm.PARAMS)


def parse_filters(query) -> tuple[DashboardFilters, DashboardFilterForm]:
    """Return ``(filters, form)`` for a query dict such as ``request.GET``.

    Invalid input never raises: the filters are then empty (the unfiltered page) and
    ``form.errors`` holds one message per bad field, for the GOV.UK error summary.
    Without any filter parameter the form is unbound (no errors).
    """
    if not has_filter_params(query):
        return DashboardFilters(), DashboardFilterForm()
    form = DashboardFilterForm(query)
    if form.is_valid():
        return form.filters(), form
    return DashboardFilters(), form
