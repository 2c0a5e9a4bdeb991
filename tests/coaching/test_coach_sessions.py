"""Coaching services (``coaching.services``): validation, the 14-day edit rule, history, reviews and activities."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from academy.concurrency import StaleEdit
from coaching import services as coaching
from coaching.models import CoachingSession, OffTheJobActivity, ProgressReview
from cohorts.models import Enrolment
from tests import factories

TODAY = dt.date(2024, 6, 3)


@pytest.fixture
def enrolment(coach):
    return factories.EnrolmentFactory(coach=coach, start_date=dt.date(2024, 1, 8),
                                      cohort=factories.CohortFactory(start_date=dt.date(2024, 1, 8)))


def log(enrolment, by, **overrides):
    fields = {"date": TODAY, "duration_minutes": 90, "attendance": "attended", "mode": "video", "today": TODAY}
    return coaching.log_session(enrolment=enrolment, by=by, **(fields | overrides))


def errors_of(call):
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def test_it_logs_a_session_with_off_the_job_hours_defaulting_to_the_duration(enrolment, coach):
    session = log(enrolment, coach, topics="SQL joins", next_session_date=TODAY + dt.timedelta(days=28))
    assert (session.coach, session.otj_hours, session.topics) == (coach, Decimal("1.50"), "SQL joins")
    assert session.history.get().history_user == coach


def test_a_session_not_attended_counts_no_off_the_job_hours(enrolment, coach):
    assert log(enrolment, coach, attendance="no_show").otj_hours == Decimal("0.00")


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"date": TODAY + dt.timedelta(days=1)}, "date", "future"),
        ({"duration_minutes": 0}, "duration_minutes", "Duration must be more than 0"),
        ({"duration_minutes": 481}, "duration_minutes", "Duration must be 8 hours"),
        ({"otj_hours": Decimal("1.6")}, "otj_hours", "Off-the-job hours cannot be more than the duration"),
        ({"date": dt.date(2024, 1, 7)}, "date", "before the enrolment start date, 8 January 2024"),
        ({"next_session_date": TODAY}, "next_session_date", "Next session date must be after"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(enrolment, coach, overrides, field, words):
    errors = errors_of(lambda: log(enrolment, coach, **overrides))
    assert list(errors) == [field]
    assert words in errors[field][0]
    assert CoachingSession.objects.count() == 0


def test_a_future_session_may_be_logged_when_not_attended(enrolment, coach):
    session = log(enrolment, coach, date=TODAY + dt.timedelta(days=3), attendance="cancelled")
    assert session.otj_hours == 0


def test_it_refuses_a_session_on_a_withdrawn_enrolment(enrolment, coach):
    Enrolment.objects.filter(pk=enrolment.pk).update(status="withdrawn", withdrawal_reason="44",
                                                     actual_end_date=dt.date(2024, 5, 1))
    enrolment.refresh_from_db()
    errors = errors_of(lambda: log(enrolment, coach))
    assert "withdrawn" in errors["__all__"][0]
    assert CoachingSession.objects.count() == 0


# --- The 14-day rule ---------------------------------------------------------------------


@pytest.fixture
def session(enrolment, coach):
    return log(enrolment, coach)


@pytest.mark.parametrize(("age", "coach_may"), [(dt.timedelta(days=14), True),
                                               (dt.timedelta(days=14, minutes=1), False)])
def test_its_coach_may_edit_for_14_days_then_only_a_lead(session, coach, lead, age, coach_may):
    now = session.created_at + age
    assert coaching.can_change_record(coach, session, now=now) is coach_may
    assert coaching.can_change_record(lead, session, now=now) is True


def test_a_coach_edit_after_14_days_is_refused_and_nothing_changes(session, coach):
    later = session.created_at + dt.timedelta(days=15)
    with pytest.raises(PermissionDenied):
        coaching.edit_session(session=session, by=coach, expected_version=1, now=later, today=TODAY, topics="Changed")
    with pytest.raises(PermissionDenied):
        coaching.delete_session(session=session, by=coach, now=later)
    session.refresh_from_db()
    assert (session.topics, session.history.count()) == ("", 1)


def test_a_lead_edits_an_old_session_and_the_history_says_who(session, lead):
    later = session.created_at + dt.timedelta(days=40)
    coaching.edit_session(session=session, by=lead, expected_version=1, now=later, today=TODAY, duration_minutes=60)
    session.refresh_from_db()
    assert (session.duration_minutes, session.otj_hours, session.version) == (60, Decimal("1.00"), 2)
    latest = session.history.first()
    assert (latest.history_type, latest.history_user, latest.duration_minutes) == ("~", lead, 60)


def test_an_edit_from_a_stale_form_is_refused(session, coach):
    coaching.edit_session(session=session, by=coach, expected_version=1, today=TODAY, topics="First")
    with pytest.raises(StaleEdit):
        coaching.edit_session(session=session, by=coach, expected_version=1, today=TODAY, topics="Second")
    session.refresh_from_db()
    assert session.topics == "First"


def test_an_edit_is_validated_like_a_new_session(session, coach):
    errors = errors_of(lambda: coaching.edit_session(session=session, by=coach, expected_version=1, today=TODAY,
                                                     duration_minutes=0))
    assert "duration_minutes" in errors


def test_a_deletion_is_kept_in_history(session, coach):
    pk = session.pk
    coaching.delete_session(session=session, by=coach)
    assert not CoachingSession.objects.filter(pk=pk).exists()
    deleted = CoachingSession.history.filter(id=pk).first()
    assert (deleted.history_type, deleted.history_user) == ("-", coach)


def test_another_coachs_session_is_never_theirs_to_change(session, other_coach):
    assert coaching.can_change_record(other_coach, session, now=timezone.now()) is False


# --- Reviews and other off-the-job training ------------------------------------------------


def test_it_records_a_progress_review(enrolment, coach):
    review = coaching.record_review(enrolment=enrolment, by=coach, date=TODAY, rag="amber", line_manager_attended=False,
                                    agreed_actions="Finish the SQL module.", today=TODAY)
    assert (review.rag, review.line_manager_attended, review.recorded_by) == ("amber", False, coach)
    assert ProgressReview.objects.count() == 1


def test_it_refuses_a_review_in_the_future_or_with_nobody_there(enrolment, coach):
    errors = errors_of(lambda: coaching.record_review(
        enrolment=enrolment, by=coach, date=TODAY + dt.timedelta(days=1), rag="green", learner_attended=False,
        line_manager_attended=False, coach_attended=False, today=TODAY))
    assert set(errors) == {"date", "learner_attended"}


def test_it_logs_other_off_the_job_training_with_a_category(enrolment, coach):
    activity = coaching.log_otj_activity(enrolment=enrolment, by=coach, date=TODAY, category="training_day",
                                         hours=Decimal(7), description="Workshop", today=TODAY)
    assert (activity.category, activity.hours, activity.recorded_by) == ("training_day", Decimal("7.00"), coach)


@pytest.mark.parametrize("hours", [Decimal(0), Decimal("24.5")])
def test_it_refuses_hours_out_of_range(enrolment, coach, hours):
    errors = errors_of(lambda: coaching.log_otj_activity(enrolment=enrolment, by=coach, date=TODAY,
                                                         category="self_study", hours=hours, today=TODAY))
    assert "Hours must be" in errors["hours"][0]
    assert OffTheJobActivity.objects.count() == 0


def test_other_training_counts_in_the_cohort_metrics(enrolment, coach):
    """``outcomes.metrics`` sums off-the-job hours from attended sessions and from other activities."""
    from outcomes.metrics import recompute_metrics
    from outcomes.models import CohortMetrics

    log(enrolment, coach)  # 1.5 hours
    coaching.log_otj_activity(enrolment=enrolment, by=coach, date=TODAY, category="training_day", hours=Decimal(7),
                              today=TODAY)
    recompute_metrics()
    row = CohortMetrics.objects.get(key=f"cohort:{enrolment.cohort_id}")
    assert (row.coaching_sessions, row.otj_hours_logged) == (1, Decimal("8.50"))


@pytest.mark.parametrize(("form_name", "data", "messages"), [
    ("SessionForm", {"date": "31/02/2026", "duration_minutes": "sixty"},
     ["Date of the session must be a real date, like 27/03/2026.",
      "Duration in minutes must be a whole number, like 60."]),
    ("ReviewForm", {"date": "", "attendees": ["coach"]},
     ["Enter the date of the review.", "Select a RAG rating: red, amber or green."]),
    ("ActivityForm", {"date": "yesterday", "hours": "a lot"},
     ["Date of the training must be a real date, like 27/03/2026.", "Select the kind of training.",
      "Hours must be a number, like 1.5."]),
])
def test_the_coachs_forms_name_the_field_in_every_error(form_name, data, messages):
    """Was: "Enter a valid date." and "This field is required." with no field named."""
    from coaching import forms

    form = getattr(forms, form_name)(data)
    assert not form.is_valid()
    errors = [message for field_errors in form.errors.values() for message in field_errors]
    assert all(message in errors for message in messages), errors
    assert "This field is required." not in errors and "Enter a valid date." not in errors
