from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = "Cohorts and enrolments"

    def ready(self):
        # Registers the import tasks, which cohorts.imports.runs queues by name (academy.changes.queue_task).
        from . import tasks  # noqa: F401
