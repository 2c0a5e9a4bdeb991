"""The morning reminder (``coaching.reminders``, the Celery task and ``manage.py send_reminders``)."""
import datetime as dt
import threading
from io import StringIO
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection

from coaching import reminders
from coaching.models import OffTheJobActivity, ProgressReview, ReminderLog
from coaching.tasks import send_reminders as send_reminders_task
from tests import factories

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def learners_at_risk(coach, other_coach):
    """Bob: a learner with an overdue review; Carol: one with no session in 30 days; a third coach: none."""
    start = TODAY - dt.timedelta(days=200)
    overdue = factories.EnrolmentFactory(coach=coach, start_date=start,
                                         cohort=factories.CohortFactory(start_date=start))
    factories.CoachingSessionFactory(enrolment=overdue, date=TODAY - dt.timedelta(days=3), otj_hours=0)
    quiet = factories.EnrolmentFactory(coach=other_coach, start_date=TODAY - dt.timedelta(days=40),
                                       cohort=factories.CohortFactory(start_date=TODAY - dt.timedelta(days=40)))
    ProgressReview.objects.create(enrolment=quiet, date=TODAY - dt.timedelta(days=5), rag="green")
    happy_coach = factories.CoachFactory()
    happy = factories.EnrolmentFactory(coach=happy_coach, start_date=TODAY - dt.timedelta(days=2),
                                       cohort=factories.CohortFactory(start_date=TODAY - dt.timedelta(days=2)))
    factories.CoachingSessionFactory(enrolment=happy, date=TODAY - dt.timedelta(days=1), otj_hours=1)
    OffTheJobActivity.objects.create(enrolment=happy, date=TODAY - dt.timedelta(days=1), category="self_study", hours=6)
    return {"overdue": overdue, "quiet": quiet, "happy_coach": happy_coach}


def test_each_coach_with_something_to_do_gets_one_email(learners_at_risk, coach, other_coach):
    run = reminders.send_reminders(today=TODAY)
    assert sorted(run.sent) == sorted([coach.pk, other_coach.pk])
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {coach.email, other_coach.email}
    bob = by_recipient[coach.email]
    assert "overdue progress review" in bob.subject
    assert learners_at_risk["overdue"].learner.full_name in bob.body
    assert bob.alternatives[0].mimetype == "text/html"
    assert "No attended session" in by_recipient[other_coach.email].body


def test_running_the_job_twice_sends_one_email_per_coach(learners_at_risk, coach, other_coach):
    first = reminders.send_reminders(today=TODAY)
    second = reminders.send_reminders(today=TODAY)
    assert len(mail.outbox) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([coach.email, other_coach.email])
    assert second.sent == [] and sorted(second.already_sent) == sorted(first.sent)
    assert ReminderLog.objects.filter(date=TODAY).count() == 2


def test_the_next_day_sends_again(learners_at_risk):
    reminders.send_reminders(today=TODAY)
    reminders.send_reminders(today=TODAY + dt.timedelta(days=1))
    assert len(mail.outbox) == 4


def test_a_failed_send_leaves_no_log_so_a_retry_sends(learners_at_risk, coach, other_coach):
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("SMTP down")):
        run = reminders.send_reminders(today=TODAY)
    assert sorted(run.failed) == sorted([coach.pk, other_coach.pk])
    assert ReminderLog.objects.count() == 0
    retry = reminders.send_reminders(today=TODAY)
    assert len(retry.sent) == 2 and len(mail.outbox) == 2


def test_the_celery_task_and_the_command_share_the_dedupe(learners_at_risk):
    with mock.patch("coaching.reminders.timezone.localdate", return_value=TODAY):
        assert send_reminders_task.delay().get() == 2
        assert send_reminders_task.delay().get() == 0
        out = StringIO()
        call_command("send_reminders", stdout=out)
    assert "0 sent, 2 already sent today" in out.getvalue()
    assert len(mail.outbox) == 2


def test_the_command_takes_a_date(learners_at_risk):
    out = StringIO()
    call_command("send_reminders", "--date", "30/11/2026", stdout=out)
    assert "Reminders for 30/11/2026: 2 sent" in out.getvalue()


def test_beat_runs_it_every_morning_at_seven():
    entry = settings.CELERY_BEAT_SCHEDULE["send-coach-reminders-daily"]
    assert entry["task"] == "coaching.tasks.send_reminders"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({7}, {0})
    assert settings.CELERY_TIMEZONE == "Europe/London"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_email_per_coach(learners_at_risk, coach, other_coach):
    """Two threads (two database connections) run the job together: the unique log row lets one send per coach."""
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(reminders.send_reminders(today=TODAY))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(pk for run in results for pk in run.sent) == sorted([coach.pk, other_coach.pk])
    assert len(mail.outbox) == 2
