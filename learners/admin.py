"""Admin for learners."""
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from academy.admin import RecordsChangesAdmin

from .models import Learner


@admin.register(Learner)
class LearnerAdmin(RecordsChangesAdmin, SimpleHistoryAdmin):
    list_display = ("last_name", "first_name", "employee_number", "uln", "team", "work_email")
    list_filter = ("team",)
    search_fields = ("first_name", "last_name", "employee_number", "uln", "work_email")
    list_select_related = ("team",)
