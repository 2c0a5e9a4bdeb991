"""Apprenticeship standards, cohorts, enrolments, their status history and end-point assessment results."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from academy.dates import uk_short_date
from academy.validators import validate_standard_reference, validate_ukprn


class Standard(models.Model):
    """An apprenticeship standard, e.g. ST0118 Data Analyst, level 4.

    Reference data loaded by ``load_reference_data`` from the Institute for
    Apprenticeships list (8 May 2018) and a supplementary file; fields a source does
    not give stay empty (``None``) rather than guessed.
    """

    reference = models.CharField(max_length=6, unique=True, validators=[validate_standard_reference])
    title = models.CharField(max_length=255)
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(2), MaxValueValidator(7)])
    route = models.CharField(max_length=100, blank=True)
    typical_duration_months = models.PositiveSmallIntegerField(null=True, blank=True)
    max_funding_gbp = models.PositiveIntegerField(
        "maximum funding band (£)", null=True, blank=True, help_text="The most the levy pays, in whole pounds."
    )
    lars_code = models.PositiveIntegerField(
        "LARS standard code", null=True, blank=True, unique=True, help_text="The ILR StdCode."
    )
    integrated_degree = models.BooleanField(default=False)
    otj_minimum_hours = models.PositiveIntegerField(
        "minimum off-the-job hours",
        null=True,
        blank=True,
        help_text="The fixed minimum published for the standard (funding rules from 1 August 2025); "
        "empty until published.",
    )
    approved_for_delivery = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=255, blank=True)
    url = models.URLField(blank=True)

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=2, level__lte=7), name="standard_level_2_to_7"),
        ]

    def __str__(self):
        return f"{self.title} (level {self.level}, {self.reference})"


class CohortQuerySet(models.QuerySet):
    def with_standard(self):
        return self.select_related("standard")


class Cohort(models.Model):
    """An intake: learners who start one standard together with one provider.

    E.g. "Data Analyst L4 — January 2024".
    """

    name = models.CharField(max_length=150, unique=True)
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="cohorts")
    provider = models.CharField("training provider", max_length=255)
    provider_ukprn = models.CharField(
        "provider UKPRN", max_length=8, blank=True, validators=[validate_ukprn]
    )
    start_date = models.DateField()
    version = models.PositiveIntegerField(default=1, help_text="Raised on every edit; a stale edit is refused.")

    objects = CohortQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["start_date", "name"]

    def __str__(self):
        return self.name


class Enrolment(models.Model):
    """One learner on one cohort, with its status lifecycle (docs/rules.md, "Enrolment lifecycle").

    ``active`` → (``break_in_learning`` ↔ ``active``) → ``gateway`` →
    ``end_point_assessment`` → ``completed``; or → ``withdrawn`` with a reason.
    Hours are in hours (decimal); dates are calendar dates.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "In learning"
        BREAK_IN_LEARNING = "break_in_learning", "Break in learning"
        GATEWAY = "gateway", "Gateway"
        END_POINT_ASSESSMENT = "end_point_assessment", "End-point assessment"
        COMPLETED = "completed", "Completed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class WithdrawalReason(models.TextChoices):
        """ILR WithdrawReason codes (ILR 2018/19 code lists; HE-only codes left out)."""

        TRANSFERRED = "2", "Transferred to another provider"
        HEALTH = "3", "Injury or illness"
        TRANSFERRED_BY_AGENCY = "7", "Transferred between providers by agreement with the funding agency"
        REDUNDANT = "29", "Made redundant"
        NEW_AIM_SAME_PROVIDER = "40", "Transferred to a new learning aim with the same provider"
        TRANSFERRED_STRATEGY = "41", "Transferred to another provider for a government strategy"
        FINANCIAL = "43", "Financial reasons"
        PERSONAL = "44", "Other personal reasons"
        EXCLUDED = "46", "Exclusion"
        PROVIDER_MERGER = "47", "Transferred to another provider due to merger"
        OTHER = "97", "Other"
        NOT_KNOWN = "98", "Reason not known"

    learner = models.ForeignKey("learners.Learner", on_delete=models.PROTECT, related_name="enrolments")
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="enrolments")
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coached_enrolments",
        limit_choices_to={"role": "coach"},
    )
    start_date = models.DateField()
    planned_end_date = models.DateField()
    actual_end_date = models.DateField(null=True, blank=True)
    planned_otj_hours = models.DecimalField(
        "planned off-the-job hours", max_digits=7, decimal_places=2, validators=[MinValueValidator(0)]
    )
    contracted_hours_per_week = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
        help_text="Used by the off-the-job minimum rules (full-time is 30 hours or more).",
    )
    prior_learning_reduction_hours = models.DecimalField(
        "off-the-job reduction for prior learning",
        max_digits=7,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.ACTIVE)
    withdrawal_reason = models.CharField(max_length=2, choices=WithdrawalReason.choices, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised on every edit; a stale edit is refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["cohort__start_date", "learner__last_name", "learner__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "cohort"], name="one_enrolment_per_learner_per_cohort"),
            models.CheckConstraint(
                condition=models.Q(planned_end_date__gt=models.F("start_date")),
                name="enrolment_planned_end_after_start",
                violation_error_message="The planned end date must be after the start date.",
            ),
            models.CheckConstraint(
                condition=models.Q(actual_end_date__isnull=True)
                | models.Q(actual_end_date__gte=models.F("start_date")),
                name="enrolment_actual_end_not_before_start",
                violation_error_message="The actual end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_otj_hours__gte=0), name="enrolment_planned_otj_hours_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(contracted_hours_per_week__isnull=True)
                | models.Q(contracted_hours_per_week__gte=0, contracted_hours_per_week__lte=168),
                name="enrolment_contracted_hours_in_week",
            ),
            models.CheckConstraint(
                condition=models.Q(prior_learning_reduction_hours__gte=0),
                name="enrolment_prior_learning_reduction_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "break_in_learning", "gateway", "end_point_assessment", "completed", "withdrawn"]), name="enrolment_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="withdrawn") | ~models.Q(withdrawal_reason=""),
                name="enrolment_withdrawn_has_reason",
                violation_error_message="A withdrawal needs a reason.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["withdrawn", "completed"]) | models.Q(actual_end_date__isnull=False),
                name="enrolment_ended_has_actual_end_date",
                violation_error_message="A withdrawn or completed enrolment needs an actual end date.",
            ),
        ]
        indexes = [models.Index(fields=["cohort", "status"]), models.Index(fields=["coach", "status"])]

    def __str__(self):
        return f"{self.learner} on {self.cohort}"

    def get_absolute_url(self):
        return reverse("learners:detail", args=[self.learner_id])

    def clean(self):
        """Check what needs more than one field, with messages naming the field."""
        errors = {}
        if self.start_date and self.planned_end_date and self.planned_end_date <= self.start_date:
            errors["planned_end_date"] = "The planned end date must be after the start date."
        if self.start_date and self.actual_end_date and self.actual_end_date < self.start_date:
            errors["actual_end_date"] = "The actual end date cannot be before the start date."
        if self.status == self.Status.WITHDRAWN and not self.withdrawal_reason:
            errors["withdrawal_reason"] = "Choose the reason for the withdrawal."
        if self.status in (self.Status.WITHDRAWN, self.Status.COMPLETED) and not self.actual_end_date:
            errors["actual_end_date"] = "Enter the date learning ended."
        if self.coach_id and not self.coach.is_coach:
            errors["coach"] = "Choose a user whose role is coach."
        if (
            self.status == self.Status.WITHDRAWN
            and self.pk
            and self.assessment_results.exists()
        ):
            errors["status"] = "This enrolment has an end-point assessment result, so it cannot be withdrawn."
        if errors:
            raise ValidationError(errors)

    @property
    def is_leaver(self):
        """True when the learner has left: completed or withdrawn (DfE achievement rate cohort)."""
        return self.status in (self.Status.COMPLETED, self.Status.WITHDRAWN)


