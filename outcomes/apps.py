from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and metrics"

    def ready(self):
        from . import (
            signals,  # noqa: F401  (queues the metrics job when data changes)
            tasks,  # noqa: F401  (registers the task academy.changes.queue_recompute queues by name)
        )
        from .generation import connect_receivers  # (in ready: the models must be loaded)

        connect_receivers()  # cached dashboard pages follow changes the metrics job does not see
