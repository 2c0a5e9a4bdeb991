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
