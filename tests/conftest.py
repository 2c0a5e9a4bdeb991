"""Shared fixtures: the cast of personas every view test uses.

- ``lead``: Alice, apprenticeship lead (sees and manages everything)
- ``coach``: Bob, a coach; ``other_coach``: Carol, another coach
- ``head``: Dave, head of data (dashboards only)
"""
import pytest

from tests import factories


@pytest.fixture
def lead(db):
    return factories.LeadFactory(email="alice@example.org", full_name="Alice Lead")


@pytest.fixture
def coach(db):
    return factories.CoachFactory(email="bob@example.org", full_name="Bob Coach")


@pytest.fixture
def other_coach(db):
    return factories.CoachFactory(email="carol@example.org", full_name="Carol Coach")


@pytest.fixture
def head(db):
    return factories.HeadOfDataFactory(email="dave@example.org", full_name="Dave Head")


@pytest.fixture
def client_for(client):
    """Return a function that signs ``user`` in on the test client (or signs out for ``None``)."""

    def sign_in(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in


# --- Outside services (PostgreSQL, Redis) and Celery mode ---------------------------
# Helpers live in tests/services.py: a test needing a service it cannot reach skips with
# a reason, or fails when the environment variable CI is set (see that module).


@pytest.fixture
def postgres_required():
    """Skip unless the default database is PostgreSQL (fail under CI when DATABASE_URL is set but unusable)."""
    from tests.services import require_postgres

    require_postgres()


@pytest.fixture
def redis_required():
    """Return the Redis broker URL (``CELERY_BROKER_URL``); skip without it, or fail under CI."""
    from tests.services import require_redis

    return require_redis()


@pytest.fixture(autouse=True)
def _services_for_markers(request):
    """Apply the service checks to tests marked ``postgres`` or ``celery_worker``."""
    from tests.services import require_postgres, require_redis

    if request.node.get_closest_marker("postgres") or request.node.get_closest_marker("celery_worker"):
        require_postgres()
    if request.node.get_closest_marker("celery_worker"):
        require_redis()


@pytest.fixture(autouse=True)
def _celery_eager_unless_worker(request):
    """Run Celery tasks in-process in every test except those marked ``celery_worker``.

    ``.ci/run`` sets ``CELERY_BROKER_URL`` for its PostgreSQL pass so the worker test has
    a broker; without this, every other test's ``delay()`` would queue to Redis where no
    worker listens. The same tests thus behave the same in both passes.
    """
    from academy.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache: cached dashboard pages, rate limits and run states never leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
