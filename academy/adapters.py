"""django-allauth hooks: no self sign-up (leads and administrators create users)."""
from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Sign-in by email only; sign-up is closed."""

    def is_open_for_signup(self, request):
        return False
