"""Learners: the employer's staff on apprenticeships, as people (their enrolments are in ``cohorts``)."""
from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from simple_history.models import HistoricalRecords

from academy.validators import validate_uln


class LearnerQuerySet(models.QuerySet):
    def with_team(self):
        return self.select_related("team")


class Learner(models.Model):
    """A member of staff on an apprenticeship.

    ``employee_number`` is the employer's HR key (kept as text: leading zeros
    matter); ``uln`` is the 10-digit Unique Learner Number, checked by
    ``academy.validators.validate_uln`` (ILR rules ULN_04/DD01), empty until known.
    The line manager is recorded as a name and email (``line_manager_name``,
    ``line_manager_email``) and linked to their account (``line_manager``) when they have
    one; ``user`` is the learner's own account.
    """

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    work_email = models.EmailField(unique=True)
    employee_number = models.CharField(max_length=20, unique=True)
    uln = models.CharField("ULN", max_length=10, blank=True, validators=[validate_uln])
    team = models.ForeignKey("academy.Team", on_delete=models.PROTECT, related_name="learners")
    line_manager_name = models.CharField(max_length=150, blank=True)
    line_manager_email = models.EmailField(blank=True)
    line_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="line_reports",
        help_text="The line manager's account, once they have one; the name and email above stay as recorded.",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="learner"
    )
    anonymised_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the learner's personal data was erased (UK GDPR Art. 17)."
    )
    version = models.PositiveIntegerField(default=1, help_text="Raised on every edit; a stale edit is refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LearnerQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        # The learner list's order: its first page is an index scan, not a sort of every
        # learner (182 ms → under 1 ms at 100,000 learners; docs/scaling.md).
        indexes = [models.Index(fields=["last_name", "first_name", "id"], name="learner_name_order")]
        constraints = [
            # Work e-mails are stored lower-cased; this makes the database refuse "A@x" beside
            # "a@x" too, whatever path wrote it (an import's COPY, the admin, a shell).
            models.UniqueConstraint(
                Lower("work_email"), name="learner_work_email_unique_any_case",
                violation_error_message="Another learner already has this work email (in any mix of capitals).",
            ),
            # A ULN identifies one learner; the temporary ULN 9999999999 may repeat.
            models.UniqueConstraint(
                fields=["uln"],
                condition=~models.Q(uln="") & ~models.Q(uln="9999999999"),
                name="learner_uln_unique_when_known",
            ),
            models.CheckConstraint(
                condition=models.Q(uln="") | models.Q(uln__regex=r"^[1-9][0-9]{9}$"),
                name="learner_uln_ten_digits",
                violation_error_message="A ULN is 10 digits and cannot start with 0.",
            ),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("learners:detail", args=[self.pk])

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()
