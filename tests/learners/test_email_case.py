"""E-mail addresses are unique whatever their capitals, in the database itself (not only in the code that writes)."""
import pytest
from django.db import IntegrityError, transaction

from academy.models import User
from learners.models import Learner
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_work_email_differing_only_in_capitals():
    factories.LearnerFactory(work_email="priya.shah@council.example.org")
    other = factories.LearnerFactory(work_email="someone@council.example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        # An update bypasses every save() that lower-cases: only the constraint stands in the way.
        Learner.objects.filter(pk=other.pk).update(work_email="Priya.Shah@Council.Example.org")


def test_the_database_refuses_a_user_email_differing_only_in_capitals():
    User.objects.create_user("lead@example.org", "pw-123456789")
    other = User.objects.create_user("coach@example.org", "pw-123456789")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=other.pk).update(email="LEAD@example.org")
