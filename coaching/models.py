"""Coaching records: one-to-one sessions, progress reviews, other off-the-job training, reminders sent.

Each model keeps the table it had when it lived in ``learners`` (``db_table``), so moving
the code moved no data (``coaching/migrations/0001_initial.py``).
"""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from academy.dates import uk_short_date

from . import canonical

SHA256_HELP = ("SHA-256 of the agreed content (coaching.canonical), set on every save through Academy; "
               "a signature counts while it matches.")


class CoachingSession(models.Model):
    """A one-to-one between a coach and a learner on one enrolment.

    ``duration_minutes`` in minutes; ``otj_hours`` in hours (the off-the-job
    training the session counts for, often the duration).
    """

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video call"
        PHONE = "phone", "Phone"

    class Attendance(models.TextChoices):
        ATTENDED = "attended", "Attended"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "Did not attend"

    enrolment = models.ForeignKey("cohorts.Enrolment", on_delete=models.CASCADE, related_name="coaching_sessions")
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coaching_sessions"
    )
    date = models.DateField()
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(0)])
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.VIDEO)
    attendance = models.CharField(max_length=12, choices=Attendance.choices, default=Attendance.ATTENDED)
    otj_hours = models.DecimalField(
        "off-the-job hours", max_digits=5, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    topics = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    next_session_date = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised on every edit; a stale edit is refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(table_name="learners_historicalcoachingsession")

    class Meta:
        db_table = "learners_coachingsession"
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=0), name="coaching_duration_not_negative"
            ),
            models.CheckConstraint(condition=models.Q(otj_hours__gte=0), name="coaching_otj_hours_not_negative"),
            models.CheckConstraint(
                condition=models.Q(attendance="attended") | models.Q(otj_hours=0),
                name="coaching_otj_hours_only_when_attended",
                violation_error_message="Off-the-job hours can only be logged for an attended session.",
            ),
        ]
        indexes = [models.Index(fields=["enrolment", "date"])]

    def __str__(self):
        return f"{self.enrolment.learner} with {self.coach} on {uk_short_date(self.date)}"


class ProgressReview(models.Model):
    """A progress review of learner, employer (line manager) and provider (coach).

    Due by the funding rules of the enrolment's start year (``cohorts.funding_rules``):
    at least every 12 weeks, or every 3 calendar months under the 2025/26 rules.
    ``rag`` is the agreed red/amber/green rating of progress.
    """

    class Rag(models.TextChoices):
        RED = "red", "Red: at risk"
        AMBER = "amber", "Amber: some concerns"
        GREEN = "green", "Green: on track"

    enrolment = models.ForeignKey("cohorts.Enrolment", on_delete=models.CASCADE, related_name="progress_reviews")
    date = models.DateField()
    learner_attended = models.BooleanField(default=True)
    line_manager_attended = models.BooleanField(default=True)
    coach_attended = models.BooleanField(default=True)
    agreed_actions = models.TextField(blank=True)
    rag = models.CharField("RAG rating", max_length=5, choices=Rag.choices)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    content_sha256 = models.CharField(max_length=64, blank=True, editable=False, help_text=SHA256_HELP)
    signatures_expected = models.BooleanField(
        default=True, help_text="False for reviews recorded before Academy took signatures (kept on paper): "
                                "they are not listed as waiting for signatures.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(table_name="learners_historicalprogressreview")

    def save(self, *args, **kwargs):
        self.content_sha256 = canonical.content_sha256("progress_review", self)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "content_sha256"}
        super().save(*args, **kwargs)

    class Meta:
        db_table = "learners_progressreview"
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["enrolment", "date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(rag__in=["red", "amber", "green"]), name="review_rag_valid"),
        ]

    def __str__(self):
        return f"Progress review of {self.enrolment} on {uk_short_date(self.date)}"


