"""Forms for the coach's pages: parse input only; the rules live in ``coaching.services``.

Every form renders in GOV.UK markup through ``academy.forms.GovUKFormRenderer``. Dates are
typed as UK dates (29/11/2026). ``apply_service_errors`` copies a service's
``ValidationError`` (a dict keyed by field) onto the form so each message sits by its field.
"""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from academy.forms import NamedLookupField
from academy.models import Team, User
from coaching.models import CoachingSession, OffTheJobActivity, ProgressReview, TrainingPlan
from cohorts.forms import date_field
from cohorts.models import Cohort


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Add the messages of a service's ``ValidationError`` to ``form``: by field, or as non-field errors."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class SessionForm(forms.Form):
    """A coaching session: date (default today), duration, mode, attendance, OTJ hours, topics, notes, next date."""

    date = date_field("Date of the session")
    duration_minutes = forms.IntegerField(
        label="Duration in minutes", help_text="For example, 60. At most 480 (8 hours).",
        error_messages={"required": "Enter the duration in minutes.",
                        "invalid": "Duration in minutes must be a whole number, like 60."},
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-4", "inputmode": "numeric"}),
    )
    mode = forms.ChoiceField(label="Mode", choices=CoachingSession.Mode.choices, widget=forms.RadioSelect,
                             initial=CoachingSession.Mode.VIDEO,
                             error_messages={"required": "Select how the session was held."})
    attendance = forms.ChoiceField(label="Attendance", choices=CoachingSession.Attendance.choices,
                                   widget=forms.RadioSelect, initial=CoachingSession.Attendance.ATTENDED,
                                   error_messages={"required": "Select whether the learner attended."})
    otj_hours = forms.DecimalField(
        label="Off-the-job hours", required=False, max_digits=5, decimal_places=2,
        error_messages={"invalid": "Off-the-job hours must be a number, like 1.5."},
        help_text="Leave empty to count the whole duration (attended sessions); 0 for a session not attended.",
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-4", "step": "0.25"}),
    )
    topics = forms.CharField(label="Topics", max_length=255, required=False)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    next_session_date = date_field("Next session date", required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReviewForm(forms.Form):
    """A progress review: date, who attended, agreed actions, RAG rating and notes."""

    ATTENDEES = (("learner", "Learner"), ("line_manager", "Line manager"), ("coach", "Coach"))

    date = date_field("Date of the review")
    attendees = forms.MultipleChoiceField(
        label="Attendees", choices=ATTENDEES, widget=forms.CheckboxSelectMultiple,
        initial=["learner", "line_manager", "coach"],
        error_messages={"required": "Attendees: tick who attended the review."},
    )
    agreed_actions = forms.CharField(label="Agreed actions", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    rag = forms.ChoiceField(label="RAG rating", choices=ProgressReview.Rag.choices, widget=forms.RadioSelect,
                            error_messages={"required": "Select a RAG rating: red, amber or green."})
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="Only the learner's coach and apprenticeship leads can read these.")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def service_values(self) -> dict:
        """Return the cleaned data as ``coaching.services.record_review``/``edit_review`` take it."""
        data = self.cleaned_data
        attendees = set(data["attendees"])
        return {
            "date": data["date"], "rag": data["rag"], "learner_attended": "learner" in attendees,
            "line_manager_attended": "line_manager" in attendees, "coach_attended": "coach" in attendees,
            "agreed_actions": data["agreed_actions"], "notes": data["notes"],
        }

    @classmethod
    def initial_for(cls, review: ProgressReview) -> dict:
        """Return the form's initial data for editing ``review``."""
        attendees = [name for name, attended in (("learner", review.learner_attended),
                                                  ("line_manager", review.line_manager_attended),
                                                  ("coach", review.coach_attended)) if attended]
        return {"date": review.date, "attendees": attendees, "agreed_actions": review.agreed_actions,
                "rag": review.rag, "notes": review.notes, "version": review.version}


class ActivityForm(forms.Form):
    """Off-the-job training other than a coaching session: date, category, hours, description."""

    date = date_field("Date of the training")
    category = forms.ChoiceField(label="Category", choices=OffTheJobActivity.Category.choices, widget=forms.RadioSelect,
                                 error_messages={"required": "Select the kind of training."})
    hours = forms.DecimalField(
        label="Hours", max_digits=5, decimal_places=2, help_text="For example, 7 for a training day or 1.5.",
        error_messages={"required": "Enter the hours.", "invalid": "Hours must be a number, like 1.5."},
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-4", "step": "0.25"}),
    )
    description = forms.CharField(label="Description", max_length=255, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    @classmethod
    def initial_for(cls, activity: OffTheJobActivity) -> dict:
        """Return the form's initial data for editing ``activity``."""
        return {"date": activity.date, "category": activity.category, "hours": activity.hours,
                "description": activity.description, "version": activity.version}


class TrainingForm(ActivityForm):
    """Off-the-job training as the apprentice logs it: the coach's fields, what they learned and a link."""

    description = forms.CharField(label="What was it?", max_length=255, required=False,
                                  help_text="For example, Power BI course module 3, or shadowing the finance team.")
    learning = forms.CharField(label="What did you learn?", required=False, widget=forms.Textarea(attrs={"rows": 4}),
                               help_text="A few sentences: your coach reads this when confirming the hours.")
    link = forms.URLField(label="Link", required=False, max_length=500, assume_scheme="https",
                          help_text="To a certificate, course page or piece of work.",
                          error_messages={"invalid": "Link must be a web address, like https://example.org/course."})

    @classmethod
    def initial_for(cls, activity: OffTheJobActivity) -> dict:
        return {**super().initial_for(activity), "learning": activity.learning, "link": activity.link}


class ReturnTrainingForm(forms.Form):
    """The coach's reason for returning the apprentice's training."""

    return_reason = forms.CharField(
        label="Why are you returning it?", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The apprentice sees this and can change the training and send it again.",
        error_messages={"required": "Say why you are returning this training, so the apprentice can put it right."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class RiskFilterForm(forms.Form):
    """Filters of the leads' risk view: coach, team and cohort (all optional).

    Each is a select up to 200 records, else a text input taking the name or number with
    a datalist of the first 200 (``academy.forms.NamedLookupField``), so the page does
    not grow with the academy: one query per field either way.
    """

    coach = NamedLookupField(
        User.objects.filter(role=User.Role.COACH).order_by("full_name", "email"), what="coach",
        name_fields=("full_name", "email"), label="Coach", required=False, empty_label="All coaches",
    )
    team = NamedLookupField(Team.objects.order_by("name"), what="team", label="Team", required=False,
                            empty_label="All teams")
    cohort = NamedLookupField(Cohort.objects.order_by("-start_date", "name"), what="cohort", label="Cohort",
                              required=False, empty_label="All cohorts")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("coach", "team", "cohort"):
            self.fields[name].prepare()


def _text(label: str, *, help_text: str = "", required: bool = True, rows: int = 4) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, help_text=help_text, widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": f"Enter {label[0].lower() + label[1:]}."},
    )


def _hours(label: str, *, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=0, max_value=99999, decimal_places=2, help_text=help_text,
        error_messages={"required": f"Enter the {label[0].lower() + label[1:]}.",
                        "invalid": f"{label} must be a number of hours, like 280 or 12.5.",
                        "min_value": f"{label} cannot be negative.",
                        "max_value": f"{label} must be 99,999 or fewer.",
                        "max_decimal_places": f"{label} can have at most 2 decimal places."},
    )


class TrainingPlanForm(forms.Form):
    """A version of the training plan: the fields of ``coaching.plans.EDITABLE_FIELDS``.

    ``number`` and ``version`` (hidden) are the version the page was based on and its
    edit counter, so a stale save is refused (``coaching.plans.save_plan``).
    """

    standard_version = forms.CharField(
        label="Standard version", required=False, max_length=10,
        help_text=TrainingPlan._meta.get_field("standard_version").help_text,
    )
    start_date = date_field("Start date")
    planned_end_date = date_field("Planned end date")
    planned_otj_hours = _hours("Planned off-the-job hours",
                               help_text="For the whole apprenticeship, after any reduction for prior learning.")
    otj_delivery = _text("How off-the-job training is delivered",
                         help_text=TrainingPlan._meta.get_field("otj_delivery").help_text, rows=5)
    prior_learning = _text("Prior learning", required=False,
                           help_text=TrainingPlan._meta.get_field("prior_learning").help_text)
    prior_learning_reduction_hours = _hours(
        "Off-the-job hours reduced for prior learning", help_text="0 if there is no reduction.")
    english_maths = forms.ChoiceField(
        label="English and maths", choices=TrainingPlan.EnglishMaths.choices, widget=forms.RadioSelect,
        help_text="From 11 February 2025 English and maths are optional for apprentices aged 19 or over, "
                  "if the employer chooses.",
        error_messages={"required": "Choose how English and maths are covered."},
    )
    english_maths_detail = _text("English and maths: detail", required=False, rows=2,
                                 help_text=TrainingPlan._meta.get_field("english_maths_detail").help_text)
    roles_and_responsibilities = _text("Roles and responsibilities",
                                       help_text=TrainingPlan._meta.get_field("roles_and_responsibilities").help_text)
    concerns = _text("How to raise a concern or complaint",
                     help_text=TrainingPlan._meta.get_field("concerns").help_text, rows=3)
    number = forms.IntegerField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def values(self) -> dict:
        """Return the cleaned plan fields (without ``number`` and ``version``)."""
        return {k: v for k, v in self.cleaned_data.items() if k not in ("number", "version")}


class SignatureForm(forms.Form):
    """Sign a document: the hash of the content the page showed, an optional comment, and a confirmation."""

    sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64, min_length=64)
    comment = forms.CharField(
        label="Comment", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything you want recorded with your signature, for example something you disagree with.",
    )
    confirm = forms.BooleanField(
        label="I have read this document and I agree to it",
        error_messages={"required": "Tick the box to confirm you have read the document and agree to it."},
    )
