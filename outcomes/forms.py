"""Forms for outcomes: adding a national benchmark."""
from decimal import Decimal

from django import forms

from academy.dates import academic_year_label, parse_academic_year
from cohorts.models import Standard

from .models import NationalBenchmark


class NationalBenchmarkForm(forms.ModelForm):
    """Add a national benchmark; the rate is typed as a percentage (60.5) and stored as a fraction (0.6050).

    Checks, each with a message naming the field: the rate is 0–100 with at most two
    decimals; the academic year looks like 2023/24 (stored as "2023/24"); a standard
    benchmark names a standard and no level, a level benchmark a level and no standard,
    an all-standards benchmark neither; and no benchmark already exists for the same
    measure, scope and academic year (``one_benchmark_per_measure_scope_year``).
    """

    rate = forms.DecimalField(
        label="Rate (%)",
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        help_text="As published, as a percentage from 0 to 100, for example 60.5.",
        error_messages={
            "required": "Enter the rate as a percentage, for example 60.5",
            "invalid": "Rate must be a number, for example 60.5",
            "min_value": "Rate must be between 0 and 100",
            "max_value": "Rate must be between 0 and 100",
            "max_decimal_places": "Rate can have at most 2 decimal places",
            "max_digits": "Rate must be between 0 and 100",
        },
    )

    source_url = forms.URLField(
        label="Source web address",
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": "Source web address must be a full address, like https://www.gov.uk/…"},
    )

    class Meta:
        model = NationalBenchmark
        fields = [
            "measure",
            "scope",
            "standard",
            "level",
            "academic_year",
            "period",
            "rate",
            "numerator",
            "denominator",
            "population",
            "source",
            "source_url",
            "note",
        ]
        labels = {
            "academic_year": "Academic year",
            "source": "Source",
        }
        help_texts = {
            "standard": "Only for a benchmark of one standard.",
            "level": "Only for a benchmark of one level, from 2 to 7.",
            "academic_year": "For example 2023/24.",
            "period": "Where the figure is not for an academic year, for example March 2023 to February 2024.",
            "population": "What the figure covers, as published, for example Standards - all.",
            "source": "The publisher and publication, for example DfE apprenticeship national achievement rate tables.",
        }
        error_messages = {
            "measure": {"required": "Choose the measure", "invalid_choice": "Choose a measure from the list"},
            "scope": {"required": "Choose the scope", "invalid_choice": "Choose a scope from the list"},
            "standard": {"invalid_choice": "Choose a standard from the list"},
            "level": {
                "invalid": "Level must be a whole number from 2 to 7",
                "min_value": "Level must be from 2 to 7",
                "max_value": "Level must be from 2 to 7",
            },
            "academic_year": {"required": "Enter the academic year, for example 2023/24"},
            "numerator": {"invalid": "Numerator must be a whole number", "min_value": "Numerator cannot be negative"},
            "denominator": {
                "invalid": "Denominator must be a whole number",
                "min_value": "Denominator cannot be negative",
            },
            "source": {"required": "Enter the source of the figure"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].queryset = Standard.objects.order_by("reference")
        # GOV.UK classes come from the form renderer (academy.forms.GovUKBoundField); only widths here.
        for name in ("rate", "numerator", "denominator", "level", "academic_year"):
            self.fields[name].widget.attrs["class"] = "govuk-input--width-5"
        self.fields["rate"].widget.attrs["inputmode"] = "decimal"

    def clean_academic_year(self) -> str:
        """Return the year as "2023/24" (also accepts 2023-24 and 202324)."""
        value = self.cleaned_data["academic_year"]
        try:
            return academic_year_label(parse_academic_year(value))
        except ValueError:
            raise forms.ValidationError("Academic year must look like 2023/24") from None

    def clean_rate(self) -> Decimal:
        """Return the percentage as a fraction with four decimals: 60.5 → 0.6050."""
        return (self.cleaned_data["rate"] / 100).quantize(Decimal("0.0001"))

    def clean(self):
        cleaned = super().clean()
        scope = cleaned.get("scope")
        standard = cleaned.get("standard")
        level = cleaned.get("level")
        # A missing standard or level is reported by ``NationalBenchmark.clean``; here, the extra one.
        if scope == NationalBenchmark.Scope.STANDARD:
            if level:
                self.add_error("level", "Leave level empty for a standard benchmark: the standard sets the level")
        elif scope == NationalBenchmark.Scope.LEVEL:
            if standard:
                self.add_error("standard", "Leave standard empty for a level benchmark")
        elif scope == NationalBenchmark.Scope.ALL:
            if standard:
                self.add_error("standard", "Leave standard empty for an all-standards benchmark")
            if level:
                self.add_error("level", "Leave level empty for an all-standards benchmark")

        numerator, denominator = cleaned.get("numerator"), cleaned.get("denominator")
        if numerator is not None and denominator is not None and numerator > denominator:
            self.add_error("numerator", "Numerator cannot be more than the denominator")

        measure, year = cleaned.get("measure"), cleaned.get("academic_year")
        if scope and measure and year and not self.errors:
            key = NationalBenchmark.make_scope_key(scope, standard.pk if standard else None, level)
            duplicate = NationalBenchmark.objects.filter(measure=measure, scope_key=key, academic_year=year)
            if self.instance.pk:
                duplicate = duplicate.exclude(pk=self.instance.pk)
            if duplicate.exists():
                self.add_error(
                    "academic_year",
                    f"Academic year: a {NationalBenchmark.Measure(measure).label.lower()} benchmark for this scope "
                    f"and {year} already exists",
                )
        return cleaned

    def _update_errors(self, errors):
        """Drop model errors for fields the form already rejected, so each field shows one message.

        ``NationalBenchmark.clean`` runs even when a field failed form validation and would
        then repeat, less clearly, what the form said (e.g. about the academic year).
        """
        if hasattr(errors, "error_dict"):
            kept = {field: messages for field, messages in errors.error_dict.items() if field not in self._errors}
            if not kept:
                return
            errors = forms.ValidationError(kept)
        super()._update_errors(errors)


def benchmark_form_for_edit(instance: NationalBenchmark, data=None) -> NationalBenchmarkForm:
    """Return the benchmark form for editing ``instance``, its stored fraction shown as a percentage (0.6050 → 60.5)."""
    initial = {}
    if instance.rate is not None:
        initial["rate"] = (instance.rate * 100).normalize()
    return NationalBenchmarkForm(data, instance=instance, initial=initial)


class NartUploadForm(forms.Form):
    """Upload a DfE national achievement rate tables (NARTs) CSV in its published layout."""

    file = forms.FileField(
        label="NARTs file (CSV)",
        help_text="The CSV as downloaded from Explore Education Statistics, up to 50 MB.",
        error_messages={"required": "Choose a CSV file to upload", "empty": "The file is empty"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("The file must be a CSV file")
        return upload
