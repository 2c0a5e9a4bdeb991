"""The lead's workspace through Django's test client: every page per role, forms, status changes, exports."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from academy.models import AuditEvent, Team
from cohorts.models import Cohort, Enrolment
from learners.models import Learner
from tests import factories

pytestmark = pytest.mark.django_db
S = Enrolment.Status


@pytest.fixture
def world(coach):
    enrolment = factories.EnrolmentFactory(
        coach=coach,
        learner__first_name="Priya",
        learner__last_name="Shah",
        learner__team__name="Revenues",
        start_date=dt.date(2024, 1, 8),
        planned_end_date=dt.date(2026, 1, 8),
    )
    return enrolment


def _pages(e):
    return {
        "learners:list": reverse("learners:list"),
        "learners:detail": reverse("learners:detail", args=[e.learner.pk]),
        "learners:create": reverse("learners:create"),
        "learners:edit": reverse("learners:edit", args=[e.learner.pk]),
        "teams:list": reverse("teams:list"),
        "teams:detail": reverse("teams:detail", args=[e.learner.team.pk]),
        "teams:create": reverse("teams:create"),
        "cohorts:list": reverse("cohorts:list"),
        "cohorts:detail": reverse("cohorts:detail", args=[e.cohort.pk]),
        "cohorts:create": reverse("cohorts:create"),
        "enrolments:list": reverse("enrolments:list"),
        "enrolments:detail": reverse("enrolments:detail", args=[e.pk]),
        "enrolments:create": reverse("enrolments:create"),
        "enrolments:start_break": reverse("enrolments:start_break", args=[e.pk]),
        "enrolments:export_csv": reverse("enrolments:export_csv"),
    }


READABLE_BY_COACH = {"learners:list", "learners:detail", "enrolments:list", "enrolments:detail"}


@pytest.mark.parametrize("role", ["lead", "coach", "other_coach", "head"])
def test_each_role_gets_the_right_status_on_every_page(client_for, world, role, lead, coach, other_coach, head):
    """Leads: every page. Coaches: their learner and enrolment read-only, 403 elsewhere. Heads: 403 everywhere."""
    user = {"lead": lead, "coach": coach, "other_coach": other_coach, "head": head}[role]
    client = client_for(user)
    for name, url in _pages(world).items():
        status = client.get(url).status_code
        if role == "lead":
            expected = 200
        elif role == "head":
            expected = 403
        elif name in READABLE_BY_COACH:
            expected = 404 if role == "other_coach" and name in ("learners:detail", "enrolments:detail") else 200
        else:
            expected = 403
        assert status == expected, (name, status)


def test_coach_sees_enrolment_read_only_and_no_history(client_for, world, coach):
    body = client_for(coach).get(reverse("enrolments:detail", args=[world.pk])).content.decode()
    assert "Priya Shah" in body
    assert "Start a break in learning" not in body
    assert "Change history" not in body


def test_coach_cannot_post_a_status_change(client_for, world, coach):
    response = client_for(coach).post(
        reverse("enrolments:start_break", args=[world.pk]), {"on": "01/03/2024", "reason": "x", "version": 1}
    )
    assert response.status_code == 403
    world.refresh_from_db()
    assert world.status == S.ACTIVE


def test_anonymous_goes_to_sign_in(client_for, world):
    response = client_for(None).get(reverse("cohorts:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


# --- Learners: create, edit, bad input, races ----------------------------------------


def _learner_data(team, **extra):
    data = {
        "first_name": "Sam",
        "last_name": "Jones",
        "work_email": "Sam.Jones@council.example.org",
        "employee_number": "E0001",
        "uln": "",
        "team": team.pk,
        "line_manager_name": "",
        "line_manager_email": "",
    }
    data.update(extra)
    return data


def test_lead_adds_a_learner_and_is_redirected_with_a_message(client_for, lead):
    team = factories.TeamFactory(name="Highways")
    response = client_for(lead).post(reverse("learners:create"), _learner_data(team), follow=True)
    learner = Learner.objects.get(employee_number="E0001")
    assert response.redirect_chain[-1][0] == learner.get_absolute_url()
    assert learner.work_email == "sam.jones@council.example.org"
    assert "Sam Jones was added" in response.content.decode()


def test_unknown_team_is_refused_naming_the_field_and_keeping_the_input(client_for, lead):
    response = client_for(lead).post(reverse("learners:create"), _learner_data(Team(pk=9999)))
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body
    assert "That team does not exist" in body
    assert 'href="#id_team"' in body
    assert 'value="Sam"' in body  # nothing typed is lost
    assert not Learner.objects.exists()


def test_duplicate_uln_is_refused(client_for, lead, world):
    response = client_for(lead).post(
        reverse("learners:create"), _learner_data(world.learner.team, uln=world.learner.uln)
    )
    assert "Another learner already has this ULN." in response.content.decode()


def test_an_edit_that_lost_a_race_is_refused_not_merged(client_for, lead, world):
    learner = world.learner
    url = reverse("learners:edit", args=[learner.pk])
    client = client_for(lead)
    data = _learner_data(
        learner.team,
        first_name="Priyanka",
        work_email=learner.work_email,
        employee_number=learner.employee_number,
        uln=learner.uln,
        last_name="Shah",
        version=1,
    )
    # Someone else saves first.
    other = Learner.objects.get(pk=learner.pk)
    other.line_manager_name = "Jo Bloggs"
    other.version = 2
    other.save()
    response = client.post(url, data)
    body = response.content.decode()
    learner.refresh_from_db()
    assert response.status_code == 200
    assert learner.first_name == "Priya" and learner.line_manager_name == "Jo Bloggs"
    assert "Someone else changed this learner" in body
    assert 'value="Priyanka"' in body  # the user's entry is kept
    assert "Jo Bloggs" in body  # and what the other user saved is shown
    # Saving again (now at the current version) is a deliberate overwrite and succeeds.
    data["version"] = 2
    response = client.post(url, data)
    learner.refresh_from_db()
    assert response.status_code == 302 and learner.first_name == "Priyanka" and learner.version == 3


def test_learner_page_shows_enrolments_status_history_and_change_history(client_for, lead, world):
    client = client_for(lead)
    client.post(
        reverse("enrolments:start_break", args=[world.pk]), {"on": "01/03/2024", "reason": "Illness", "version": 1}
    )
    learner = world.learner
    learner.line_manager_name = "Jo Bloggs"
    learner.save()
    body = client.get(reverse("learners:detail", args=[learner.pk])).content.decode()
    assert "Break in learning" in body
    assert "1 March 2024" in body and "Illness" in body
    assert "Change history" in body
    assert "Line manager name: (blank)" in body and "Jo Bloggs" in body


# --- Teams and cohorts ---------------------------------------------------------------


def test_lead_adds_and_edits_a_team(client_for, lead):
    client = client_for(lead)
    response = client.post(reverse("teams:create"), {"name": "Waste", "directorate": "Place"})
    team = Team.objects.get(name="Waste")
    assert response.status_code == 302 and response["Location"] == reverse("teams:detail", args=[team.pk])
    response = client.post(
        reverse("teams:edit", args=[team.pk]), {"name": "Waste and Recycling", "directorate": "Place", "version": 1}
    )
    team.refresh_from_db()
    assert team.name == "Waste and Recycling" and team.version == 2


def test_lead_adds_a_cohort_and_an_unknown_standard_is_refused(client_for, lead):
    standard = factories.StandardFactory()
    client = client_for(lead)
    data = {
        "name": "Data Analyst L4 — January 2027",
        "standard": 999999,
        "provider": "Example Ltd",
        "provider_ukprn": "",
        "start_date": "11/01/2027",
    }
    response = client.post(reverse("cohorts:create"), data)
    assert "That standard is not loaded" in response.content.decode()
    data["standard"] = standard.pk
    response = client.post(reverse("cohorts:create"), data)
    cohort = Cohort.objects.get()
    assert response.status_code == 302
    assert cohort.start_date == dt.date(2027, 1, 11)


# --- Enrolments ----------------------------------------------------------------------


def test_enrolment_create_suggests_the_planned_end_and_refuses_duplicates(client_for, lead, world):
    client = client_for(lead)
    cohort = factories.CohortFactory(start_date=dt.date(2025, 9, 1), standard__typical_duration_months=18)
    data = {
        "learner": world.learner.employee_number,
        "cohort": cohort.pk,
        "coach": "",
        "start_date": "01/09/2025",
        "planned_end_date": "",
        "planned_otj_hours": "300",
    }
    response = client.post(reverse("enrolments:create"), data)
    enrolment = Enrolment.objects.get(cohort=cohort)
    assert response.status_code == 302
    assert enrolment.planned_end_date == dt.date(2027, 3, 1)
    response = client.post(reverse("enrolments:create"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "is already enrolled on" in body and 'href="#id_cohort"' in body


def test_enrolment_create_with_unknown_learner_says_so(client_for, lead, world):
    response = client_for(lead).post(
        reverse("enrolments:create"),
        {"learner": "NOPE", "cohort": world.cohort.pk, "planned_otj_hours": "300"},
    )
    assert "No learner matches “NOPE”" in response.content.decode()


def test_break_and_return_through_the_pages(client_for, lead, world):
    client = client_for(lead)
    response = client.post(
        reverse("enrolments:start_break", args=[world.pk]),
        {"on": "01/03/2024", "reason": "Illness", "version": 1},
        follow=True,
    )
    assert "on a break in learning from 1 March 2024" in response.content.decode()
    response = client.post(
        reverse("enrolments:end_break", args=[world.pk]), {"on": "31/05/2024", "version": 2}, follow=True
    )
    body = response.content.decode()
    world.refresh_from_db()
    assert world.status == S.ACTIVE and world.planned_end_date == dt.date(2026, 4, 9)
    assert "moved by 91 days to 9 April 2026" in body
    assert "Lead" in body  # who made the change is shown in the status history


def test_an_invalid_transition_is_refused_with_a_clear_message(client_for, lead, world):
    client = client_for(lead)
    client.post(reverse("enrolments:move_to_gateway", args=[world.pk]), {"on": "03/11/2025", "version": 1})
    world.refresh_from_db()
    assert world.status == S.GATEWAY
    page = client.get(reverse("enrolments:start_break", args=[world.pk])).content.decode()
    assert "A break in learning cannot be recorded after gateway." in page
    response = client.post(
        reverse("enrolments:start_break", args=[world.pk]), {"on": "10/11/2025", "reason": "x", "version": 2}
    )
    assert response.status_code == 200
    assert "A break in learning cannot be recorded after gateway." in response.content.decode()
    world.refresh_from_db()
    assert world.status == S.GATEWAY


def test_a_future_result_date_is_refused_naming_the_field(client_for, lead, world):
    client = client_for(lead)
    client.post(reverse("enrolments:move_to_gateway", args=[world.pk]), {"on": "03/11/2025", "version": 1})
    client.post(reverse("enrolments:start_epa", args=[world.pk]), {"on": "17/11/2025", "version": 2})
    future = (dt.date.today() + dt.timedelta(days=30)).strftime("%d/%m/%Y")
    response = client.post(
        reverse("enrolments:record_result", args=[world.pk]),
        {"grade": "merit", "on": future, "attempt": 1, "version": 3},
    )
    body = response.content.decode()
    assert "The assessment date cannot be in the future." in body and 'href="#id_on"' in body
    response = client.post(
        reverse("enrolments:record_result", args=[world.pk]),
        {"grade": "merit", "on": "01/12/2025", "attempt": 1, "version": 3},
        follow=True,
    )
    assert "Merit at attempt 1 was recorded" in response.content.decode()
    response = client.post(reverse("enrolments:complete", args=[world.pk]), {"on": "08/12/2025", "version": 4})
    world.refresh_from_db()
    assert world.status == S.COMPLETED and world.actual_end_date == dt.date(2025, 11, 3)


def test_withdraw_through_the_page(client_for, lead, world):
    response = client_for(lead).post(
        reverse("enrolments:withdraw", args=[world.pk]), {"on": "02/09/2024", "reason": "29", "version": 1}
    )
    world.refresh_from_db()
    assert response.status_code == 302
    assert world.status == S.WITHDRAWN and world.withdrawal_reason == "29"


def test_a_stale_status_change_is_refused(client_for, lead, world):
    client = client_for(lead)
    client.post(
        reverse("enrolments:start_break", args=[world.pk]), {"on": "01/03/2024", "reason": "Illness", "version": 1}
    )
    response = client.post(
        reverse("enrolments:withdraw", args=[world.pk]), {"on": "02/09/2024", "reason": "29", "version": 1}
    )
    assert "Someone else changed this enrolment" in response.content.decode()
    world.refresh_from_db()
    assert world.status == S.BREAK_IN_LEARNING


def test_enrolment_page_shows_status_and_change_history(client_for, lead, world):
    client = client_for(lead)
    client.post(
        reverse("enrolments:start_break", args=[world.pk]), {"on": "01/03/2024", "reason": "Illness", "version": 1}
    )
    body = client.get(reverse("enrolments:detail", args=[world.pk])).content.decode()
    assert "Status history" in body and "Illness" in body
    assert "Status: In learning" in body and "Break in learning" in body  # change history: old → new
    assert "Return from a break in learning" in body  # the action now offered


# --- Filters, pagination, query counts -----------------------------------------------


def test_learner_filters_by_team_status_and_coach(client_for, lead, coach, other_coach):
    a = factories.EnrolmentFactory(coach=coach, learner__first_name="Alpha", status=S.ACTIVE)
    factories.EnrolmentFactory(
        coach=other_coach,
        learner__first_name="Bravo",
        learner__team=a.learner.team,
        status=S.WITHDRAWN,
        actual_end_date=dt.date(2024, 6, 1),
        withdrawal_reason="44",
    )
    client = client_for(lead)
    body = client.get(reverse("learners:list"), {"team": a.learner.team.pk, "status": "active"}).content.decode()
    assert "Alpha" in body and "Bravo" not in body
    body = client.get(reverse("learners:list"), {"coach": other_coach.pk}).content.decode()
    assert "Bravo" in body and "Alpha" not in body


def test_an_unknown_filter_value_says_which_filter(client_for, lead, world):
    body = client_for(lead).get(reverse("enrolments:list"), {"team": 99999}).content.decode()
    assert "There is no such team" in body
    assert "Priya" in body  # the list is still shown, unfiltered by the bad value


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["learners:list", "enrolments:list", "cohorts:list", "teams:list"])
def test_list_query_count_does_not_grow_with_rows(client_for, lead, name):
    """Session, user, filter choices, count and one page (plus one prefetch on learners): 3 rows == 30 rows."""
    client = client_for(lead)
    factories.EnrolmentFactory.create_batch(3)
    small = _count_queries(client, reverse(name))
    factories.EnrolmentFactory.create_batch(27)
    large = _count_queries(client, reverse(name))
    assert large == small


def test_detail_query_count_does_not_grow_with_history(client_for, lead, world):
    client = client_for(lead)
    url = reverse("enrolments:detail", args=[world.pk])
    small = _count_queries(client, url)
    for n, month in enumerate((3, 5, 7), start=1):
        client.post(
            reverse("enrolments:start_break", args=[world.pk]),
            {"on": f"01/{month:02d}/2024", "reason": "x", "version": 2 * n - 1},
        )
        client.post(reverse("enrolments:end_break", args=[world.pk]), {"on": f"15/{month:02d}/2024", "version": 2 * n})
    world.refresh_from_db()
    assert world.version == 7
    assert _count_queries(client, url) == small


def test_learner_list_paginates(client_for, lead):
    factories.LearnerFactory.create_batch(30)
    body = client_for(lead).get(reverse("learners:list"), {"page": 2}).content.decode()
    assert "govuk-pagination" in body and "Showing 26 to 30" in body


# --- Exports -------------------------------------------------------------------------


def test_export_neutralises_formulas_and_keeps_dates(client_for, lead):
    evil = factories.EnrolmentFactory(
        learner__first_name='=HYPERLINK("http://evil","x")',
        learner__last_name="+SUM(1)",
        learner__line_manager_name="@cmd",
        start_date=dt.date(2024, 1, 8),
        planned_end_date=dt.date(2026, 1, 8),
    )
    client = client_for(lead)
    response = client.get(reverse("enrolments:export_csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert row[header.index("First name")] == '\'=HYPERLINK("http://evil","x")'
    assert row[header.index("Last name")] == "'+SUM(1)"
    assert row[header.index("Start date")] == "2024-01-08"

    response = client.get(reverse("enrolments:export_xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    first = sheet.cell(row=2, column=header.index("First name") + 1)
    assert first.value == '=HYPERLINK("http://evil","x")' and first.data_type == "s" and first.quotePrefix
    start = sheet.cell(row=2, column=header.index("Start date") + 1)
    assert start.value == dt.datetime(2024, 1, 8) and start.is_date
    assert sheet.cell(row=2, column=header.index("Level") + 1).value == 4

    response = client.get(reverse("learners:export_xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=header.index("Line manager") + 1).value == "@cmd"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 3
    assert evil.learner.first_name.startswith("=")  # the data itself is unchanged


def test_export_follows_the_filters(client_for, lead):
    a = factories.EnrolmentFactory(learner__first_name="Alpha")
    factories.EnrolmentFactory(learner__first_name="Bravo")
    response = client_for(lead).get(reverse("learners:export_csv"), {"cohort": a.cohort.pk})
    text = response.content.decode("utf-8-sig")
    assert "Alpha" in text and "Bravo" not in text
    assert response["Content-Disposition"].startswith('attachment; filename="academy-learners-')


def test_export_is_forbidden_to_coaches_and_heads(client_for, coach, head, world):
    for user in (coach, head):
        assert client_for(user).get(reverse("learners:export_csv")).status_code == 403
        assert client_for(user).get(reverse("enrolments:export_xlsx")).status_code == 403


def test_lead_nav_has_the_workspace_and_coach_nav_does_not(client_for, lead, coach):
    """Leads get Learners, Cohorts, Enrolments and Teams in the service navigation; coaches no lead-only item."""
    urls = [reverse(n) for n in ("cohorts:list", "enrolments:list", "teams:list")]
    body = client_for(lead).get(reverse("learners:list")).content.decode()
    nav = body[body.index("govuk-service-navigation__list") :]
    assert all(f'href="{url}"' in nav for url in [reverse("learners:list"), *urls])
    body = client_for(coach).get(reverse("learners:list")).content.decode()
    assert not any(f'class="govuk-service-navigation__link" href="{url}"' in body for url in urls)


def test_a_short_break_gets_a_warning(client_for, lead, world):
    client = client_for(lead)
    client.post(
        reverse("enrolments:start_break", args=[world.pk]), {"on": "01/03/2024", "reason": "Leave", "version": 1}
    )
    body = client.post(
        reverse("enrolments:end_break", args=[world.pk]), {"on": "11/03/2024", "version": 2}, follow=True
    ).content.decode()
    assert "The break lasted 10 days" in body and "up to 4 weeks are not breaks in learning" in body


def test_a_coach_lists_only_their_own_enrolments(client_for, coach, other_coach, world):
    factories.EnrolmentFactory(coach=other_coach, learner__first_name="Tomasz")
    body = client_for(coach).get(reverse("enrolments:list")).content.decode()
    assert "Priya Shah" in body and "Tomasz" not in body
    assert 'name="coach"' not in body  # no coach filter for a coach


def test_history_names_related_records_not_ids(client_for, lead, world):
    learner = world.learner
    highways = factories.TeamFactory(name="Highways")
    data = _learner_data(
        highways,
        first_name=learner.first_name,
        last_name=learner.last_name,
        work_email=learner.work_email,
        employee_number=learner.employee_number,
        uln=learner.uln,
        version=learner.version,
    )
    client = client_for(lead)
    assert client.post(reverse("learners:edit", args=[learner.pk]), data).status_code == 302
    body = client.get(reverse("learners:detail", args=[learner.pk])).content.decode()
    assert "Team: Revenues" in body and "Highways" in body
    assert "Alice Lead" in body  # who made the change


def test_an_enrolment_edit_read_before_a_status_change_is_refused(client_for, lead, world):
    client = client_for(lead)
    form_version = world.version  # the edit page was read now
    client.post(
        reverse("enrolments:start_break", args=[world.pk]), {"on": "01/03/2024", "reason": "Illness", "version": 1}
    )
    response = client.post(
        reverse("enrolments:edit", args=[world.pk]),
        {
            "coach": world.coach.pk,
            "start_date": "08/01/2024",
            "planned_end_date": "08/06/2026",
            "planned_otj_hours": "400",
            "contracted_hours_per_week": "",
            "prior_learning_reduction_hours": "0",
            "version": form_version,
        },
    )
    world.refresh_from_db()
    assert "Someone else changed this enrolment" in response.content.decode()
    assert world.planned_end_date == dt.date(2026, 1, 8) and world.status == S.BREAK_IN_LEARNING


def test_coach_sees_their_learner_read_only(client_for, coach, world):
    body = client_for(coach).get(reverse("learners:detail", args=[world.learner.pk])).content.decode()
    assert "Priya Shah" in body
    assert reverse("learners:edit", args=[world.learner.pk]) not in body
    assert "Enrol on a cohort" not in body and "Change history" not in body


def test_learner_page_query_count_does_not_grow_with_enrolments(client_for, lead, world):
    client = client_for(lead)
    url = reverse("learners:detail", args=[world.learner.pk])
    small = _count_queries(client, url)
    for _ in range(4):
        factories.EnrolmentFactory(learner=world.learner)
    assert _count_queries(client, url) == small


# --- Funding rules on the enrolment forms (cohorts.funding_rules.check_enrolment_plan) ---


def _enrol(client, learner, cohort, **entries):
    data = {"learner": learner.employee_number, "cohort": cohort.pk, "coach": "",
            "start_date": f"{cohort.start_date:%d/%m/%Y}",
            "planned_end_date": "", "planned_otj_hours": "300", **entries}
    return client.post(reverse("enrolments:create"), data)


def test_enrolment_create_refuses_a_plan_shorter_than_the_minimum_duration(client_for, lead, world):
    """Starts from 1 August 2025 need at least 8 months: 1 September 2025 to 1 March 2026 (6) is refused."""
    cohort = factories.CohortFactory(start_date=dt.date(2025, 9, 1))
    response = _enrol(client_for(lead), world.learner, cohort, planned_end_date="01/03/2026")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'href="#id_planned_end_date"' in body
    assert "The planned end date must be at least 8 months after the start (1 May 2026 or later)." in body
    assert not Enrolment.objects.filter(cohort=cohort).exists()


def test_enrolment_create_refuses_too_few_off_the_job_hours(client_for, lead, world):
    """From 1 August 2025 the standard's published minimum applies: 100 hours against 250 is refused."""
    cohort = factories.CohortFactory(start_date=dt.date(2025, 9, 1), standard__otj_minimum_hours=250)
    response = _enrol(client_for(lead), world.learner, cohort, planned_otj_hours="100")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'href="#id_planned_otj_hours"' in body
    assert "Planned off-the-job hours must be at least 250.0 hours." in body
    assert 'href="#id_planned_end_date"' not in body  # the suggested 24-month plan is long enough
    assert not Enrolment.objects.filter(cohort=cohort).exists()


