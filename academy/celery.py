"""The Celery application, configured from Django settings (namespace ``CELERY_``).

With no ``CELERY_BROKER_URL`` set, settings turn on ``task_always_eager`` so tasks run
in-process: the same code path runs in the embedded default and on a real worker.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")

app = Celery("academy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
