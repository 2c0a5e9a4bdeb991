"""Coaching permissions (django-rules, autodiscovered): who may change a coaching record and read its notes.

The role predicates come from ``academy.rules``; the perm names are unchanged since the
coaching models left ``learners``.
"""
import rules

from academy.rules import is_lead

from .services import can_change_record


@rules.predicate
def may_change_record(user, record):
    """Who logged it (a session's coach), for 14 days after logging it, then only a lead.

    ``record`` is a coaching session, progress review or off-the-job activity
    (``coaching.services.can_change_record``).
    """
    return record is not None and can_change_record(user, record)


rules.add_perm("learners.edit_session", is_lead | may_change_record)
rules.add_perm("learners.edit_review", is_lead | may_change_record)
rules.add_perm("learners.edit_activity", is_lead | may_change_record)


@rules.predicate
def may_read_session_notes(user, session):
    """The session's coach, the coach of its enrolment, or the learner themself (leads via ``is_lead``).

    ``session`` is a ``CoachingSession``; select_related("enrolment__learner") keeps this query-free.
    """
    if session is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.pk in (session.coach_id, session.enrolment.coach_id):
        return bool(getattr(user, "is_coach", False))
    return session.enrolment.learner.user_id == user.pk


# Coaching notes: only the learner's coach, leads and the learner (template filter
# ``learner_privacy.session_notes``; subject access is for leads only).
rules.add_perm("learners.view_session_notes", is_lead | may_read_session_notes)


@rules.predicate
def may_read_review_notes(user, review):
    """The coach of the review's enrolment (leads via ``is_lead``); ``review`` is a ``ProgressReview``."""
    if review is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(getattr(user, "is_coach", False)) and review.enrolment.coach_id == user.pk


# Progress-review notes: only the learner's coach and leads (template filter
# ``learner_privacy.review_notes``), as for coaching notes.
rules.add_perm("learners.view_review_notes", is_lead | may_read_review_notes)
