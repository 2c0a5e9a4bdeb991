"""Queue the metrics job when results, enrolments or coaching sessions change.

Saving or deleting an ``AssessmentResult``, ``Enrolment``, ``CoachingSession`` or ``Cohort``
marks its cohort as changed (a cohort's standard decides its benchmark). Within one
transaction the changed cohorts are collected on the database connection and a single
on-commit callback queues ``recompute_metrics`` once per distinct cohort, so saving 500
sessions in one transaction queues one task per cohort, not 500.
Outside a transaction (autocommit) each change queues at once. A rolled-back transaction
queues nothing.

Bulk loaders (the demo seeder, imports) wrap their work in ``academy.changes.metrics_paused()``
and queue or run the job once at the end. ``QuerySet.update`` and ``bulk_create`` send no
signals: callers that use them queue the job themselves (``academy.changes.queue_recompute``).
"""
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from academy.changes import is_paused, queue_recompute
from academy.transactions import once_per_transaction
from coaching.models import CoachingSession
from cohorts.models import AssessmentResult, Cohort, Enrolment


class _PendingRecompute:
    """The cohorts changed in the current transaction of one connection, queued once on commit.

    Results and sessions whose enrolment is not loaded are kept as enrolment ids and
    resolved to cohorts in one query at commit, instead of one query per saved row.
    """

    def __init__(self):
        self.cohort_ids: set[int] = set()
        self.enrolment_ids: set[int] = set()

    def flush(self) -> None:
        cohort_ids = set(self.cohort_ids)
        if self.enrolment_ids:
            cohort_ids.update(
                Enrolment.objects.filter(pk__in=self.enrolment_ids).values_list("cohort_id", flat=True)
            )
        for cohort_id in sorted(cohort_ids):
            queue_recompute(cohort_id)  # runs at once: the transaction has committed


def _pending() -> _PendingRecompute | None:
    """Return the pending set of the current transaction, queued once on commit; ``None`` outside a transaction."""
    return once_per_transaction("metrics_pending", _PendingRecompute)


def mark_changed(*, cohort_id: int | None = None, enrolment_id: int | None = None) -> None:
    """Record that data of a cohort (given directly or through an enrolment) changed; queue on commit."""
    if is_paused() or (cohort_id is None and enrolment_id is None):
        return
    pending = _pending()
    if pending is None:  # autocommit: the change is already committed
        if cohort_id is None:
            cohort_id = Enrolment.objects.filter(pk=enrolment_id).values_list("cohort_id", flat=True).first()
        if cohort_id is not None:
            queue_recompute(cohort_id)
        return
    if cohort_id is not None:
        pending.cohort_ids.add(cohort_id)
    else:
        pending.enrolment_ids.add(enrolment_id)


def _mark_through_enrolment(instance) -> None:
    field = type(instance)._meta.get_field("enrolment")
    if field.is_cached(instance):
        mark_changed(cohort_id=instance.enrolment.cohort_id)
    else:
        mark_changed(enrolment_id=instance.enrolment_id)


@receiver(post_init, sender=Enrolment, dispatch_uid="outcomes_metrics_enrolment_init")
def remember_enrolment_cohort(sender, instance, **kwargs):
    """Remember the cohort an enrolment was loaded with, so moving it recomputes both cohorts."""
    # Read __dict__ so a deferred cohort_id is not fetched with a query.
    instance._metrics_loaded_cohort_id = instance.__dict__.get("cohort_id")


@receiver(post_save, sender=Enrolment, dispatch_uid="outcomes_metrics_enrolment_saved")
@receiver(post_delete, sender=Enrolment, dispatch_uid="outcomes_metrics_enrolment_deleted")
def enrolment_changed(sender, instance, **kwargs):
    mark_changed(cohort_id=instance.cohort_id)
    loaded = getattr(instance, "_metrics_loaded_cohort_id", None)
    if loaded is not None and loaded != instance.cohort_id:
        mark_changed(cohort_id=loaded)
    instance._metrics_loaded_cohort_id = instance.cohort_id


@receiver(post_save, sender=Cohort, dispatch_uid="outcomes_metrics_cohort_saved")
@receiver(post_delete, sender=Cohort, dispatch_uid="outcomes_metrics_cohort_deleted")
def cohort_changed(sender, instance, **kwargs):
    """A new cohort gets its (empty) snapshot; a changed or deleted one updates the all-cohorts row."""
    mark_changed(cohort_id=instance.pk)


@receiver(post_save, sender=AssessmentResult, dispatch_uid="outcomes_metrics_result_saved")
@receiver(post_delete, sender=AssessmentResult, dispatch_uid="outcomes_metrics_result_deleted")
@receiver(post_save, sender=CoachingSession, dispatch_uid="outcomes_metrics_session_saved")
@receiver(post_delete, sender=CoachingSession, dispatch_uid="outcomes_metrics_session_deleted")
def result_or_session_changed(sender, instance, **kwargs):
    _mark_through_enrolment(instance)
