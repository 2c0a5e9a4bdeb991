"""Every database constraint holds at the database, and model validation names the field.

Constraints are tested with raw ``save()``/``update()`` (bypassing forms) so the database,
not Python, is what refuses the row.
"""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from coaching.models import CoachingSession
from cohorts.models import AssessmentResult, Enrolment
from outcomes.models import NationalBenchmark
from tests import factories

pytestmark = pytest.mark.django_db


def refused(fn):
    """Return True when ``fn`` raises IntegrityError inside its own savepoint."""
    try:
        with transaction.atomic():
            fn()
    except IntegrityError:
        return True
    return False


def test_it_allows_one_enrolment_per_learner_per_cohort():
    enrolment = factories.EnrolmentFactory()
    assert refused(lambda: factories.EnrolmentFactory(learner=enrolment.learner, cohort=enrolment.cohort))
    other = factories.CohortFactory()
    factories.EnrolmentFactory(learner=enrolment.learner, cohort=other)
    assert Enrolment.objects.filter(learner=enrolment.learner).count() == 2


def test_it_refuses_planned_end_not_after_start():
    e = factories.EnrolmentFactory()
    assert refused(lambda: Enrolment.objects.filter(pk=e.pk).update(planned_end_date=e.start_date))
    assert refused(lambda: Enrolment.objects.filter(pk=e.pk).update(planned_end_date=e.start_date - dt.timedelta(1)))


def test_it_refuses_actual_end_before_start():
    e = factories.EnrolmentFactory()
    assert refused(lambda: Enrolment.objects.filter(pk=e.pk).update(actual_end_date=e.start_date - dt.timedelta(1)))
    Enrolment.objects.filter(pk=e.pk).update(actual_end_date=e.start_date)


def test_it_refuses_negative_planned_hours():
    e = factories.EnrolmentFactory()
    assert refused(lambda: Enrolment.objects.filter(pk=e.pk).update(planned_otj_hours=Decimal("-1")))


def test_it_refuses_unknown_status():
    e = factories.EnrolmentFactory()
    assert refused(lambda: Enrolment.objects.filter(pk=e.pk).update(status="graduated"))


def test_it_refuses_withdrawal_without_reason_or_end_date():
    e = factories.EnrolmentFactory()
    assert refused(
        lambda: Enrolment.objects.filter(pk=e.pk).update(status="withdrawn", actual_end_date=dt.date(2024, 6, 1))
    )
    assert refused(lambda: Enrolment.objects.filter(pk=e.pk).update(status="withdrawn", withdrawal_reason="44"))
    Enrolment.objects.filter(pk=e.pk).update(
        status="withdrawn", withdrawal_reason="44", actual_end_date=dt.date(2024, 6, 1)
    )
    assert Enrolment.objects.get(pk=e.pk).status == "withdrawn"


def test_it_refuses_completion_without_actual_end_date():
    e = factories.EnrolmentFactory()
    assert refused(lambda: Enrolment.objects.filter(pk=e.pk).update(status="completed"))


def test_it_refuses_a_result_on_a_withdrawn_enrolment():
    """The trigger refuses the insert; the model's clean says so with the field."""
    e = factories.EnrolmentFactory(status="withdrawn", withdrawal_reason="43", actual_end_date=dt.date(2024, 5, 1))
    assert refused(lambda: AssessmentResult.objects.create(enrolment=e, grade="pass", date=dt.date(2024, 6, 1)))
    assert AssessmentResult.objects.count() == 0
    with pytest.raises(ValidationError) as info:
        AssessmentResult(enrolment=e, grade="pass", date=dt.date(2024, 6, 1)).full_clean()
    assert "enrolment" in info.value.message_dict


def test_it_refuses_moving_a_result_onto_a_withdrawn_enrolment():
    result = factories.AssessmentResultFactory()
    withdrawn = factories.EnrolmentFactory(
        status="withdrawn", withdrawal_reason="43", actual_end_date=dt.date(2024, 5, 1)
    )
    assert refused(lambda: AssessmentResult.objects.filter(pk=result.pk).update(enrolment=withdrawn))


def test_it_refuses_withdrawing_an_enrolment_with_a_result():
    result = factories.AssessmentResultFactory()
    e = result.enrolment
    assert refused(
        lambda: Enrolment.objects.filter(pk=e.pk).update(
            status="withdrawn", withdrawal_reason="44", actual_end_date=e.planned_end_date
        )
    )
    e.refresh_from_db()
    assert e.status == "end_point_assessment"


def test_it_allows_one_result_per_attempt_and_attempts_from_one():
    result = factories.AssessmentResultFactory(grade="fail")
    assert refused(lambda: AssessmentResult.objects.create(enrolment=result.enrolment, grade="pass", date=result.date, attempt=1))
    assert refused(lambda: AssessmentResult.objects.create(enrolment=result.enrolment, grade="pass", date=result.date, attempt=0))
    assert refused(lambda: AssessmentResult.objects.create(enrolment=result.enrolment, grade="excellent", date=result.date, attempt=2))
    AssessmentResult.objects.create(enrolment=result.enrolment, grade="pass", date=result.date, attempt=2)


