"""Admin for coaching sessions, progress reviews and other off-the-job training."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from academy.admin import RecordsChangesAdmin

from .models import CoachingSession, OffTheJobActivity, ProgressReview


@admin.register(CoachingSession)
class CoachingSessionAdmin(RecordsChangesAdmin, SimpleHistoryAdmin):
    recomputes_metrics = True
    list_display = ("enrolment", "coach", "date", "duration_minutes", "attendance", "otj_hours")
    list_filter = ("attendance", "mode", "coach")
    list_select_related = ("enrolment__learner", "enrolment__cohort", "coach")
    raw_id_fields = ("enrolment",)
    date_hierarchy = "date"


@admin.register(ProgressReview)
class ProgressReviewAdmin(RecordsChangesAdmin, SimpleHistoryAdmin):
    list_display = ("enrolment", "date", "rag")
    list_filter = ("rag",)
    raw_id_fields = ("enrolment",)


@admin.register(OffTheJobActivity)
class OffTheJobActivityAdmin(RecordsChangesAdmin, SimpleHistoryAdmin):
    list_display = ("enrolment", "date", "category", "hours")
    list_filter = ("category",)
    raw_id_fields = ("enrolment",)
