"""Deployment checks: SQLite with a separate Celery worker is warned about."""
from django.core import checks

from academy.checks import sqlite_with_a_worker, sqlite_worker_warnings

SQLITE, POSTGRESQL = "django.db.backends.sqlite3", "django.db.backends.postgresql"
BROKER = "redis://127.0.0.1:6379/0"


def test_sqlite_with_a_broker_is_warned_about():
    (warning,) = sqlite_worker_warnings(SQLITE, BROKER)
    assert warning.id == "academy.W001" and "database is locked" in warning.msg


def test_sqlite_in_process_or_postgresql_with_a_worker_is_not():
    assert sqlite_worker_warnings(SQLITE, "") == []
    assert sqlite_worker_warnings(POSTGRESQL, BROKER) == []


def test_the_check_is_registered_with_django():
    assert sqlite_with_a_worker in checks.registry.registry.get_checks()
