"""System checks of the deployment: combinations that work on a laptop and fail under load.

Run by Django before ``runserver`` and ``migrate`` and by ``manage.py check --deploy``.
"""
from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.database)
def sqlite_with_a_worker(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Warn (``academy.W001``) when a Celery broker is set but the database is SQLite.

    SQLite takes one writer at a time: a web process and a separate worker writing
    together give "database is locked" errors and failed recomputes (seen: 165 retries and
    10 failed recomputes in one run). With SQLite leave ``CELERY_BROKER_URL`` unset, so
    tasks run in-process; with a worker, use PostgreSQL (``DATABASE_URL``).
    """
    return sqlite_worker_warnings(settings.DATABASES["default"]["ENGINE"], getattr(settings, "CELERY_BROKER_URL", ""))


def sqlite_worker_warnings(engine: str, broker: str) -> list[checks.CheckMessage]:
    """Return the ``academy.W001`` warning for a database ``engine`` and a broker URL, or none."""
    if engine == "django.db.backends.sqlite3" and broker:
        return [
            checks.Warning(
                "CELERY_BROKER_URL is set but the database is SQLite: a separate Celery worker and the web "
                "process will fail with \"database is locked\" when they write at the same time.",
                hint="Use PostgreSQL (set DATABASE_URL) with a worker, or unset CELERY_BROKER_URL so tasks run "
                "in-process with SQLite.",
                id="academy.W001",
            )
        ]
    return []
