"""The coach's pages (``/coach/``): object permissions on every URL, the forms, the risk table, query counts."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching.models import CoachingSession, OffTheJobActivity, ProgressReview
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(coach, other_coach, lead, head):
    start = timezone.localdate() - dt.timedelta(days=120)
    enrolment = factories.EnrolmentFactory(coach=coach, start_date=start,
                                           cohort=factories.CohortFactory(start_date=start))
    session = factories.CoachingSessionFactory(enrolment=enrolment, date=start + dt.timedelta(days=7))
    return {"enrolment": enrolment, "session": session,
            "users": {"coach": coach, "other_coach": other_coach, "lead": lead, "head": head, "anonymous": None}}


def urls_for(world):
    e, s = world["enrolment"].pk, world["session"].pk
    return {
        "coach:home": reverse("coach:home"),
        "coach:risk": reverse("coach:risk"),
        "coach:enrolment": reverse("coach:enrolment", args=[e]),
        "coach:session_create": reverse("coach:session_create", args=[e]),
        "coach:review_create": reverse("coach:review_create", args=[e]),
        "coach:activity_create": reverse("coach:activity_create", args=[e]),
        "coach:session_edit": reverse("coach:session_edit", args=[s]),
        "coach:session_delete": reverse("coach:session_delete", args=[s]),
    }


OBJECT_PAGE = {"anonymous": 302, "coach": 200, "other_coach": 404, "lead": 200, "head": 403}
EXPECTED = {
    "coach:home": {"anonymous": 302, "coach": 200, "other_coach": 200, "lead": 302, "head": 302},
    "coach:risk": {"anonymous": 302, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    **{name: OBJECT_PAGE for name in ("coach:enrolment", "coach:session_create", "coach:review_create",
                                      "coach:activity_create", "coach:session_edit", "coach:session_delete")},
}


@pytest.mark.parametrize("role", ["anonymous", "coach", "other_coach", "lead", "head"])
def test_it_checks_ownership_on_every_coach_url(client_for, world, role):
    client = client_for(world["users"][role])
    seen = {name: client.get(url).status_code for name, url in urls_for(world).items()}
    assert seen == {name: rule[role] for name, rule in EXPECTED.items()}


SESSION_POST = {"date": "", "duration_minutes": "60", "mode": "video", "attendance": "attended",
                "otj_hours": "", "topics": "Power BI", "notes": "", "next_session_date": ""}


def test_another_coach_posting_gets_404_and_nothing_is_written(client_for, world, other_coach):
    client = client_for(other_coach)
    urls = urls_for(world)
    today = timezone.localdate().strftime("%d/%m/%Y")
    posts = {
        "coach:session_create": SESSION_POST | {"date": today},
        "coach:review_create": {"date": today, "attendees": ["learner"], "rag": "green"},
        "coach:activity_create": {"date": today, "category": "self_study", "hours": "2"},
        "coach:session_edit": SESSION_POST | {"date": today, "duration_minutes": "30", "version": "1"},
        "coach:session_delete": {},
    }
    for name, data in posts.items():
        assert client.post(urls[name], data).status_code == 404, name
    session = CoachingSession.objects.get()
    assert (session.pk, session.duration_minutes, session.version) == (world["session"].pk, 60, 1)
    assert (ProgressReview.objects.count(), OffTheJobActivity.objects.count()) == (0, 0)


def test_a_head_of_data_cannot_post_either(client_for, world, head):
    response = client_for(head).post(urls_for(world)["coach:session_create"], SESSION_POST)
    assert response.status_code == 403
    assert CoachingSession.objects.count() == 1


def test_the_session_form_defaults_the_date_to_today(client_for, world, coach):
    response = client_for(coach).get(urls_for(world)["coach:session_create"])
    assert response.context["form"].initial["date"] == timezone.localdate()


def test_a_coach_logs_a_session_in_one_form(client_for, world, coach):
    url = urls_for(world)["coach:session_create"] + "?next=" + reverse("coach:home")
    today = timezone.localdate()
    response = client_for(coach).post(url, SESSION_POST | {"date": today.strftime("%d/%m/%Y"),
                                                           "next": reverse("coach:home")})
    assert response.status_code == 302
    assert response["Location"] == reverse("coach:home")
    session = CoachingSession.objects.latest("id")
    assert (session.date, session.otj_hours, session.coach, session.topics) == (
        today, Decimal("1.00"), coach, "Power BI"
    )


def test_bad_input_is_shown_by_the_field(client_for, world, coach):
    future = (timezone.localdate() + dt.timedelta(days=2)).strftime("%d/%m/%Y")
    response = client_for(coach).post(urls_for(world)["coach:session_create"],
                                      SESSION_POST | {"date": future, "duration_minutes": "0"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "cannot be marked attended" in errors["date"][0]
    assert "Duration must be more than 0" in errors["duration_minutes"][0]
    assert CoachingSession.objects.count() == 1


def test_a_coach_cannot_edit_after_14_days_but_a_lead_can(client_for, world, coach, lead):
    session = world["session"]
    CoachingSession.objects.filter(pk=session.pk).update(created_at=timezone.now() - dt.timedelta(days=15))
    url = urls_for(world)["coach:session_edit"]
    data = SESSION_POST | {"date": session.date.strftime("%d/%m/%Y"), "duration_minutes": "45", "version": "1"}
    assert client_for(coach).post(url, data).status_code == 403
    assert CoachingSession.objects.get().duration_minutes == 60
    assert client_for(lead).post(url, data).status_code == 302
    session.refresh_from_db()
    assert (session.duration_minutes, session.history.first().history_user) == (45, lead)


def test_a_coach_deletes_their_recent_session(client_for, world, coach):
    response = client_for(coach).post(urls_for(world)["coach:session_delete"])
    assert response.status_code == 302
    assert CoachingSession.objects.count() == 0


def test_a_review_and_training_are_recorded_from_their_forms(client_for, world, coach):
    client = client_for(coach)
    today = timezone.localdate().strftime("%d/%m/%Y")
    urls = urls_for(world)
    assert client.post(urls["coach:review_create"], {"date": today, "attendees": ["learner", "coach"],
                                                     "rag": "amber", "agreed_actions": "Book EPA"}).status_code == 302
    assert client.post(urls["coach:activity_create"], {"date": today, "category": "training_day",
                                                       "hours": "7"}).status_code == 302
    review = ProgressReview.objects.get()
    assert (review.rag, review.learner_attended, review.line_manager_attended) == ("amber", True, False)
    assert OffTheJobActivity.objects.get().hours == Decimal("7.00")


def test_the_coach_page_shows_only_their_learners_at_risk_first(client_for, world, coach, other_coach):
    other = factories.EnrolmentFactory(coach=other_coach)
    response = client_for(coach).get(reverse("coach:home"))
    rows = response.context["rows"]
    assert [r.enrolment for r in rows] == [world["enrolment"]]
    html = response.content.decode()
    assert other.learner.full_name not in html
    assert reverse("coach:session_create", args=[world["enrolment"].pk]) in html
    # Last attended session 113 days ago, 1 of about 66 planned hours logged, no review in 120 days.
    assert rows[0].reason_codes == ["no_session", "otj_behind", "review_overdue"]
    assert "No session in 30 days" in html and "How are these figures worked out?" in html
    assert "How is this worked out?" not in html  # said once above the table, not twice a row


def test_sorting_by_column_with_the_sort_parameter(client_for, world, coach):
    later = factories.EnrolmentFactory(coach=coach, learner=factories.LearnerFactory(last_name="Aaronson"))
    response = client_for(coach).get(reverse("coach:home") + "?sort=name")
    assert response.context["rows"][0].enrolment == later
    assert any(h["key"] == "name" and h["aria_sort"] == "ascending" for h in response.context["headers"])


def test_the_coach_page_query_count_does_not_grow(client_for, coach):
    client = client_for(coach)

    def page_queries(n_learners):
        for _ in range(n_learners):
            enrolment = factories.EnrolmentFactory(coach=coach)
            for i in range(4):
                factories.CoachingSessionFactory(enrolment=enrolment,
                                                 date=enrolment.start_date + dt.timedelta(days=9 * i))
            ProgressReview.objects.create(enrolment=enrolment, date=enrolment.start_date, rag="green")
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("coach:home")).status_code == 200
        return len(captured)

    # 1. session; 2. user; 3. enrolments with learner, team, cohort, standard and coach;
    # 4–6. session figures, other off-the-job hours, last reviews (coaching.risk); 7. status
    # changes (breaks); 8. training waiting to be confirmed (coaching.training); 9–10. plans and
    # reviews waiting for the coach's signature (coaching.compliance.waiting_for); 11–13.
    # SAVEPOINT, session save, RELEASE. (Coaches are not staff: no model permissions are read,
    # academy.auth_backends.)
    two, eight = page_queries(2), page_queries(8)
    assert two == eight
    assert eight <= 13


def test_leads_filter_the_risk_view_by_coach_team_and_cohort(client_for, world, lead, other_coach):
    other = factories.EnrolmentFactory(coach=other_coach)
    client = client_for(lead)
    everyone = client.get(reverse("coach:risk")).context["rows"]
    assert {r.enrolment for r in everyone} == {world["enrolment"], other}
    for query in (f"coach={other_coach.pk}", f"team={other.learner.team_id}", f"cohort={other.cohort_id}"):
        rows = client.get(reverse("coach:risk") + "?" + query).context["rows"]
        assert [r.enrolment for r in rows] == [other], query


def test_sign_in_lands_a_coach_on_their_page_and_the_nav_names_it(client_for, world, coach, lead):
    client = client_for(coach)
    assert client.get(reverse("home"))["Location"] == reverse("coach:home")
    labels = [item.label for item in client.get(reverse("coach:home")).context["nav_items"]]
    assert "My learners" in labels and "Learners at risk" not in labels
    lead_labels = [item.label for item in client_for(lead).get(reverse("coach:risk")).context["nav_items"]]
    assert "Learners at risk" in lead_labels and "My learners" not in lead_labels


def test_the_learner_page_offers_the_coach_actions(client_for, world, coach):
    response = client_for(coach).get(reverse("learners:detail", args=[world["enrolment"].learner_id]))
    assert reverse("coach:session_create", args=[world["enrolment"].pk]) in response.content.decode()


def _overdue_learners(n: int, coach):
    """``n`` enrolments in learning since 2024 with no progress review (so all overdue), names sorted by number."""
    cohort = factories.CohortFactory(start_date=dt.date(2024, 1, 8))
    return [
        factories.EnrolmentFactory(coach=coach, cohort=cohort, learner=factories.LearnerFactory(
            first_name="Learner", last_name=f"Number {i:02d}"))
        for i in range(n)
    ]


def test_the_risk_view_lists_the_20_most_overdue_reviews_and_counts_the_rest(client_for, lead, coach):
    _overdue_learners(23, coach)
    response = client_for(lead).get(reverse("coach:risk"))
    html = response.content.decode()

    assert len(response.context["overdue"]) == 20
    assert response.context["overdue_count"] == 23
    assert "23 progress reviews are overdue. These are the 20 most overdue" in html
    assert response.context["total"] == 23


def test_the_risk_view_shows_names_cohorts_and_coaches_of_its_page_in_constant_queries(client_for, lead, coach):
    client = client_for(lead)

    def page_queries(n: int) -> tuple[int, object]:
        _overdue_learners(n, coach)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("coach:risk") + "?sort=name")
        return len(captured), response

    few, _ = page_queries(3)
    many, response = page_queries(30)
    rows = response.context["rows"]
    assert few == many
    assert [r.learner.last_name for r in rows[:3]] == ["Number 00", "Number 00", "Number 01"]
    assert all(r.enrolment.coach == coach and r.enrolment.cohort.name for r in rows)
    assert str(coach) in response.content.decode()


def test_a_bad_risk_filter_gets_the_error_summary_and_an_error_title(client_for, lead, world):
    html = client_for(lead).get(reverse("coach:risk") + "?cohort=no-such-cohort").content.decode()
    assert "<title>Error: Learners at risk" in html
    assert 'class="govuk-error-summary"' in html and "Choose a cohort from the list" in html
