"""Forms of the lead's cohort and enrolment pages: filters, create/edit, one small form per status change.

Every form renders in GOV.UK markup through ``academy.forms.GovUKFormRenderer``. Dates are
typed as 29/11/2026 (``DATE_INPUT_FORMATS``) and shown back the same way. Edit and
status-change forms carry the record's ``version`` in a hidden field so a change made
on a page read before someone else's save is refused.
"""

from __future__ import annotations

import re

from django import forms
from django.urls import reverse
from django.utils import timezone

from academy.dates import uk_date
from academy.forms import NamedLookupField
from academy.models import Team, User
from cohorts.funding_rules import check_enrolment_plan
from learners.models import Learner
from learners.services import search_learners

from .models import AssessmentResult, Cohort, Enrolment, Standard
from .services import suggested_planned_end

UK_DATE = "%d/%m/%Y"
# The "Details to complete" filter's value for learners whose ULN is not known yet.
MISSING_ULN = "uln"


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    """Return a UK date field (29/11/2026) whose messages name ``label``."""
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(format=UK_DATE),
        error_messages={
            "required": f"Enter the {label[0].lower() + label[1:]}.",
            "invalid": f"{label} must be a real date, like 27/03/2026.",
        },
    )


def coaches():
    return User.objects.filter(role=User.Role.COACH, is_active=True).order_by("full_name", "email")


class StandardChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.reference} {obj.title} (level {obj.level})"


class CohortChoiceField(forms.ModelChoiceField):
    """Cohorts labelled with their start and the standard's typical duration (the planned end suggestion)."""

    def label_from_instance(self, obj):
        months = obj.standard.typical_duration_months
        duration = f"; typical duration {months} months" if months else ""
        return f"{obj.name} (starts {uk_date(obj.start_date)}{duration})"


def add_funding_rule_errors(form: forms.Form, *, standard, start_date, planned_end_date) -> None:
    """Add ``cohorts.funding_rules.check_enrolment_plan``'s messages to ``form``'s fields.

    Checks the planned duration (``planned_end_date``) and planned off-the-job hours
    (``planned_otj_hours``) against the minimums of the start date's funding year, with
    the contracted hours and prior-learning reduction the form holds. Fields that
    already have an error, or a plan without both dates, are left alone.
    """
    if start_date is None or planned_end_date is None or planned_end_date <= start_date:
        return
    cleaned = form.cleaned_data
    problems = check_enrolment_plan(
        start_date=start_date,
        planned_end_date=planned_end_date,
        planned_otj_hours=cleaned.get("planned_otj_hours"),
        contracted_hours_per_week=cleaned.get("contracted_hours_per_week"),
        standard_minimum_hours=standard.otj_minimum_hours,
        prior_learning_reduction_hours=cleaned.get("prior_learning_reduction_hours"),
    )
    for field, message in problems.items():
        if field not in form.errors:
            form.add_error(field, message)


class VersionMixin(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --- Filters (GET) -----------------------------------------------------------------


class FilterForm(forms.Form):
    """A GET filter form: ``filters()`` returns the valid values only, so one bad value never empties the list."""

    def filters(self) -> dict:
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) for name in self.fields if name not in self.errors}


def _choice_messages(thing: str) -> dict:
    return {"invalid_choice": f"There is no such {thing}: choose one from the list."}


