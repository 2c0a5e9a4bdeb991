"""Admin for users and teams. Leads use it to create users (there is no self sign-up)."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .changes import queue_recompute, records_changed
from .models import AuditEvent, Team, User


class RecordsChangesAdmin:
    """Admin mixin: a save or delete in the admin says what changed (``academy.changes``), as the services do.

    ``recomputes_metrics``: the model counts in the metrics, so every cohort is recomputed
    after the commit (admin edits are rare; a service knows the one cohort).
    """

    recomputes_metrics = False

    def _records_changed(self) -> None:
        records_changed()
        if self.recomputes_metrics:
            queue_recompute()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._records_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._records_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        self._records_changed()


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_active")


@admin.register(User)
class UserAdmin(RecordsChangesAdmin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    superuser_fieldsets = fieldsets + (("Administrator", {"fields": ("is_superuser",)}),)
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "role", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")

    def get_fieldsets(self, request, obj=None):
        if obj is not None and request.user.is_superuser:
            return self.superuser_fieldsets
        return super().get_fieldsets(request, obj)


@admin.register(Team)
class TeamAdmin(RecordsChangesAdmin, admin.ModelAdmin):
    list_display = ("name", "directorate")
    search_fields = ("name", "directorate")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("at", "user", "action", "object_type", "object_id", "ip_address")
    list_filter = ("action",)
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
