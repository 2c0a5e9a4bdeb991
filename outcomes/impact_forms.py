"""Forms for impact records (entered by apprenticeship leads) and the value-for-the-levy inputs."""
from __future__ import annotations

import re
from decimal import Decimal

from django import forms

from academy.models import Team
from learners.models import Learner

from .models import ImpactRecord

MAX_LEARNERS = 200


class ImpactRecordForm(forms.ModelForm):
    """Add or change an impact record.

    ``value`` is in the kind's unit: pounds for money (pence allowed), hours a year, or a
    percentage from 0 to 100 for time reduced. Learners are typed as employee numbers
    (one per line or comma-separated) so the form stays small however many learners the
    academy has; each must exist, with a message naming the unknown ones.
    ``cleaned_data["learners"]`` is a list of ``Learner``. The view saves through
    ``outcomes.impact.record_impact`` / ``update_impact``, never ``form.save()``.
    """

    value = forms.DecimalField(
        label="Value",
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        help_text="In pounds for money (for example 3500000), in hours a year for hours saved (for example 260), "
        "or as a percentage from 0 to 100 for time reduced (for example 50).",
        error_messages={
            "required": "Enter the value",
            "invalid": "Value must be a number, for example 3500000",
            "min_value": "Value must be 0 or more",
            "max_decimal_places": "Value can have at most 2 decimal places",
            "max_digits": "Value is too large",
        },
    )
    employee_numbers = forms.CharField(
        label="Learners involved",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Their employee numbers, one per line or separated by commas.",
    )
    link = forms.URLField(
        label="Link to the evidence",
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": "Enter a full web address, like https://intranet.example.org/report"},
    )

    class Meta:
        model = ImpactRecord
        fields = ["title", "kind", "value", "team", "date", "evidence", "link"]
        labels = {
            "title": "What changed",
            "kind": "Kind of impact",
            "team": "Team",
            "date": "Date",
            "evidence": "Evidence",
        }
        help_texts = {
            "title": "For example, Council tax debt resolved with a Power BI arrears dashboard.",
            "evidence": "How it was measured, by whom, and over what period.",
            "date": "When the impact was measured. For example, 27/03/2026",
        }
        widgets = {"kind": forms.RadioSelect, "date": forms.DateInput(format="%d/%m/%Y")}
        error_messages = {
            "title": {"required": "Enter what changed"},
            "kind": {"required": "Choose the kind of impact"},
            "date": {"required": "Enter the date", "invalid": "Date must be a real date, like 27/03/2026"},
            "evidence": {"required": "Enter the evidence for this impact"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["team"].required = False
        self.fields["team"].empty_label = "No single team"
        self.fields["kind"].choices = ImpactRecord.Kind.choices
        if self.instance.pk and not self.is_bound:
            numbers = self.instance.learners.order_by("employee_number").values_list("employee_number", flat=True)
            self.initial["employee_numbers"] = "\n".join(numbers)

    def clean_employee_numbers(self) -> list[Learner]:
        raw = self.cleaned_data.get("employee_numbers") or ""
        numbers = list(dict.fromkeys(n for n in re.split(r"[\s,;]+", raw) if n))
        if len(numbers) > MAX_LEARNERS:
            raise forms.ValidationError(f"Enter at most {MAX_LEARNERS} employee numbers")
        learners = list(Learner.objects.filter(employee_number__in=numbers))
        missing = sorted(set(numbers) - {learner.employee_number for learner in learners})
        if missing:
            raise forms.ValidationError("No learner has employee number " + ", ".join(missing))
        return learners

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == ImpactRecord.Kind.TIME_REDUCED and cleaned.get("value") is not None:
            if cleaned["value"] > 100:
                self.add_error("value", "A time reduction must be a percentage from 0 to 100")
        return cleaned

    def record_fields(self) -> dict:
        """Return the cleaned fields for ``record_impact``/``update_impact`` (learners apart)."""
        data = self.cleaned_data
        return {name: data[name] for name in ("title", "kind", "value", "team", "date", "evidence", "link")}


class LevyValueForm(forms.Form):
    """The optional inputs of the value-for-the-levy page (GET): an hourly cost and an annual pay bill, in pounds."""

    hourly_cost = forms.DecimalField(
        label="Hourly cost of staff time, in pounds",
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("10000"),
        decimal_places=2,
        help_text="Give one to see the hours saved a year valued in pounds. Leave empty to keep hours as hours.",
        error_messages={"invalid": "Hourly cost must be a number of pounds, for example 25.50",
                        "min_value": "Hourly cost must be 0 or more",
                        "max_value": "Hourly cost must be £10,000 or less"},
    )
    pay_bill = forms.DecimalField(
        label="Annual pay bill, in pounds",
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=0,
        help_text="Give one to see the levy paid a year: 0.5% of the pay bill less a £15,000 allowance.",
        error_messages={"invalid": "Pay bill must be a whole number of pounds, for example 250000000",
                        "min_value": "Pay bill must be 0 or more"},
    )
