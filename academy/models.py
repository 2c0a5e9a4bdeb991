"""What every app shares: the user (signing in by email, with a role) and teams."""
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords


class UserManager(BaseUserManager):
    """Creates users keyed by email (there is no username)."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        """Create an ordinary user; ``role`` defaults to coach."""
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        """Create an administrator (full access to the Django admin)."""
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("role", User.Role.LEAD)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: an apprenticeship lead, a coach, a head of data, an apprentice or a line manager.

    The role decides what they may do; the rules live in ``academy/rules.py``.
    There is no self sign-up: leads and administrators create users.
    """

    class Role(models.TextChoices):
        LEAD = "lead", "Apprenticeship lead"
        COACH = "coach", "Coach"
        HEAD_OF_DATA = "head_of_data", "Head of data"
        # The apprentice (linked to their ``learners.Learner`` by ``Learner.user``) and the
        # employer's line manager of one or more learners (``Learner.line_manager``): both
        # come by invitation (``portal.invitations``) and see only their own records.
        LEARNER = "learner", "Apprentice"
        LINE_MANAGER = "line_manager", "Line manager"

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COACH)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May use the admin site. Set automatically for apprenticeship leads."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["lead", "coach", "head_of_data", "learner", "line_manager"]),
                name="user_role_valid",
            ),
            # E-mails are stored lower-cased (save()); the database refuses a second account
            # differing only in capitals, whatever path wrote it.
            models.UniqueConstraint(
                Lower("email"), name="user_email_unique_any_case",
                violation_error_message="Another user already has this email address (in any mix of capitals).",
            ),
        ]

    def __str__(self):
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        # Leads manage the academy, including in the admin; others never use the admin.
        self.is_staff = self.is_superuser or self.role == self.Role.LEAD
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "email", "is_staff"}
        super().save(*args, **kwargs)

    def get_full_name(self):
        return str(self)

    def get_short_name(self):
        return (self.full_name.split() or [self.email])[0]

    @property
    def is_lead(self):
        return self.is_active and (self.role == self.Role.LEAD or self.is_superuser)

    @property
    def is_coach(self):
        return self.is_active and self.role == self.Role.COACH

    @property
    def is_head_of_data(self):
        return self.is_active and self.role == self.Role.HEAD_OF_DATA

    @property
    def is_learner(self):
        return self.is_active and self.role == self.Role.LEARNER

    @property
    def is_line_manager(self):
        return self.is_active and self.role == self.Role.LINE_MANAGER


class Team(models.Model):
    """A team of the employer that staff (learners) belong to, e.g. "Revenues and Benefits"."""

    name = models.CharField(max_length=150, unique=True)
    directorate = models.CharField(max_length=150, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised on every edit; a stale edit is refused.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AuditEvent(models.Model):
    """One audited event: a sign-in, an export, a read of a learner's personal page, an erasure.

    Append-only: written by ``academy.audit.record`` and never edited. ``detail`` holds
    small JSON facts (counts, filters, the file name); never personal data beyond ids.
    """

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGN_OUT = "sign_out", "Signed out"
        EXPORT = "export", "Exported data"
        VIEW_LEARNER = "view_learner", "Viewed a learner's personal page"
        SUBJECT_ACCESS = "subject_access", "Subject access export"
        ERASURE = "erasure", "Anonymised a learner"
        RETENTION = "retention", "Retention run"
        IMPORT = "import", "Imported data"
        INVITATION = "invitation", "Invited someone to sign in"
        SIGNATURE = "signature", "Signed a training plan or progress review"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey("academy.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["action", "at"]), models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.get_action_display()} by {self.user or 'anonymous'} at {self.at:%d/%m/%Y %H:%M}"


class DashboardGeneration(models.Model):
    """A counter that changes whenever what the dashboard shows may have changed (one row, id 1).

    The metrics job (``outcomes.metrics.recompute_metrics``) adds one in the transaction
    that writes the snapshots; the services that save or delete anything else a dashboard
    page reads add one after the commit (``academy.changes.records_changed``). The cached
    dashboard pages are keyed on ``number``, so a page is never served from a generation
    older than the data it shows. The row is created by migration ``outcomes.0004`` (its
    table keeps that app's name) and again on first use if it is missing.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    number = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "outcomes_dashboardgeneration"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_dashboard_generation")]

    def __str__(self) -> str:
        return f"Dashboard generation {self.number}"
