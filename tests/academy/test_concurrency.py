"""A stale edit is refused, not merged (optimistic locking on ``version``)."""
import pytest

from academy.concurrency import StaleEdit, save_if_current
from learners.models import Learner
from tests import factories

pytestmark = pytest.mark.django_db


def test_it_refuses_the_second_of_two_edits_from_the_same_version():
    learner = factories.LearnerFactory(first_name="Ann")
    first = Learner.objects.get(pk=learner.pk)
    second = Learner.objects.get(pk=learner.pk)
    first.first_name = "Anne"
    save_if_current(first, expected_version=1)
    second.first_name = "Annie"
    with pytest.raises(StaleEdit) as info:
        save_if_current(second, expected_version=1)
    assert info.value.current.first_name == "Anne"
    learner.refresh_from_db()
    assert (learner.first_name, learner.version) == ("Anne", 2)
    assert learner.history.count() == 2  # created, then one edit: the refused one left no trace
