"""Admin for national benchmarks, impact records and (read-only) metric snapshots."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from academy.admin import RecordsChangesAdmin

from .models import CohortMetrics, ImpactRecord, NationalBenchmark


@admin.register(NationalBenchmark)
class NationalBenchmarkAdmin(RecordsChangesAdmin, SimpleHistoryAdmin):
    recomputes_metrics = True
    list_display = ("measure", "scope", "standard", "level", "academic_year", "rate", "source")
    list_filter = ("measure", "scope", "academic_year")
    search_fields = ("source", "population")


@admin.register(CohortMetrics)
class CohortMetricsAdmin(admin.ModelAdmin):
    list_display = ("key", "cohort", "enrolled", "epa_completed", "distinction", "merit", "computed_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImpactRecord)
class ImpactRecordAdmin(RecordsChangesAdmin, SimpleHistoryAdmin):
    list_display = ("title", "kind", "value", "team", "date")
    list_filter = ("kind",)
    filter_horizontal = ("learners",)
