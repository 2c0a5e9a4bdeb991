"""Which learners a user may see (the querysets behind the learner pages)."""
from academy.rules import is_coach, is_lead

from .models import Learner


def visible_learners(user):
    """Return the learners ``user`` may see: all for a lead, their own for a coach, none otherwise.

    Returns a ``Learner`` queryset (distinct), for lists and for ``get_object_or_404``.
    """
    if is_lead(user):
        return Learner.objects.all()
    if is_coach(user):
        return Learner.objects.filter(enrolments__coach=user).distinct()
    return Learner.objects.none()
