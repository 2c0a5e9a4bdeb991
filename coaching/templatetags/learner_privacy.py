"""Template filters for privacy: coaching notes only for those allowed to read them.

Usage (any template that shows a coaching session)::

    {% load learner_privacy %}
    {{ session|session_notes:user|linebreaksbr }}
    {% if session|may_read_notes:user %}...{% endif %}

The rule is ``learners.view_session_notes`` in ``coaching/rules.py``: the learner's
coach, apprenticeship leads and the learner themself. Load sessions with
``select_related("enrolment__learner")`` so the check needs no query. Progress-review
notes: ``{{ review|review_notes:user }}`` (``learners.view_review_notes``: the learner's
coach and leads).
"""
from django import template

register = template.Library()


@register.filter
def may_read_notes(session, user) -> bool:
    """Return True if ``user`` may read ``session``'s notes."""
    return bool(user is not None and user.has_perm("learners.view_session_notes", session))


@register.filter
def session_notes(session, user) -> str:
    """Return ``session.notes`` if ``user`` may read them, else an empty string."""
    return session.notes if may_read_notes(session, user) else ""


@register.filter
def review_notes(review, user) -> str:
    """Return a progress review's ``notes`` if ``user`` may read them (``learners.view_review_notes``), else ""."""
    allowed = user is not None and user.has_perm("learners.view_review_notes", review)
    return review.notes if allowed else ""
