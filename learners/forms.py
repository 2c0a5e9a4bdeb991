"""Forms of the lead's learner and team pages (GOV.UK markup via ``academy.forms.GovUKFormRenderer``).

Edit forms carry the record's ``version`` in a hidden field: ``academy.concurrency.save_if_current``
refuses the save when someone else saved first.
"""

from __future__ import annotations

from django import forms

from academy.models import Team
from academy.validators import TEMPORARY_ULN

from .models import Learner


class LearnerForm(forms.ModelForm):
    """Add or edit a learner: names, work email, employee number, ULN, team and line manager."""

    team = forms.ModelChoiceField(
        Team.objects.order_by("name"),
        empty_label="Choose a team",
        error_messages={
            "required": "Choose the learner's team.",
            "invalid_choice": "That team does not exist: choose one from the list, or add the team first.",
        },
    )

    class Meta:
        model = Learner
        fields = [
            "first_name",
            "last_name",
            "work_email",
            "employee_number",
            "uln",
            "team",
            "line_manager_name",
            "line_manager_email",
            "version",
        ]
        widgets = {"version": forms.HiddenInput}
        labels = {"uln": "ULN (Unique Learner Number)"}
        help_texts = {
            "uln": "10 digits; leave blank if not known yet. 9999999999 is the temporary ULN.",
            "employee_number": "The HR employee number, exactly as HR gives it (leading zeros matter).",
        }
        error_messages = {
            "first_name": {"required": "Enter the learner's first name."},
            "last_name": {"required": "Enter the learner's last name."},
            "work_email": {
                "required": "Enter the learner's work email address.",
                "unique": "Another learner already has this work email address.",
                "invalid": "Enter the work email in the right format, like name@example.org.",
            },
            "employee_number": {
                "required": "Enter the learner's employee number.",
                "unique": "Another learner already has this employee number.",
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")
        if not self.instance.pk:
            del self.fields["version"]  # a new record starts at version 1

    def clean_work_email(self):
        return self.cleaned_data["work_email"].strip().lower()

    def clean_employee_number(self):
        return self.cleaned_data["employee_number"].strip()

    def clean_uln(self):
        uln = self.cleaned_data.get("uln", "").strip()
        if uln and uln != TEMPORARY_ULN:
            others = Learner.objects.filter(uln=uln)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                raise forms.ValidationError("Another learner already has this ULN.")
        return uln


class TeamForm(forms.ModelForm):
    """Add or edit a team: its name and directorate."""

    class Meta:
        model = Team
        fields = ["name", "directorate", "version"]
        widgets = {"version": forms.HiddenInput}
        help_texts = {"name": "For example, Revenues and Benefits"}
        error_messages = {
            "name": {"required": "Enter the team name.", "unique": "Another team already has this name."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            del self.fields["version"]  # a new team starts at version 1


class TeamFilterForm(forms.Form):
    q = forms.CharField(label="Search teams", required=False, help_text="Team or directorate name")