class EnrolmentFilterForm(FilterForm):
    """Search and filters of the enrolment (and learner) lists: team, standard, cohort, status, coach."""

    q = forms.CharField(label="Search", required=False, help_text="Name, work email, employee number or ULN")
    # Team, cohort and coach: a select up to 200 choices, else a text input taking the name or
    # number with a datalist of the first 200 (academy.forms.NamedLookupField).
    team = NamedLookupField(
        Team.objects.order_by("name"), what="team", required=False, empty_label="All teams",
        error_messages=_choice_messages("team"),
    )
    standard = StandardChoiceField(
        Standard.objects.filter(cohorts__isnull=False).distinct().order_by("reference"),
        required=False,
        empty_label="All standards",
        error_messages=_choice_messages("standard"),
    )
    cohort = NamedLookupField(
        Cohort.objects.order_by("-start_date", "name"),
        what="cohort",
        required=False,
        empty_label="All cohorts",
        error_messages=_choice_messages("cohort"),
    )
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *Enrolment.Status.choices],
        required=False,
        error_messages=_choice_messages("status"),
    )
    coach = NamedLookupField(
        coaches(), what="coach", name_fields=("full_name", "email"), required=False, empty_label="All coaches",
        error_messages=_choice_messages("coach"),
    )
    missing = forms.ChoiceField(
        label="Details to complete",
        choices=[("", "Any"), (MISSING_ULN, "No ULN yet")],
        required=False,
        error_messages=_choice_messages("choice"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coach"].queryset = coaches()
        if user is not None and not user.is_lead:
            del self.fields["coach"]  # a coach only ever sees their own
            self.fields["cohort"].queryset = (
                Cohort.objects.filter(enrolments__coach=user).distinct().order_by("-start_date", "name")
            )
        for name in ("team", "cohort", "coach"):  # one query each, as the selects' choices were
            if name in self.fields:
                self.fields[name].prepare()


class CohortFilterForm(FilterForm):
    q = forms.CharField(label="Search", required=False, help_text="Cohort name or training provider")
    standard = StandardChoiceField(
        Standard.objects.filter(cohorts__isnull=False).distinct().order_by("reference"),
        required=False,
        empty_label="All standards",
        error_messages=_choice_messages("standard"),
    )


# --- Cohorts -----------------------------------------------------------------------


class CohortForm(forms.ModelForm):
    """Create or edit a cohort: name, standard, training provider, UKPRN, start date."""

    standard = StandardChoiceField(
        Standard.objects.order_by("reference"),
        help_text="The apprenticeship standard the cohort trains for.",
        error_messages={
            "required": "Choose the standard.",
            "invalid_choice": "That standard is not loaded: choose one from the list.",
        },
    )
    start_date = date_field("Start date")

    class Meta:
        model = Cohort
        fields = ["name", "standard", "provider", "provider_ukprn", "start_date", "version"]
        widgets = {"version": forms.HiddenInput}
        help_texts = {"name": "For example, Data Analyst L4 — January 2027", "provider_ukprn": "8 digits"}
        error_messages = {
            "name": {"unique": "Another cohort already has this name.", "required": "Enter the cohort name."},
            "provider": {"required": "Enter the training provider."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            del self.fields["version"]  # a new cohort starts at version 1


# --- Enrolments --------------------------------------------------------------------


class LearnerLookupField(forms.CharField):
    """A learner typed as an employee number, a name, or the lookup's label "Priya Shah (EMP0042, Housing)".

    Cleans to a ``Learner`` with at most two queries. Errors name what was typed: no
    match ("No learner matches “X” …"), or several learners sharing a name ("2 or more
    learners match “X”: type the employee number").
    """

    LABELLED = re.compile(r"\((?P<number>[^(),]+)(?:,[^()]*)?\)\s*$")

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("label", "Learner")
        kwargs.setdefault("help_text", "Type their name or employee number, then choose them from the list")
        kwargs.setdefault("error_messages", {"required": "Enter the learner's name or employee number."})
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value).strip()
        labelled = self.LABELLED.search(text)
        number = labelled.group("number").strip() if labelled else text
        learner = Learner.objects.filter(employee_number__iexact=number).first()
        if learner is not None:
            return learner
        matches = list(search_learners(Learner.objects.order_by("last_name", "first_name", "pk"), text)[:2])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise forms.ValidationError(
                f"2 or more learners match “{text}”: type more of the name, or the employee number."
            )
        raise forms.ValidationError(
            f"No learner matches “{text}”. Check the name or employee number, or add the learner first."
        )


class EnrolmentCreateForm(forms.Form):
    """Enrol a learner (found by name or employee number) on a cohort.

    A blank start date means today (the view shows today's date in the field); the
    planned end date may be left blank where the cohort's standard has a typical
    duration, and is then the start plus that duration.
    """

    learner = LearnerLookupField()
    cohort = CohortChoiceField(
        Cohort.objects.with_standard().order_by("-start_date", "name"),
        empty_label="Choose a cohort",
        error_messages={
            "required": "Choose the cohort.",
            "invalid_choice": "There is no such cohort: choose one from the list.",
        },
    )
    coach = forms.ModelChoiceField(
        coaches(),
        required=False,
        empty_label="No coach yet",
        error_messages={"invalid_choice": "Choose a coach from the list."},
    )
    start_date = date_field(
        "Start date",
        required=False,
        help_text="The day the apprenticeship starts (blank means today). For example, 27/03/2026",
    )
    planned_end_date = date_field(
        "Planned end date",
        required=False,
        help_text="Leave blank to use the start date plus the standard's typical duration (shown beside each "
        "cohort); needed where the standard has none. For example, 27/03/2028",
    )
    planned_otj_hours = forms.DecimalField(
        label="Planned off-the-job hours",
        min_value=0,
        max_digits=7,
        decimal_places=2,
        error_messages={"required": "Enter the planned off-the-job hours."},
    )
    contracted_hours_per_week = forms.DecimalField(
        label="Contracted hours a week",
        min_value=0,
        max_value=168,
        max_digits=4,
        decimal_places=1,
        required=False,
        help_text="Used by the off-the-job minimum rules (full-time is 30 hours or more).",
    )
    prior_learning_reduction_hours = forms.DecimalField(
        label="Off-the-job reduction for prior learning, in hours",
        min_value=0,
        max_digits=7,
        decimal_places=2,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coach"].queryset = coaches()
        self.fields["learner"].widget.attrs.update({
            "data-lookup-url": reverse("learners:lookup"),
            "data-lookup-empty": "No learner matches: check the name, or add the learner first",
            "autocomplete": "off",
            "spellcheck": "false",
        })

    def clean(self):
        cleaned = super().clean()
        learner, cohort = cleaned.get("learner"), cleaned.get("cohort")
        if learner and cohort and Enrolment.objects.filter(learner=learner, cohort=cohort).exists():
            self.add_error("cohort", f"{learner} is already enrolled on {cohort}.")
        if "start_date" in cleaned and cleaned["start_date"] is None:
            cleaned["start_date"] = timezone.localdate()
        start = cleaned.get("start_date")
        end = cleaned.get("planned_end_date")
        if start and end and end <= start:
            self.add_error("planned_end_date", "The planned end date must be after the start date.")
        if cohort and start and "planned_end_date" in cleaned:
            if end is None:
                end = suggested_planned_end(standard=cohort.standard, start_date=start)
                if end is None:
                    self.add_error(
                        "planned_end_date",
                        f"Enter the planned end date: {cohort.standard.reference} {cohort.standard.title} has no "
                        "typical duration to suggest one.",
                    )
            if end is not None:
                add_funding_rule_errors(self, standard=cohort.standard, start_date=start, planned_end_date=end)
        return cleaned


class EnrolmentEditForm(forms.ModelForm):
    """Edit an enrolment's coach, dates and hours. Status changes have their own forms."""

    start_date = date_field("Start date")
    planned_end_date = date_field("Planned end date")

    class Meta:
        model = Enrolment
        fields = [
            "coach",
            "start_date",
            "planned_end_date",
            "planned_otj_hours",
            "contracted_hours_per_week",
            "prior_learning_reduction_hours",
            "version",
        ]
        widgets = {"version": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coach"].queryset = coaches()
        self.fields["coach"].empty_label = "No coach yet"
        self.fields["coach"].error_messages["invalid_choice"] = "Choose a coach from the list."

    def clean(self):
        cleaned = super().clean()
        add_funding_rule_errors(
            self,
            standard=self.instance.cohort.standard,
            start_date=cleaned.get("start_date"),
            planned_end_date=cleaned.get("planned_end_date"),
        )
        return cleaned


# --- Status changes: one small form each -------------------------------------------


class StartBreakForm(VersionMixin):
    on = date_field("Date the break started")
    reason = forms.CharField(
        label="Reason for the break",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A break is agreed with the employer and the apprentice intends to return. "
        "Leave or absences of up to 4 weeks are not breaks in learning.",
        error_messages={"required": "Enter the reason for the break in learning."},
    )


class EndBreakForm(VersionMixin):
    on = date_field(
        "Date the learner returned",
        help_text="For example, 27/03/2026",
    )
    reason = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class GatewayForm(VersionMixin):
    on = date_field("Gateway date")
    reason = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StartEpaForm(VersionMixin):
    on = date_field("Date end-point assessment started")
    reason = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ResultForm(VersionMixin):
    grade = forms.ChoiceField(
        label="Grade",
        choices=AssessmentResult.Grade.choices,
        widget=forms.RadioSelect,
        help_text="Some standards have no merit grade: choose the grade the assessment organisation gave.",
        error_messages={"required": "Choose the grade.", "invalid_choice": "Choose a grade from the list."},
    )
    on = date_field("Date of the result")
    attempt = forms.IntegerField(
        label="Attempt",
        min_value=1,
        help_text="Attempts go up from 1 with no gaps.",
        error_messages={
            "required": "Enter the attempt number.",
            "invalid": "Enter the attempt as a whole number, like 1.",
        },
    )


class CompleteForm(VersionMixin):
    on = date_field("Completion date")
    actual_end_date = date_field(
        "End of learning",
        required=False,
        help_text="The actual end date of learning. Leave blank to use the gateway date.",
    )
    reason = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class WithdrawForm(VersionMixin):
    on = date_field("Date learning ended")
    reason = forms.ChoiceField(
        label="Reason for the withdrawal",
        choices=Enrolment.WithdrawalReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the reason for the withdrawal.",
            "invalid_choice": "Choose a reason from the list.",
        },
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))