class OffTheJobActivity(models.Model):
    """Off-the-job training logged against an enrolment other than a coaching session.

    Logged by a coach (``status`` confirmed at once) or by the apprentice (submitted, then
    confirmed or returned with a reason by their coach: ``coaching.training``).
    ``hours`` in hours (more than 0, at most 24 in a day). Categories follow the ESFA
    funding rules' examples of off-the-job training (teaching of theory, practical
    training, shadowing, mentoring, industry visits, time spent on assignments).
    """

    class Category(models.TextChoices):
        TRAINING_DAY = "training_day", "Training day or workshop"
        SELF_STUDY = "self_study", "Self-study and assignments"
        SHADOWING = "shadowing", "Shadowing or mentoring"
        PRACTICAL = "practical", "Practical training"
        VISIT = "visit", "Industry visit or event"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        # Training the apprentice logs counts as logged at once and as confirmed once their
        # coach confirms it; returned training counts as neither until it is sent again.
        SUBMITTED = "submitted", "Logged, waiting for the coach"
        CONFIRMED = "confirmed", "Confirmed"
        RETURNED = "returned", "Returned to the apprentice"

    enrolment = models.ForeignKey("cohorts.Enrolment", on_delete=models.CASCADE, related_name="otj_activities")
    date = models.DateField()
    category = models.CharField(max_length=16, choices=Category.choices)
    hours = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0.25), MaxValueValidator(24)]
    )
    description = models.CharField(max_length=255, blank=True)
    learning = models.TextField("What I learned", blank=True)
    link = models.URLField("Link", max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The coach (or lead) who confirmed or returned it.",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(table_name="learners_historicaloffthejobactivity")

    class Meta:
        db_table = "learners_offthejobactivity"
        ordering = ["-date", "-id"]
        verbose_name_plural = "off-the-job activities"
        indexes = [models.Index(fields=["enrolment", "date"]), models.Index(fields=["status", "enrolment"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gt=0, hours__lte=24), name="otj_activity_hours_in_day"),
            models.CheckConstraint(condition=models.Q(status__in=["submitted", "confirmed", "returned"]),
                                   name="otj_activity_status_valid"),
            models.CheckConstraint(condition=~models.Q(status="returned") | ~models.Q(return_reason=""),
                                   name="otj_activity_returned_with_reason"),
        ]

    def __str__(self):
        return f"{self.get_category_display()}, {self.hours} h on {uk_short_date(self.date)}"


class ReminderLog(models.Model):
    """A reminder email sent to a user on a day (``kind`` "daily" to coaches, "signatures" to anyone); one a day per kind.

    The sender inserts this row first (in the same transaction as deciding to send); a
    second run, or a second worker at the same moment, hits the unique constraint and
    sends nothing.
    """

    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_logs")
    date = models.DateField()
    kind = models.CharField(max_length=32, default="daily")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "learners_reminderlog"
        ordering = ["-date", "coach"]
        constraints = [
            models.UniqueConstraint(fields=["coach", "date", "kind"], name="one_reminder_per_coach_per_day"),
        ]

    def __str__(self):
        return f"{self.kind} reminder to {self.coach} on {uk_short_date(self.date)}"


class TrainingPlan(models.Model):
    """One version of an enrolment's training plan, agreed by the apprentice, employer and provider.

    The funding rules require a training plan, signed by all three, before training
    starts (docs/rules.md, "Training plan": 2022 rules P56–P58). Version 1 is drafted
    from the enrolment by a lead or the coach (``coaching.plans``); a draft (no signature
    yet) is changed in place; a change after any signature makes version ``number + 1``,
    which needs all three signatures again. Earlier versions stay as they were signed.

    Dates are calendar dates; hours are hours (``Decimal``, 2 dp). ``standard_*`` are
    copied from the enrolment's standard when drafted, so a signed version reads as it
    was signed whatever later happens to the reference data.
    """

    class EnglishMaths(models.TextChoices):
        # English and maths: optional for apprentices aged 19+ from 11 February 2025
        # (docs/rules.md, "English and maths"), recorded in the training plan.
        REQUIRED = "required", "Working towards English and maths in this apprenticeship"
        ACHIEVED = "achieved", "Already achieved (evidence held)"
        NOT_REQUIRED = "not_required", "Not included: apprentice aged 19 or over and the employer chose not to"

    enrolment = models.ForeignKey("cohorts.Enrolment", on_delete=models.CASCADE, related_name="training_plans")
    number = models.PositiveIntegerField("version", default=1)
    standard_reference = models.CharField(max_length=6)
    standard_title = models.CharField(max_length=255)
    standard_version = models.CharField(
        "standard version", max_length=10, blank=True,
        help_text="The version of the standard and its assessment plan the apprentice is on, as on the "
                  "standard's page (for example 1.1). Leave empty if not known yet.",
    )
    start_date = models.DateField("start date")
    planned_end_date = models.DateField("planned end date")
    planned_otj_hours = models.DecimalField(
        "planned off-the-job hours", max_digits=7, decimal_places=2, validators=[MinValueValidator(0)]
    )
    otj_delivery = models.TextField(
        "how off-the-job training is delivered",
        help_text="When and how each part of the programme is delivered: for example day release, block "
                  "weeks, workshops, online learning, and the hours of each.",
    )
    prior_learning = models.TextField(
        "prior learning", blank=True,
        help_text="What the apprentice already knows and can do that the standard covers, found at the initial "
                  "assessment. Training on it is left out of this plan.",
    )
    prior_learning_reduction_hours = models.DecimalField(
        "off-the-job hours reduced for prior learning", max_digits=7, decimal_places=2, default=0,
        validators=[MinValueValidator(0)],
    )
    english_maths = models.CharField("English and maths", max_length=16, choices=EnglishMaths.choices)
    english_maths_detail = models.TextField(
        "English and maths: detail", blank=True,
        help_text="Levels held or being worked towards, and the evidence.",
    )
    roles_and_responsibilities = models.TextField(
        "roles and responsibilities",
        help_text="What the apprentice, the employer (line manager) and the training provider each commit to.",
    )
    concerns = models.TextField(
        "how to raise a concern or complaint",
        help_text="Who to contact first at the employer and the provider, and the apprenticeship helpline.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, help_text="Raised on every edit of a draft; a stale edit is refused.")
    content_sha256 = models.CharField(max_length=64, editable=False, help_text=SHA256_HELP)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["enrolment", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "number"], name="one_training_plan_per_version"),
            models.CheckConstraint(
                condition=models.Q(planned_end_date__gt=models.F("start_date")),
                name="training_plan_end_after_start",
                violation_error_message="The planned end date must be after the start date.",
            ),
            models.CheckConstraint(condition=models.Q(planned_otj_hours__gte=0, prior_learning_reduction_hours__gte=0),
                                   name="training_plan_hours_not_negative"),
        ]

    def __str__(self):
        return f"Training plan version {self.number} of {self.enrolment}"

    def save(self, *args, **kwargs):
        self.content_sha256 = canonical.content_sha256("training_plan", self)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "content_sha256"}
        super().save(*args, **kwargs)


