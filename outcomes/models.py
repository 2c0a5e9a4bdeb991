"""National benchmarks, the cohort metric snapshots and business impact records."""
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from academy.dates import parse_academic_year


class NationalBenchmark(models.Model):
    """A published national figure for one measure: for a standard, a level or all.

    ``rate`` is a fraction 0–1 (54.3% is stored as 0.5430); ``None`` means the
    publisher suppressed it (``low``/``x`` in DfE tables), never 0. ``academic_year``
    is a label like "2022/23"; Ofqual periods (March to February) are stored under the
    academic year they mostly cover, with the exact period in ``period``.
    """

    class Measure(models.TextChoices):
        ACHIEVEMENT_RATE = "achievement_rate", "Achievement rate"
        FIRST_ATTEMPT_PASS_RATE = "first_attempt_pass_rate", "First-attempt EPA pass rate"
        DISTINCTION_MERIT_SHARE = "distinction_merit_share", "Distinction and merit share"
        RETENTION_RATE = "retention_rate", "Retention rate"
        PASS_RATE = "pass_rate", "Pass rate"

    class Scope(models.TextChoices):
        STANDARD = "standard", "Standard"
        LEVEL = "level", "Level"
        ALL = "all", "All standards"

    measure = models.CharField(max_length=32, choices=Measure.choices)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ALL)
    standard = models.ForeignKey(
        "cohorts.Standard", on_delete=models.CASCADE, null=True, blank=True, related_name="benchmarks"
    )
    level = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(2), MaxValueValidator(7)]
    )
    academic_year = models.CharField(max_length=7, help_text="For example 2023/24.")
    period = models.CharField(max_length=60, blank=True, help_text="The exact period where it is not an academic year.")
    rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="A fraction from 0 to 1; empty where the publisher suppressed it.",
    )
    numerator = models.PositiveIntegerField(null=True, blank=True)
    denominator = models.PositiveIntegerField(null=True, blank=True)
    population = models.CharField(
        max_length=150, blank=True, help_text='What the figure covers as published, e.g. "Standards - all".'
    )
    source = models.CharField(max_length=255)
    source_url = models.URLField(max_length=500, blank=True)
    note = models.TextField(blank=True)
    scope_key = models.CharField(max_length=20, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["measure", "scope", "-academic_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "scope_key", "academic_year"], name="one_benchmark_per_measure_scope_year"
            ),
            models.CheckConstraint(
                condition=models.Q(rate__isnull=True) | models.Q(rate__gte=0, rate__lte=1), name="benchmark_rate_0_1"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(scope="standard", standard__isnull=False, level__isnull=True)
                    | models.Q(scope="level", standard__isnull=True, level__isnull=False)
                    | models.Q(scope="all", standard__isnull=True, level__isnull=True)
                ),
                name="benchmark_scope_matches_fields",
                violation_error_message="A standard benchmark names a standard, a level benchmark a level, "
                "and an all-standards benchmark neither.",
            ),
        ]

    def __str__(self):
        return f"{self.get_measure_display()} ({self.scope_label}, {self.academic_year})"

    def save(self, *args, **kwargs):
        self.scope_key = self.make_scope_key(self.scope, self.standard_id, self.level)
        super().save(*args, **kwargs)

    def clean(self):
        try:
            parse_academic_year(self.academic_year or "")
        except ValueError as exc:
            raise ValidationError({"academic_year": str(exc)}) from None
        if self.scope == self.Scope.STANDARD and not self.standard_id:
            raise ValidationError({"standard": "Choose the standard this benchmark is for."})
        if self.scope == self.Scope.LEVEL and not self.level:
            raise ValidationError({"level": "Enter the level this benchmark is for."})
        if self.scope != self.Scope.STANDARD:
            self.standard = None
        if self.scope != self.Scope.LEVEL:
            self.level = None

    @staticmethod
    def make_scope_key(scope, standard_id, level):
        """Return the key that makes (measure, scope, year) unique: "all", "level:4" or "standard:12"."""
        if scope == "standard":
            return f"standard:{standard_id}"
        if scope == "level":
            return f"level:{level}"
        return "all"

    @property
    def scope_label(self):
        if self.scope == self.Scope.STANDARD:
            return str(self.standard)
        if self.scope == self.Scope.LEVEL:
            return f"level {self.level}"
        return "all standards"


