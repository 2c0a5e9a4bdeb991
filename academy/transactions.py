"""Work gathered during a database transaction and done once when it commits."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import transaction

T = TypeVar("T")


def once_per_transaction(name: str, factory: Callable[[], T]) -> T | None:
    """Return the object ``factory()`` made for the current transaction under ``name``; ``None`` outside one.

    The first call in a transaction makes the object and registers its ``flush()`` to run
    once when the transaction commits (``transaction.on_commit(robust=True)``: a failure
    is logged, not raised into the committed request). Later calls in the same
    transaction return the same object, so callers gather work on it (ids to recompute,
    a flag) and it is done once. An object whose callback is no longer pending (its
    transaction or savepoint rolled back, or it already ran) is replaced by a new one.
    Used by ``academy.changes`` (the metrics job and the dashboard generation).
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    attribute = f"academy_once_{name}"
    entry = getattr(connection, attribute, None)  # (object, its registered callback)
    if entry is not None and any(func is entry[1] for _sids, func, _robust in connection.run_on_commit):
        return entry[0]
    made = factory()

    def run() -> None:
        if getattr(connection, attribute, None) is entry_now:
            setattr(connection, attribute, None)
        made.flush()

    entry_now = (made, run)
    setattr(connection, attribute, entry_now)
    transaction.on_commit(run, robust=True)
    return made
