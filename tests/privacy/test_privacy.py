"""Privacy: subject access export, erasure that keeps aggregates, retention, who reads coaching notes."""
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.urls import reverse

from academy.models import AuditEvent
from coaching.models import CoachingSession, OffTheJobActivity, ProgressReview
from cohorts.models import AssessmentResult, Enrolment, EnrolmentStatusChange
from learners.models import Learner
from outcomes.metrics import recompute_metrics
from outcomes.models import CohortMetrics, ImpactRecord
from privacy.services import anonymise_learner, apply_retention, subject_access_data
from tests import factories

pytestmark = pytest.mark.django_db

SECRET_NOTE = "Talked about her back pain and the move to Leeds"


@pytest.fixture
def record(coach, lead):
    """One learner, Jane Doe, with every kind of record Academy holds about a learner."""
    learner = factories.LearnerFactory(
        first_name="Jane", last_name="Doe", work_email="jane.doe@council.example.org", employee_number="E777001",
        line_manager_name="Martin Manager", line_manager_email="martin@council.example.org",
    )
    learner.first_name = "Janet"  # a second history row holding an old name
    learner.save()
    enrolment = factories.EnrolmentFactory(
        learner=learner, coach=coach, status=Enrolment.Status.COMPLETED, actual_end_date=dt.date(2025, 12, 1)
    )
    session = factories.CoachingSessionFactory(enrolment=enrolment, topics="Back pain", notes=SECRET_NOTE)
    review = ProgressReview.objects.create(
        enrolment=enrolment, date=dt.date(2024, 4, 1), rag="green", notes="Jane is doing well", agreed_actions="Jane to book EPA",
        recorded_by=coach,
    )
    activity = OffTheJobActivity.objects.create(
        enrolment=enrolment, date=dt.date(2024, 5, 1), category="self_study", hours=Decimal("3.5"),
        description="Jane's SQL course", recorded_by=coach,
    )
    change = EnrolmentStatusChange.objects.create(
        enrolment=enrolment, from_status="active", to_status="completed", effective_date=dt.date(2025, 12, 1),
        reason="Jane passed", changed_by=lead,
    )
    result = factories.AssessmentResultFactory(enrolment=enrolment, grade="distinction")
    impact = ImpactRecord.objects.create(
        title="Debt recovered", kind="money", value=Decimal("1000"), evidence="Report", date=dt.date(2025, 1, 1),
    )
    impact.learners.add(learner)
    return {"learner": learner, "enrolment": enrolment, "session": session, "review": review,
            "activity": activity, "change": change, "result": result, "impact": impact}


# --- Subject access ---------------------------------------------------------------------


def test_subject_access_data_includes_every_related_record(record):
    data = subject_access_data(record["learner"])
    assert data["learner"]["first_name"] == "Janet"
    assert data["learner"]["work_email"] == "jane.doe@council.example.org"
    assert data["learner"]["line_manager_name"] == "Martin Manager"
    assert [e["id"] for e in data["enrolments"]] == [record["enrolment"].pk]
    assert [s["notes"] for s in data["coaching_sessions"]] == [SECRET_NOTE]
    assert [r["agreed_actions"] for r in data["progress_reviews"]] == ["Jane to book EPA"]
    assert [a["description"] for a in data["otj_activities"]] == ["Jane's SQL course"]
    assert [c["reason"] for c in data["status_changes"]] == ["Jane passed"]
    assert [r["grade"] for r in data["assessment_results"]] == ["Distinction"]
    assert [i["title"] for i in data["impact_records"]] == ["Debt recovered"]
    learner_history = [h for h in data["history"] if h["record"] == "learner"]
    assert [h["first_name"] for h in learner_history] == ["Jane", "Janet"]
    assert {h["record"] for h in data["history"]} >= {"learner", "enrolment", "coaching session", "progress review"}
    json.dumps(data)  # JSON-safe throughout


