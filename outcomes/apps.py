from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes and metrics"

    def ready(self):
        # In ready, once the models are loaded: the signals queue the metrics job when data
        # changes; tasks registers the job that academy.changes.queue_recompute queues by name.
        from . import signals, tasks  # noqa: F401
        from .generation import connect_receivers

        connect_receivers()  # cached dashboard pages follow changes the metrics job does not see
