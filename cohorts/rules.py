"""Which enrolments a user may see (the querysets behind the enrolment and coaching pages)."""
from academy.rules import is_coach, is_lead

from .models import Enrolment


def visible_enrolments(user):
    """Return the enrolments ``user`` may see: all for a lead, those they coach for a coach, none otherwise.

    Returns an ``Enrolment`` queryset, for lists and for ``get_object_or_404`` (another
    coach's enrolment is then a 404).
    """
    if is_lead(user):
        return Enrolment.objects.all()
    if is_coach(user):
        return Enrolment.objects.filter(coach=user)
    return Enrolment.objects.none()