def test_a_lead_downloads_the_json_and_the_export_is_audited(client_for, lead, record):
    learner = record["learner"]
    response = client_for(lead).get(reverse("privacy:subject_access_json", args=[learner.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="learner-{learner.pk}-subject-access.json"'
    data = json.loads(response.content)
    assert data["coaching_sessions"][0]["notes"] == SECRET_NOTE
    event = AuditEvent.objects.get(action="subject_access")
    assert (event.user, event.object_id, event.detail) == (lead, str(learner.pk), {"format": "json"})
    assert data["audit_events"] == [] or all(e["action"] for e in data["audit_events"])


def test_the_readable_page_shows_every_section(client_for, lead, record):
    response = client_for(lead).get(reverse("privacy:subject_access", args=[record["learner"].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Coaching sessions", "Progress reviews", "History of changes", SECRET_NOTE, "Martin Manager", "Debt recovered"):
        assert text in html
    assert AuditEvent.objects.filter(action="subject_access", detail__format="page").count() == 1


@pytest.mark.parametrize("persona", ["coach", "other_coach", "head"])
@pytest.mark.parametrize("name", ["privacy:subject_access", "privacy:subject_access_json", "privacy:erase"])
def test_only_leads_reach_the_privacy_pages(request, client_for, record, persona, name):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse(name, args=[record["learner"].pk])).status_code == 403
    assert client.post(reverse(name, args=[record["learner"].pk]), {"confirm": "on"}).status_code == 403
    assert Learner.objects.get(pk=record["learner"].pk).anonymised_at is None


def test_the_learner_page_links_leads_to_the_privacy_pages(client_for, lead, coach, record):
    url = reverse("learners:detail", args=[record["learner"].pk])
    assert reverse("privacy:subject_access", args=[record["learner"].pk]) in client_for(lead).get(url).content.decode()
    assert reverse("privacy:subject_access", args=[record["learner"].pk]) not in client_for(coach).get(url).content.decode()


# --- Erasure ---------------------------------------------------------------------------


def _aggregates():
    return list(
        CohortMetrics.objects.order_by("key").values(
            "key", "enrolled", "completed", "withdrawn", "leavers", "achievers", "epa_completed", "distinction",
            "merit", "coaching_sessions", "coaching_hours", "otj_hours_logged", "otj_hours_planned",
        )
    )


def test_erasure_keeps_aggregates_and_removes_every_personal_field(record, lead):
    learner = record["learner"]
    factories.EnrolmentFactory(cohort=record["enrolment"].cohort)  # someone else in the cohort
    recompute_metrics()
    before = _aggregates()

    anonymise_learner(learner=learner, by=lead)

    recompute_metrics()
    assert _aggregates() == before
    learner.refresh_from_db()
    assert learner.full_name == f"Anonymised learner {learner.pk}"
    assert learner.work_email == f"anonymised-{learner.pk}@invalid"
    assert learner.employee_number == f"ANON-{learner.pk}"
    assert (learner.uln, learner.line_manager_name, learner.line_manager_email) == ("", "", "")
    assert learner.anonymised_at is not None
    session = CoachingSession.objects.get(pk=record["session"].pk)
    assert (session.notes, session.topics, session.duration_minutes, session.otj_hours) == ("", "", 60, Decimal("1.00"))
    review = ProgressReview.objects.get(pk=record["review"].pk)
    assert (review.notes, review.agreed_actions, review.rag) == ("", "", "green")
    assert OffTheJobActivity.objects.get(pk=record["activity"].pk).description == ""
    assert EnrolmentStatusChange.objects.get(pk=record["change"].pk).reason == ""
    assert AssessmentResult.objects.get(pk=record["result"].pk).grade == "distinction"
    assert list(ImpactRecord.objects.get(pk=record["impact"].pk).learners.all()) == [learner]


def test_erasure_leaves_no_old_name_anywhere_in_the_subject_access_export(record, lead):
    learner = record["learner"]
    anonymise_learner(learner=learner, by=lead)
    text = json.dumps(subject_access_data(Learner.objects.get(pk=learner.pk)))
    for personal in ("Jane", "Janet", "Doe", "jane.doe@", "E777001", "Martin", SECRET_NOTE, "Back pain"):
        assert personal not in text, personal
    assert not Learner.history.filter(id=learner.pk, first_name__in=["Jane", "Janet"]).exists()
    assert not CoachingSession.history.filter(id=record["session"].pk).exclude(notes="").exists()


def test_erasure_is_audited_and_idempotent(record, lead):
    learner = record["learner"]
    first = anonymise_learner(learner=learner, by=lead)
    second = anonymise_learner(learner=learner, by=lead)
    assert first.anonymised_at == second.anonymised_at
    assert second.full_name == f"Anonymised learner {learner.pk}"
    events = AuditEvent.objects.filter(action="erasure")
    assert events.count() == 1
    assert (events.get().user, events.get().object_id) == (lead, str(learner.pk))
    assert events.get().detail["coaching_sessions_kept"] == 1


def test_the_erasure_page_needs_the_confirmation_then_anonymises(client_for, lead, record):
    client = client_for(lead)
    url = reverse("privacy:erase", args=[record["learner"].pk])
    page = client.get(url).content.decode()
    assert "This cannot be undone" in page
    response = client.post(url, {})
    assert response.status_code == 200
    assert "govuk-error-summary" in response.content.decode()
    assert Learner.objects.get(pk=record["learner"].pk).anonymised_at is None
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert Learner.objects.get(pk=record["learner"].pk).anonymised_at is not None


# --- Retention -------------------------------------------------------------------------


@pytest.fixture
def ages(coach):
    """Learners whose last enrolment ended 7 years, 5 years ago, and one still active (today 29/11/2026)."""
    def ended(on):
        e = factories.EnrolmentFactory(
            coach=coach, cohort=factories.CohortFactory(start_date=on - dt.timedelta(days=800)),
            status=Enrolment.Status.WITHDRAWN, withdrawal_reason="01", actual_end_date=on,
        )
        return e.learner

    old = ended(dt.date(2019, 11, 1))
    recent = ended(dt.date(2021, 12, 1))
    still_open = ended(dt.date(2019, 1, 1))
    factories.EnrolmentFactory(learner=still_open, coach=coach)  # a later enrolment still open
    return {"old": old, "recent": recent, "still_open": still_open}


def test_retention_dry_run_lists_but_changes_nothing(ages):
    candidates = apply_retention(years=6, today=dt.date(2026, 11, 29), dry_run=True)
    assert [c.learner_id for c in candidates] == [ages["old"].pk]
    assert candidates[0].last_end_date == dt.date(2019, 11, 1)
    assert not Learner.objects.filter(anonymised_at__isnull=False).exists()
    assert not AuditEvent.objects.exists()


def test_retention_anonymises_only_learners_past_n_years(ages):
    candidates = apply_retention(years=6, today=dt.date(2026, 11, 29), dry_run=False)
    assert [c.learner_id for c in candidates] == [ages["old"].pk]
    assert set(Learner.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True)) == {ages["old"].pk}
    assert Learner.objects.get(pk=ages["recent"].pk).first_name == ages["recent"].first_name
    assert AuditEvent.objects.filter(action="retention", object_id=str(ages["old"].pk)).count() == 1
    assert AuditEvent.objects.get(action="retention", object_id="").detail == {
        "years": 6, "today": "2026-11-29", "anonymised": 1,
    }
    assert apply_retention(years=6, today=dt.date(2026, 11, 29), dry_run=False) == []  # nothing left to do


def test_the_command_dry_run_and_years(ages, capsys, settings):
    settings.ACADEMY_RETENTION_YEARS = 4
    call_command("apply_retention", "--dry-run", "--today", "29/11/2026")
    out = capsys.readouterr().out
    assert "Would anonymise 2 learner(s)" in out
    assert "29 November 2022" in out
    assert "Dry run: nothing was changed." in out
    assert not Learner.objects.filter(anonymised_at__isnull=False).exists()
    call_command("apply_retention", "--years", "6", "--today", "29/11/2026")
    assert "Anonymised 1 learner(s)" in capsys.readouterr().out


def test_the_celery_task_is_registered_and_scheduled(ages, settings):
    from academy.celery import app
    from privacy.tasks import apply_retention as task

    # The worker finds it: Celery autodiscovers the ``tasks`` module of every installed app.
    assert "privacy" in settings.INSTALLED_APPS and task.__module__ == "privacy.tasks"
    assert settings.CELERY_BEAT_SCHEDULE["apply-retention-nightly"]["task"] == task.name
    app.loader.import_default_modules()
    assert task.name in app.tasks
    settings.ACADEMY_RETENTION_YEARS = 6
    assert task.delay(dry_run=True).get() >= 0


# --- Coaching notes --------------------------------------------------------------------

NOTES = Template("{% load learner_privacy %}[{{ session|session_notes:user }}]")


@pytest.mark.parametrize(
    ("persona", "sees"), [("coach", True), ("lead", True), ("other_coach", False), ("head", False)]
)
def test_coaching_notes_are_for_the_coach_leads_and_the_learner_only(request, record, persona, sees):
    user = request.getfixturevalue(persona)
    session = CoachingSession.objects.select_related("enrolment__learner").get(pk=record["session"].pk)
    assert user.has_perm("learners.view_session_notes", session) is sees
    assert NOTES.render(Context({"session": session, "user": user})) == (f"[{SECRET_NOTE}]" if sees else "[]")


def test_the_learner_reads_their_own_notes(record):
    own_user = factories.UserFactory(email="jane.user@example.org")
    Learner.objects.filter(pk=record["learner"].pk).update(user=own_user)
    session = CoachingSession.objects.select_related("enrolment__learner").get(pk=record["session"].pk)
    assert own_user.has_perm("learners.view_session_notes", session) is True
    stranger = factories.UserFactory(email="someone.else@example.org")
    assert stranger.has_perm("learners.view_session_notes", session) is False


def test_a_coach_of_another_enrolment_of_the_learner_cannot_read_these_notes(record, other_coach):
    factories.EnrolmentFactory(learner=record["learner"], coach=other_coach)
    session = CoachingSession.objects.select_related("enrolment__learner").get(pk=record["session"].pk)
    assert other_coach.has_perm("learners.view_session_notes", session) is False


def test_the_readable_page_is_a_few_screens_for_a_learner_with_many_records(client_for, lead, record):
    """Many records read as one table each, folded past ten, with shared values said once and UK dates."""
    enrolment = record["learner"].enrolments.get()
    for day in range(1, 31):
        factories.OffTheJobActivityFactory(enrolment=enrolment, date=dt.date(2025, 3, day), description=f"Workshop {day}")
    html = client_for(lead).get(reverse("privacy:subject_access", args=[record["learner"].pk])).content.decode()
    section = html[html.index('id="otj_activities"') : html.index('id="assessment_results"')]
    assert "Show all 3" in section and "records</span>" in section  # folded behind a details element
    assert section.count('<tr class="govuk-table__row">') == OffTheJobActivity.objects.filter(enrolment=enrolment).count() + 1
    assert "In every one of these" in section and str(enrolment) in section
    assert section.count(str(enrolment)) == 1  # the enrolment is said once, not on every row
    assert "30 March 2025" in section and "2025-03-30" not in section