class Signature(models.Model):
    """One party's signature of one version of a training plan or a progress review.

    An act of the signed-in ``signer`` (their name and the party they signed for kept as
    they were: ``signer_name``), with the time and ``content_sha256``, the SHA-256 (hex)
    of the document's canonical content at that moment (``coaching.signing``). A
    signature counts while the document still has that content; ``python manage.py
    verify_signatures`` lists documents whose content changed under a signature without
    a new version. Exactly one of ``training_plan`` and ``progress_review`` is set.
    """

    class Party(models.TextChoices):
        APPRENTICE = "apprentice", "Apprentice"
        EMPLOYER = "employer", "Employer (line manager)"
        PROVIDER = "provider", "Training provider (coach)"

    training_plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, null=True, blank=True,
                                      related_name="signatures")
    progress_review = models.ForeignKey(ProgressReview, on_delete=models.CASCADE, null=True, blank=True,
                                        related_name="signatures")
    document_version = models.PositiveIntegerField(help_text="The plan's version number, or the review's version.")
    party = models.CharField(max_length=10, choices=Party.choices)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    signer_name = models.CharField(max_length=255)
    signed_at = models.DateTimeField()
    content_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the content signed.")
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(training_plan__isnull=False, progress_review__isnull=True)
                           | models.Q(training_plan__isnull=True, progress_review__isnull=False)),
                name="signature_of_one_document",
            ),
            models.CheckConstraint(condition=models.Q(party__in=["apprentice", "employer", "provider"]),
                                   name="signature_party_valid"),
            models.UniqueConstraint(fields=["training_plan", "party"], condition=models.Q(training_plan__isnull=False),
                                    name="one_signature_per_party_per_plan_version"),
            models.UniqueConstraint(fields=["progress_review", "document_version", "party"],
                                    condition=models.Q(progress_review__isnull=False),
                                    name="one_signature_per_party_per_review_version"),
        ]
        indexes = [models.Index(fields=["signer", "signed_at"])]

    def __str__(self):
        return f"{self.get_party_display()}: {self.signer_name} on {uk_short_date(self.signed_at.date())}"