def test_enrolment_create_accepts_a_plan_within_the_rules(client_for, lead, world):
    cohort = factories.CohortFactory(start_date=dt.date(2025, 9, 1), standard__otj_minimum_hours=250)
    response = _enrol(client_for(lead), world.learner, cohort, planned_end_date="01/05/2026", planned_otj_hours="250")
    enrolment = Enrolment.objects.get(cohort=cohort)
    assert response.status_code == 302
    assert (enrolment.planned_end_date, enrolment.planned_otj_hours) == (dt.date(2026, 5, 1), 250)


def _edit_enrolment(client, enrolment, **entries):
    data = {"coach": enrolment.coach.pk, "start_date": "08/01/2024", "planned_end_date": "08/01/2026",
            "planned_otj_hours": "400", "contracted_hours_per_week": "", "prior_learning_reduction_hours": "0",
            "version": enrolment.version, **entries}
    return client.post(reverse("enrolments:edit", args=[enrolment.pk]), data)


def test_enrolment_edit_refuses_a_plan_that_breaks_the_funding_rules(client_for, lead, world):
    """Before 1 August 2025: at least 12 months, and 6 hours a week for a full-time (37.5 hours) apprentice."""
    client = client_for(lead)
    response = _edit_enrolment(client, world, planned_end_date="08/12/2024")
    body = response.content.decode()
    assert 'href="#id_planned_end_date"' in body
    assert "The planned end date must be at least 12 months after the start (8 January 2025 or later)." in body

    response = _edit_enrolment(client, world, contracted_hours_per_week="37.5")
    body = response.content.decode()
    assert 'href="#id_planned_otj_hours"' in body and "Planned off-the-job hours must be at least" in body
    world.refresh_from_db()
    assert (world.planned_end_date, world.contracted_hours_per_week, world.version) == (dt.date(2026, 1, 8), None, 1)


def test_enrolment_edit_accepts_a_plan_within_the_rules(client_for, lead, world):
    response = _edit_enrolment(client_for(lead), world, contracted_hours_per_week="37.5", planned_otj_hours="600")
    world.refresh_from_db()
    assert response.status_code == 302
    assert (world.contracted_hours_per_week, world.planned_otj_hours, world.version) == (37.5, 600, 2)


def test_a_list_export_is_audited_with_the_client_address_from_the_trusted_proxy(client_for, lead, world, settings):
    """``_audit_export`` goes through ``academy.audit.record``: behind one trusted proxy the client is X-Forwarded-For."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    response = client_for(lead).get(
        reverse("enrolments:export_csv"), {"status": "active"},
        HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.0.0.2",
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert response.status_code == 200
    assert (event.user, event.ip_address) == (lead, "203.0.113.9")
    assert event.detail == {"what": "enrolments", "format": "csv", "rows": 1, "filters": {"status": "active"}}
