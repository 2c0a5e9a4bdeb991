"""Enrolment status transitions (cohorts.services): each valid and invalid, the break arithmetic, results."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cohorts import services
from cohorts.models import AssessmentResult, Enrolment, EnrolmentStatusChange
from cohorts.services import TransitionError
from tests import factories

pytestmark = pytest.mark.django_db
S = Enrolment.Status
START = dt.date(2024, 1, 8)


@pytest.fixture
def enrolment():
    return factories.EnrolmentFactory(start_date=START, planned_end_date=dt.date(2026, 1, 8))


def _at_epa(enrolment, lead):
    services.move_to_gateway(enrolment=enrolment, on=dt.date(2025, 11, 3), by=lead)
    return services.start_epa(enrolment=enrolment, on=dt.date(2025, 11, 17), by=lead)


# --- Break in learning ---------------------------------------------------------------


def test_start_break_records_who_when_from_to_and_why(enrolment, lead):
    services.start_break(enrolment=enrolment, on=dt.date(2024, 6, 3), reason="Illness", by=lead)
    enrolment.refresh_from_db()
    assert enrolment.status == S.BREAK_IN_LEARNING
    assert enrolment.version == 2
    change = EnrolmentStatusChange.objects.get(enrolment=enrolment)
    assert (change.from_status, change.to_status, change.effective_date, change.reason, change.changed_by) == (
        S.ACTIVE,
        S.BREAK_IN_LEARNING,
        dt.date(2024, 6, 3),
        "Illness",
        lead,
    )


def test_return_from_break_moves_planned_end_by_the_length_of_the_break(enrolment, lead):
    """A break from 1 March to 31 May 2024 is 91 days: 8 January 2026 becomes 9 April 2026."""
    services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 1), reason="Illness", by=lead)
    result = services.end_break(enrolment=enrolment, on=dt.date(2024, 5, 31), by=lead)
    enrolment.refresh_from_db()
    assert result.break_length_days == 91
    assert enrolment.status == S.ACTIVE
    assert enrolment.planned_end_date == dt.date(2026, 1, 8) + dt.timedelta(days=91) == dt.date(2026, 4, 9)
    last = enrolment.status_changes.order_by("-id").first()
    assert "91 days" in last.reason and "9 April 2026" in last.reason


def test_two_breaks_add_up(enrolment, lead):
    services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 1), reason="Illness", by=lead)
    services.end_break(enrolment=enrolment, on=dt.date(2024, 3, 31), by=lead)  # 30 days
    services.start_break(enrolment=enrolment, on=dt.date(2024, 9, 1), reason="Caring", by=lead)
    services.end_break(enrolment=enrolment, on=dt.date(2024, 9, 11), by=lead)  # 10 days
    enrolment.refresh_from_db()
    assert enrolment.planned_end_date == dt.date(2026, 1, 8) + dt.timedelta(days=40)


def test_return_cannot_be_on_or_before_the_break_start(enrolment, lead):
    services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 1), reason="Illness", by=lead)
    with pytest.raises(TransitionError) as error:
        services.end_break(enrolment=enrolment, on=dt.date(2024, 3, 1), by=lead)
    assert error.value.field == "on"
    assert "after the break started on 1 March 2024" in error.value.message
    enrolment.refresh_from_db()
    assert enrolment.planned_end_date == dt.date(2026, 1, 8)


def test_break_needs_a_reason(enrolment, lead):
    with pytest.raises(TransitionError) as error:
        services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 1), reason="  ", by=lead)
    assert error.value.field == "reason"


def test_break_refused_after_gateway(enrolment, lead):
    services.move_to_gateway(enrolment=enrolment, on=dt.date(2025, 11, 3), by=lead)
    with pytest.raises(TransitionError, match="cannot be recorded after gateway"):
        services.start_break(enrolment=enrolment, on=dt.date(2025, 11, 10), reason="Illness", by=lead)
    enrolment.refresh_from_db()
    assert enrolment.status == S.GATEWAY


def test_break_refused_when_already_on_a_break(enrolment, lead):
    services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 1), reason="Illness", by=lead)
    with pytest.raises(TransitionError, match="already on a break"):
        services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 2), reason="Again", by=lead)


def test_end_break_refused_when_not_on_a_break(enrolment, lead):
    with pytest.raises(TransitionError, match="not on a break"):
        services.end_break(enrolment=enrolment, on=dt.date(2024, 3, 2), by=lead)


# --- Dates ---------------------------------------------------------------------------


def test_future_dates_are_refused(enrolment, lead):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(TransitionError, match="cannot be in the future") as error:
        services.move_to_gateway(enrolment=enrolment, on=tomorrow, by=lead)
    assert error.value.field == "on"


def test_dates_before_the_start_are_refused(enrolment, lead):
    with pytest.raises(TransitionError, match="before the enrolment started on 8 January 2024"):
        services.withdraw(enrolment=enrolment, on=dt.date(2023, 12, 1), reason="44", by=lead)


def test_dates_before_the_last_change_are_refused(enrolment, lead):
    services.move_to_gateway(enrolment=enrolment, on=dt.date(2025, 11, 3), by=lead)
    with pytest.raises(TransitionError, match="before the last recorded change"):
        services.start_epa(enrolment=enrolment, on=dt.date(2025, 11, 1), by=lead)


# --- Gateway, EPA, results, completion -----------------------------------------------


def test_gateway_refused_during_a_break(enrolment, lead):
    services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 1), reason="Illness", by=lead)
    with pytest.raises(TransitionError, match="return from the break"):
        services.move_to_gateway(enrolment=enrolment, on=dt.date(2024, 4, 1), by=lead)


def test_epa_refused_before_gateway(enrolment, lead):
    with pytest.raises(TransitionError, match="Only an enrolment at gateway"):
        services.start_epa(enrolment=enrolment, on=dt.date(2025, 11, 1), by=lead)


def test_full_lifecycle_to_completion_with_a_resit(enrolment, lead):
    _at_epa(enrolment, lead)
    first = services.record_result(enrolment=enrolment, grade="fail", on=dt.date(2025, 12, 1), by=lead)
    second = services.record_result(enrolment=enrolment, grade="merit", on=dt.date(2026, 2, 2), attempt=2, by=lead)
    services.complete(enrolment=enrolment, on=dt.date(2026, 2, 9), by=lead)
    enrolment.refresh_from_db()
    assert (first.attempt, second.attempt) == (1, 2)
    assert enrolment.status == S.COMPLETED
    assert enrolment.actual_end_date == dt.date(2025, 11, 3)  # end of learning = gateway
    statuses = list(enrolment.status_changes.order_by("id").values_list("to_status", flat=True))
    assert statuses == [S.GATEWAY, S.END_POINT_ASSESSMENT, S.END_POINT_ASSESSMENT, S.END_POINT_ASSESSMENT, S.COMPLETED]
    assert "Achieved: Merit at attempt 2" in enrolment.status_changes.order_by("-id").first().reason


def test_completion_after_a_final_fail_is_recorded_as_not_achieved(enrolment, lead):
    _at_epa(enrolment, lead)
    services.record_result(enrolment=enrolment, grade="fail", on=dt.date(2025, 12, 1), by=lead)
    services.complete(enrolment=enrolment, on=dt.date(2025, 12, 8), actual_end_date=dt.date(2025, 11, 1), by=lead)
    enrolment.refresh_from_db()
    assert enrolment.status == S.COMPLETED and enrolment.actual_end_date == dt.date(2025, 11, 1)
    assert "final fail" in enrolment.status_changes.order_by("-id").first().reason


def test_completion_needs_a_result(enrolment, lead):
    _at_epa(enrolment, lead)
    with pytest.raises(TransitionError, match="Record the end-point assessment result"):
        services.complete(enrolment=enrolment, on=dt.date(2025, 12, 8), by=lead)


def test_completion_refused_before_epa(enrolment, lead):
    with pytest.raises(TransitionError, match="Only an enrolment in end-point assessment"):
        services.complete(enrolment=enrolment, on=dt.date(2025, 12, 8), by=lead)


def test_end_of_learning_cannot_be_after_completion(enrolment, lead):
    _at_epa(enrolment, lead)
    services.record_result(enrolment=enrolment, grade="pass", on=dt.date(2025, 12, 1), by=lead)
    with pytest.raises(TransitionError) as error:
        services.complete(enrolment=enrolment, on=dt.date(2025, 12, 8), actual_end_date=dt.date(2025, 12, 9), by=lead)
    assert error.value.field == "actual_end_date"


def test_result_refused_outside_epa(enrolment, lead):
    with pytest.raises(TransitionError, match="only during end-point assessment"):
        services.record_result(enrolment=enrolment, grade="pass", on=dt.date(2025, 12, 1), by=lead)
    assert not AssessmentResult.objects.exists()


def test_result_attempts_have_no_gaps(enrolment, lead):
    _at_epa(enrolment, lead)
    with pytest.raises(TransitionError, match="The next attempt is attempt 1") as error:
        services.record_result(enrolment=enrolment, grade="pass", on=dt.date(2025, 12, 1), attempt=2, by=lead)
    assert error.value.field == "attempt"


def test_result_date_cannot_be_in_the_future(enrolment, lead):
    _at_epa(enrolment, lead)
    with pytest.raises(TransitionError, match="cannot be in the future") as error:
        services.record_result(
            enrolment=enrolment, grade="pass", on=timezone.localdate() + dt.timedelta(days=1), by=lead
        )
    assert error.value.field == "on"


def test_result_date_cannot_be_before_the_start(enrolment, lead):
    _at_epa(enrolment, lead)
    with pytest.raises(TransitionError, match="before the enrolment started"):
        services.record_result(enrolment=enrolment, grade="pass", on=dt.date(2023, 1, 1), by=lead)


def test_no_result_after_a_pass(enrolment, lead):
    _at_epa(enrolment, lead)
    services.record_result(enrolment=enrolment, grade="pass", on=dt.date(2025, 12, 1), by=lead)
    with pytest.raises(TransitionError, match="already passed at attempt 1"):
        services.record_result(enrolment=enrolment, grade="merit", on=dt.date(2025, 12, 2), by=lead)


def test_unknown_grade_refused(enrolment, lead):
    _at_epa(enrolment, lead)
    with pytest.raises(TransitionError) as error:
        services.record_result(enrolment=enrolment, grade="excellent", on=dt.date(2025, 12, 1), by=lead)
    assert error.value.field == "grade"


# --- Withdrawal ----------------------------------------------------------------------


def test_withdraw_sets_reason_and_actual_end(enrolment, lead):
    services.withdraw(enrolment=enrolment, on=dt.date(2024, 9, 2), reason="29", note="Post deleted.", by=lead)
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.withdrawal_reason, enrolment.actual_end_date) == (
        S.WITHDRAWN,
        "29",
        dt.date(2024, 9, 2),
    )
    assert enrolment.status_changes.get().reason == "Made redundant. Post deleted."


def test_withdraw_from_a_break_is_allowed(enrolment, lead):
    services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 1), reason="Illness", by=lead)
    services.withdraw(enrolment=enrolment, on=dt.date(2024, 6, 3), reason="3", by=lead)
    enrolment.refresh_from_db()
    assert enrolment.status == S.WITHDRAWN


def test_withdraw_needs_a_reason_from_the_ilr_list(enrolment, lead):
    with pytest.raises(TransitionError) as error:
        services.withdraw(enrolment=enrolment, on=dt.date(2024, 9, 2), reason="99", by=lead)
    assert error.value.field == "reason"


def test_withdraw_refused_once_a_result_exists(enrolment, lead):
    _at_epa(enrolment, lead)
    services.record_result(enrolment=enrolment, grade="fail", on=dt.date(2025, 12, 1), by=lead)
    with pytest.raises(TransitionError, match="has an end-point assessment result"):
        services.withdraw(enrolment=enrolment, on=dt.date(2025, 12, 2), reason="44", by=lead)


def test_nothing_changes_after_withdrawal(enrolment, lead):
    services.withdraw(enrolment=enrolment, on=dt.date(2024, 9, 2), reason="44", by=lead)
    for action, kwargs in [
        (services.start_break, {"reason": "x"}),
        (services.move_to_gateway, {}),
        (services.withdraw, {"reason": "44"}),
    ]:
        with pytest.raises(TransitionError):
            action(enrolment=enrolment, on=dt.date(2024, 9, 3), by=lead, **kwargs)


def test_stale_version_is_refused(enrolment, lead):
    services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 1), reason="Illness", by=lead)
    with pytest.raises(TransitionError, match="Someone else changed this enrolment"):
        services.withdraw(enrolment=enrolment, on=dt.date(2024, 9, 2), reason="44", by=lead, expected_version=1)


# --- Enrolling -----------------------------------------------------------------------


def test_enrol_suggests_the_planned_end_from_the_typical_duration(lead):
    cohort = factories.CohortFactory(start_date=dt.date(2025, 1, 31), standard__typical_duration_months=13)
    learner = factories.LearnerFactory()
    enrolment = services.enrol_learner(
        learner=learner, cohort=cohort, start_date=dt.date(2025, 1, 31), planned_otj_hours=Decimal(300), by=lead
    )
    assert enrolment.start_date == dt.date(2025, 1, 31)
    assert enrolment.planned_end_date == dt.date(2026, 2, 28)  # clamped to the month's end
    assert enrolment.status_changes.get().to_status == S.ACTIVE


def test_enrol_refuses_a_duplicate_naming_the_cohort(lead):
    enrolment = factories.EnrolmentFactory()
    with pytest.raises(TransitionError, match="already enrolled") as error:
        services.enrol_learner(
            learner=enrolment.learner, cohort=enrolment.cohort, start_date=enrolment.start_date,
            planned_otj_hours=Decimal(1), by=lead,
        )
    assert error.value.field == "cohort"


def test_enrol_needs_a_planned_end_when_the_standard_has_no_duration(lead):
    cohort = factories.CohortFactory(standard__typical_duration_months=None)
    with pytest.raises(TransitionError) as error:
        services.enrol_learner(
            learner=factories.LearnerFactory(), cohort=cohort, start_date=cohort.start_date,
            planned_otj_hours=Decimal(1), by=lead,
        )
    assert error.value.field == "planned_end_date"


def test_status_changes_write_history(enrolment, lead):
    services.start_break(enrolment=enrolment, on=dt.date(2024, 3, 1), reason="Illness", by=lead)
    latest = enrolment.history.first()
    previous = enrolment.history.all()[1]
    delta = latest.diff_against(previous)
    assert {c.field for c in delta.changes} >= {"status", "version"}
