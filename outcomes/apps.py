from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and metrics"

    def ready(self):
        # Registers the metrics job, which academy.changes.queue_recompute queues by its name.
        from . import tasks  # noqa: F401