ALL_KEY = "all"  # the key of the all-cohorts snapshot


class CohortMetrics(models.Model):
    """The snapshot the metrics job writes for one cohort (or, with ``cohort`` empty, all cohorts).

    Counts are integers; hours are decimals in hours. ``rates`` holds, for each
    measure (``achievement_rate``, ``first_attempt_pass_rate``,
    ``distinction_merit_share``), a dict with ``numerator``, ``denominator``, ``rate``,
    ``ci_low``, ``ci_high`` (95% Wilson), and where a benchmark of the same measure is
    loaded, ``benchmark`` (id, rate, academic_year, source, source_url, scope),
    ``difference`` and ``p_value`` (exact binomial test) and ``significant``.
    Written only by ``outcomes.metrics.recompute_metrics``; pages read it.
    """

    cohort = models.OneToOneField(
        "cohorts.Cohort", on_delete=models.CASCADE, null=True, blank=True, related_name="metrics"
    )
    key = models.CharField(max_length=20, unique=True, help_text='"all" or "cohort:<id>".')
    enrolled = models.PositiveIntegerField(default=0)
    active = models.PositiveIntegerField(default=0)
    on_break = models.PositiveIntegerField(default=0)
    at_gateway_or_epa = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    leavers = models.PositiveIntegerField(default=0)
    achievers = models.PositiveIntegerField(default=0)
    epa_completed = models.PositiveIntegerField(default=0, help_text="Completed first-attempt EPAs.")
    distinction = models.PositiveIntegerField(default=0)
    merit = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    coaching_sessions = models.PositiveIntegerField(default=0, help_text="Attended sessions.")
    coaching_hours = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    otj_hours_logged = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    otj_hours_planned = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    rates = models.JSONField(default=dict)
    fingerprint = models.CharField(
        max_length=32, blank=True, default="",
        help_text="Digest of the figures (outcomes.metrics.fingerprint): unchanged snapshots are not rewritten.",
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "cohort metrics"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(key="all", cohort__isnull=True) | models.Q(cohort__isnull=False),
                name="metrics_all_row_has_no_cohort",
            ),
        ]

    def __str__(self):
        return f"Metrics for {self.cohort or 'all cohorts'}"


class ImpactRecord(models.Model):
    """A business outcome credited to the academy, entered by a lead.

    ``kind`` fixes the unit of ``value``: money recovered or saved in £ (whole pounds or
    pence), hours saved per year, or time reduced in % (0–100). ``evidence`` says how it
    was measured; ``link`` points at the evidence where there is one.
    """

    class Kind(models.TextChoices):
        MONEY = "money", "Money recovered or saved (£)"
        HOURS_PER_YEAR = "hours_per_year", "Hours saved per year"
        TIME_REDUCED = "time_reduced", "Time reduced (%)"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    team = models.ForeignKey("academy.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="impacts")
    learners = models.ManyToManyField("learners.Learner", blank=True, related_name="impacts")
    evidence = models.TextField()
    link = models.URLField(max_length=500, blank=True)
    date = models.DateField()
    recorded_by = models.ForeignKey(
        "academy.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gte=0), name="impact_value_not_negative"),
            models.CheckConstraint(
                condition=~models.Q(kind="time_reduced") | models.Q(value__lte=100), name="impact_percent_at_most_100"
            ),
        ]

    def __str__(self):
        return self.title


class MetricsRun(models.Model):
    """One recompute asked for from the dashboard: queued, started, finished (or failed), as a status row.

    Written by ``outcomes.runs`` (created when a lead asks; started and finished by the
    Celery task ``outcomes.tasks.recompute_metrics``, outside the job's own transaction so
    that every web process sees the progress at once). ``cohorts`` is the number of
    snapshot rows the run wrote; ``error`` the failure's text.
    """

    requested_by = models.ForeignKey(
        "academy.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cohorts = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-queued_at"]

    def __str__(self) -> str:
        return f"Metrics run {self.pk} queued {self.queued_at:%d/%m/%Y %H:%M}"
