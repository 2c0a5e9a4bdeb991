"""Optimistic locking for edits made through forms: a stale edit is refused, never merged.

Models that people edit carry a ``version`` integer. A form renders the version it was
read at (a hidden field); ``save_if_current`` locks the row, compares, saves and raises
the version. Saving through ``save()`` keeps signals and django-simple-history working.
"""
from django.db import transaction


class StaleEdit(Exception):
    """Raised when the row changed since the form was read (someone else saved first).

    ``current`` is the row as it is now, so the page can show what changed.
    """

    def __init__(self, current):
        super().__init__(f"{current._meta.verbose_name} was changed by someone else")
        self.current = current


def save_if_current(instance, *, expected_version: int, update_fields=None):
    """Save ``instance`` only if its row still has ``expected_version``; return the saved instance.

    Takes ``SELECT … FOR UPDATE`` on the row inside a transaction (a no-op lock on
    SQLite, whose writes are serialised anyway), so two concurrent saves of the same
    version cannot both pass. Raises ``StaleEdit`` when the version moved on.
    """
    model = type(instance)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=instance.pk)
        if current.version != expected_version:
            raise StaleEdit(current)
        instance.version = expected_version + 1
        if update_fields is not None:
            update_fields = {*update_fields, "version"}
        instance.save(update_fields=update_fields)
    return instance