def test_it_refuses_negative_session_duration_and_hours():
    s = factories.CoachingSessionFactory()
    assert refused(lambda: CoachingSession.objects.filter(pk=s.pk).update(duration_minutes=-30))
    assert refused(lambda: CoachingSession.objects.filter(pk=s.pk).update(otj_hours=Decimal("-0.5")))


def test_it_refuses_hours_on_a_missed_session():
    s = factories.CoachingSessionFactory()
    assert refused(lambda: CoachingSession.objects.filter(pk=s.pk).update(attendance="no_show"))
    CoachingSession.objects.filter(pk=s.pk).update(attendance="no_show", otj_hours=0)


def test_it_refuses_duplicate_or_invalid_ulns():
    learner = factories.LearnerFactory(uln="9900000705")
    assert refused(lambda: factories.LearnerFactory(uln="9900000705"))
    assert refused(lambda: factories.LearnerFactory(uln="0123456789"))
    assert refused(lambda: factories.LearnerFactory(uln="12345"))
    # The temporary ULN may repeat; an unknown ULN is empty.
    factories.LearnerFactory(uln="9999999999")
    factories.LearnerFactory(uln="9999999999")
    factories.LearnerFactory(uln="")
    factories.LearnerFactory(uln="")
    learner.uln = "9900000704"
    with pytest.raises(ValidationError) as info:
        learner.full_clean()
    assert "uln" in info.value.message_dict


def test_it_refuses_duplicate_employee_numbers_and_emails():
    learner = factories.LearnerFactory(employee_number="004213")
    assert refused(lambda: factories.LearnerFactory(employee_number="004213"))
    assert refused(lambda: factories.LearnerFactory(work_email=learner.work_email))


def test_it_refuses_a_standard_level_outside_2_to_7():
    assert refused(lambda: factories.StandardFactory(reference="ST0001", level=8))
    assert refused(lambda: factories.StandardFactory(reference="ST0002", level=1))


def test_it_keeps_benchmarks_unique_and_in_range():
    standard = factories.StandardFactory()
    factories.NationalBenchmarkFactory()
    assert refused(lambda: factories.NationalBenchmarkFactory())  # same measure, scope, year
    assert refused(lambda: factories.NationalBenchmarkFactory(academic_year="2022/23", rate=Decimal("1.5")))
    assert refused(lambda: factories.NationalBenchmarkFactory(academic_year="2021/22", scope="level"))
    assert refused(lambda: factories.NationalBenchmarkFactory(academic_year="2021/22", scope="all", level=4))
    factories.NationalBenchmarkFactory(scope="level", level=4)
    factories.NationalBenchmarkFactory(scope="standard", standard=standard)
    suppressed = factories.NationalBenchmarkFactory(academic_year="2020/21", rate=None)
    assert suppressed.rate is None
    assert NationalBenchmark.objects.count() == 4


def test_enrolment_clean_names_the_fields():
    e = factories.EnrolmentFactory.build(
        learner=factories.LearnerFactory(),
        cohort=factories.CohortFactory(),
        coach=factories.CoachFactory(),
        start_date=dt.date(2024, 1, 8),
        planned_end_date=dt.date(2023, 1, 8),
        actual_end_date=dt.date(2023, 1, 1),
        status="withdrawn",
    )
    with pytest.raises(ValidationError) as info:
        e.full_clean()
    errors = info.value.message_dict
    assert "planned_end_date" in errors
    assert "actual_end_date" in errors
    assert "withdrawal_reason" in errors


def test_enrolment_clean_refuses_a_duplicate_and_a_non_coach():
    e = factories.EnrolmentFactory()
    duplicate = Enrolment(
        learner=e.learner, cohort=e.cohort, coach=factories.LeadFactory(), start_date=e.start_date,
        planned_end_date=e.planned_end_date, planned_otj_hours=10,
    )
    with pytest.raises(ValidationError) as info:
        duplicate.full_clean()
    assert "coach" in info.value.message_dict
    assert "one_enrolment_per_learner_per_cohort" in str(info.value) or "__all__" in info.value.message_dict


def test_negative_duration_is_refused_by_validation():
    s = factories.CoachingSessionFactory.build(enrolment=factories.EnrolmentFactory(), duration_minutes=-5)
    s.coach = s.enrolment.coach
    with pytest.raises(ValidationError) as info:
        s.full_clean()
    assert "duration_minutes" in info.value.message_dict


def test_user_roles_and_staff_flag():
    lead = factories.LeadFactory()
    coach = factories.CoachFactory()
    assert lead.is_staff is True and lead.is_lead is True
    assert coach.is_staff is False and coach.is_coach is True
    from academy.models import User

    assert refused(lambda: User.objects.filter(pk=coach.pk).update(role="admin"))
