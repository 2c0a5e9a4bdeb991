"""API tokens: issue (replacing any old one) and revoke a user's own token, in one transaction each."""
from __future__ import annotations

from django.db import transaction
from rest_framework.authtoken.models import Token


def issue_token(*, user) -> str:
    """Replace ``user``'s API token with a new one and return its key (shown once; stored as DRF keeps it)."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user).key


def revoke_token(*, user) -> bool:
    """Delete ``user``'s API token; return whether there was one. Tools using it get 401 from then on."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