class AssessmentResult(models.Model):
    """The grade of one end-point assessment (EPA) attempt on an enrolment.

    Grades follow the assessment plan: some standards grade fail/pass/merit/
    distinction, others fail/pass/distinction; merit is never assumed (docs/rules.md).
    A withdrawn enrolment never has a result: a database trigger enforces it
    (migration ``outcomes.0002``, written when results lived in ``outcomes``), and ``clean`` says so in forms.
    """

    class Grade(models.TextChoices):
        DISTINCTION = "distinction", "Distinction"
        MERIT = "merit", "Merit"
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"

    PASSING_GRADES = (Grade.DISTINCTION, Grade.MERIT, Grade.PASS)

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="assessment_results")
    grade = models.CharField(max_length=12, choices=Grade.choices)
    date = models.DateField()
    attempt = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(table_name="outcomes_historicalassessmentresult")

    class Meta:
        db_table = "outcomes_assessmentresult"  # the table it had in ``outcomes``; moved without copying data
        ordering = ["enrolment", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "attempt"], name="one_result_per_attempt"),
            models.CheckConstraint(condition=models.Q(attempt__gte=1), name="result_attempt_from_one"),
            models.CheckConstraint(
                condition=models.Q(grade__in=["distinction", "merit", "pass", "fail"]), name="result_grade_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_grade_display()} (attempt {self.attempt}) for {self.enrolment}"

    def clean(self):
        if self.enrolment_id and self.enrolment.status == "withdrawn":
            raise ValidationError(
                {"enrolment": "This enrolment is withdrawn, so it cannot have an end-point assessment result."}
            )
        if self.enrolment_id and self.date and self.date < self.enrolment.start_date:
            raise ValidationError({"date": "The assessment date cannot be before the enrolment started."})


class EnrolmentStatusChange(models.Model):
    """One change of an enrolment's status: who, when, from, to and why."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=24, choices=Enrolment.Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Enrolment.Status.choices)
    effective_date = models.DateField()
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enrolment", "changed_at", "id"]

    def __str__(self):
        change = f"{self.from_status or 'new'} → {self.to_status}"
        return f"{self.enrolment}: {change} on {uk_short_date(self.effective_date)}"


class ImportRun(models.Model):
    """One upload of a staff/enrolment spreadsheet or an ILR file, from preview to confirmed import.

    Status moves uploaded → previewing → previewed → importing → done, or → failed /
    cancelled. The file is kept in ``content`` (bytes) so any worker can read it;
    ``preview`` holds one entry per data row (row number, action new/changed/unchanged/
    error, messages naming the column and reason); ``processed_rows`` of ``total_rows``
    drives the progress bar. The import itself is one transaction.
    """

    class Kind(models.TextChoices):
        SPREADSHEET = "spreadsheet", "Staff and enrolments spreadsheet"
        ILR = "ilr", "ILR XML file"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        PREVIEWING = "previewing", "Checking rows"
        PREVIEWED = "previewed", "Ready to confirm"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    size_bytes = models.PositiveIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text="new / changed / unchanged / error / skipped.")
    preview = models.JSONField(default=list, blank=True)
    skip_rows = models.JSONField(default=list, blank=True, help_text="Row numbers the user chose to skip.")
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(processed_rows__lte=models.F("total_rows")), name="import_progress_within_total"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.filename} ({self.get_status_display()})"
