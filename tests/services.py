"""Detect the outside services some tests need: PostgreSQL and Redis.

A test that needs a service it cannot reach is skipped with a reason that says how to
run it. Under CI (environment variable ``CI`` set to anything but ``""``/``0``/``false``)
a missing service is a failure instead, so a broken CI machine never passes by skipping.

One exception keeps ``make test`` honest under CI: when ``DATABASE_URL`` is not set the
suite runs on the embedded SQLite default on purpose (the first pass of ``.ci/run``), so
PostgreSQL-only tests skip there even under CI. They fail under CI only when
``DATABASE_URL`` is set and is not a reachable PostgreSQL.
"""
from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

SOCKET_TIMEOUT_S = 2.0


def under_ci() -> bool:
    """Return True when the ``CI`` environment variable is set to a true-ish value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> None:
    """Skip the current test with ``reason``; under CI fail it instead (never returns)."""
    if under_ci():
        pytest.fail(f"{reason} (CI is set, so a missing service fails the test instead of skipping it)", pytrace=False)
    pytest.skip(reason)


def tcp_reachable(host: str, port: int, timeout: float = SOCKET_TIMEOUT_S) -> bool:
    """Return True when a TCP connection to ``host:port`` opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def database_url() -> str:
    """Return ``DATABASE_URL`` from the environment ("" when unset: the SQLite default)."""
    return os.environ.get("DATABASE_URL", "").strip()


def broker_url() -> str:
    """Return ``CELERY_BROKER_URL`` from the environment ("" when unset: tasks run eagerly)."""
    return os.environ.get("CELERY_BROKER_URL", "").strip()


def require_postgres() -> None:
    """Skip (or, under CI with ``DATABASE_URL`` set, fail) unless the default database is a reachable PostgreSQL.

    Reads Django's ``DATABASES["default"]``; needs no database access itself.
    """
    from django.conf import settings

    if not database_url():
        pytest.skip(
            "needs PostgreSQL: DATABASE_URL is not set, so this run uses the embedded SQLite default "
            "(set DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy, or run .ci/run)"
        )
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail(f"needs PostgreSQL: DATABASE_URL is set but the database engine is {db['ENGINE']}")
    host = db.get("HOST") or "127.0.0.1"
    port = int(db.get("PORT") or 5432)
    if host.startswith("/"):
        return  # a Unix socket directory: pytest-django's database setup reports it if it is down
    if not tcp_reachable(host, port):
        skip_or_fail(f"needs PostgreSQL: nothing answers at {host}:{port} (DATABASE_URL)")


def require_redis() -> str:
    """Return the Redis broker URL after checking it answers PING; skip (or fail under CI) otherwise.

    The URL comes from ``CELERY_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/15``); with it
    unset, settings run Celery tasks eagerly and there is no broker to test against.
    """
    url = broker_url()
    if not url:
        skip_or_fail("needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/15 (a Redis database for tests only)")
    if urlsplit(url).scheme not in ("redis", "rediss"):
        skip_or_fail(f"needs Redis: CELERY_BROKER_URL is not a redis:// URL ({urlsplit(url).scheme}://...)")
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=SOCKET_TIMEOUT_S, socket_timeout=SOCKET_TIMEOUT_S)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        skip_or_fail(f"needs Redis: no answer to PING at CELERY_BROKER_URL ({exc})")
    return url
