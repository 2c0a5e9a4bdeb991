"""Coaching records: one-to-one sessions, progress reviews, other off-the-job training, reminders sent.

Each model keeps the table it had when it lived in ``learners`` (``db_table``), so moving
the code moved no data (``coaching/migrations/0001_initial.py``).
"""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from academy.dates import uk_short_date


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(table_name="learners_historicalprogressreview")

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
    """A reminder email sent to a coach on a day; the unique key stops a second send that day.

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
