"""Admin for standards, cohorts, enrolments and EPA results (model validation runs on every save)."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from academy.admin import RecordsChangesAdmin

from .models import AssessmentResult, Cohort, Enrolment, EnrolmentStatusChange, Standard


@admin.register(Standard)
class StandardAdmin(RecordsChangesAdmin, admin.ModelAdmin):
    list_display = ("reference", "title", "level", "typical_duration_months", "max_funding_gbp", "lars_code")
    list_filter = ("level", "route")
    search_fields = ("reference", "title")


@admin.register(Cohort)
class CohortAdmin(RecordsChangesAdmin, SimpleHistoryAdmin):
    recomputes_metrics = True
    list_display = ("name", "standard", "provider", "start_date")
    list_filter = ("standard",)
    search_fields = ("name", "provider")
    list_select_related = ("standard",)
    date_hierarchy = "start_date"


class StatusChangeInline(admin.TabularInline):
    model = EnrolmentStatusChange
    extra = 0
    fields = ("from_status", "to_status", "effective_date", "reason", "changed_by", "changed_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Enrolment)
class EnrolmentAdmin(RecordsChangesAdmin, SimpleHistoryAdmin):
    recomputes_metrics = True
    list_display = ("learner", "cohort", "coach", "status", "start_date", "planned_end_date")
    list_filter = ("status", "cohort", "coach")
    search_fields = ("learner__first_name", "learner__last_name", "learner__employee_number", "learner__uln")
    list_select_related = ("learner", "cohort", "coach")
    autocomplete_fields = ("learner",)
    inlines = [StatusChangeInline]


@admin.register(AssessmentResult)
class AssessmentResultAdmin(RecordsChangesAdmin, SimpleHistoryAdmin):
    recomputes_metrics = True
    list_display = ("enrolment", "grade", "attempt", "date")
    list_filter = ("grade", "attempt")
    list_select_related = ("enrolment__learner", "enrolment__cohort")
    raw_id_fields = ("enrolment",)
