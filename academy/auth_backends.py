"""Authentication backends: Django's model permissions only where they are used (the admin).

Academy's permissions are rules over the user's role (``academy/rules.py``, one layer for
views, templates, the admin and querysets). Django's ``ModelBackend`` would still read
the user's and groups' model permissions from the database (two queries) on every page
that asks about a permission the role does not have, e.g. the navigation asking a head
of data about importing. Those model permissions only matter to staff using the Django
admin, so this backend reads them for staff only.
"""
from django.contrib.auth.backends import ModelBackend


class StaffModelBackend(ModelBackend):
    """``ModelBackend`` (sign-in by email and password, ``is_active`` checks) whose model permissions apply to staff only.

    For a user who is not staff, the user's and group permissions are the empty set
    without a query; ``ModelBackend`` caches that on the user (``_perm_cache``), so
    allauth's backend, listed after this one, does not query either. Superusers are
    answered by ``User.has_perm`` before any backend.
    """

    def _get_permissions(self, user_obj, obj, from_name):
        if not getattr(user_obj, "is_staff", False):
            return set()
        return super()._get_permissions(user_obj, obj, from_name)
