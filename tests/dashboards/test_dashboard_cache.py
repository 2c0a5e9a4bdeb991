"""The cached dashboard bodies (dashboards.cache): served once built, never stale.

Unfiltered dashboard pages are rendered once per dashboard generation and reader's
permissions; the metrics job and saves of what the pages read move the generation on,
filtered pages are always live, and a cache outage only costs the rendering.
"""
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from academy import changes as dashboard_generation
from academy.changes import records_changed
from academy.models import Team
from outcomes.metrics import recompute_metrics
from tests import factories

DASHBOARD = reverse("outcomes:dashboard")
TEAMS = reverse("outcomes:dashboard_teams")
TRENDS = reverse("outcomes:dashboard_trends")
COACHING = reverse("outcomes:dashboard_coaching")
PAGES = [
    reverse(name)
    for name in (
        "outcomes:dashboard",
        "outcomes:dashboard_standards",
        "outcomes:dashboard_trends",
        "outcomes:dashboard_teams",
        "outcomes:dashboard_coaching",
    )
]

pytestmark = pytest.mark.django_db


def _academy(n_learners: int = 6, *, name: str = "Data cohort 2024"):
    """Return a cohort with ``n_learners`` active enrolments in team "Finance", snapshots computed."""
    cohort = factories.CohortFactory(name=name)
    team = factories.TeamFactory(name="Finance")
    for _ in range(n_learners):
        factories.EnrolmentFactory(cohort=cohort, learner=factories.LearnerFactory(team=team))
    recompute_metrics()
    return cohort


def _get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


@pytest.mark.parametrize("url", PAGES)
def test_the_second_request_is_served_from_the_cache_with_the_same_body(client_for, head, url):
    _academy()
    client = client_for(head)
    first, built_queries = _get(client, url)
    second, cached_queries = _get(client, url)

    assert first.context["cached"] is False
    assert second.context["cached"] is True
    assert str(second.context["body"]) == str(first.context["body"])
    assert "Data cohort 2024" in second.content.decode() or url == TEAMS
    assert cached_queries < built_queries


def test_a_cached_page_runs_the_same_few_queries_whatever_the_data(client_for, head):
    """Served from the cache: session, user, generation, filter choices, session save; never the data."""
    client = client_for(head)
    _academy(2, name="Small")
    _get(client, DASHBOARD)
    _response, small = _get(client, DASHBOARD)
    _academy(30, name="Large")  # the metrics job moves the generation on
    _get(client, DASHBOARD)
    response, large = _get(client, DASHBOARD)

    assert response.context["cached"] is True
    assert "Large" in response.content.decode()
    assert small == large
    assert large <= 12


def test_the_metrics_job_moves_the_generation_on_so_new_figures_show(client_for, head):
    cohort = _academy(3)
    client = client_for(head)
    before = client.get(DASHBOARD).content.decode()
    assert "Cohort dashboard" in before
    generation = dashboard_generation.current_generation()

    for _ in range(4):
        factories.EnrolmentFactory(cohort=cohort)
    recompute_metrics()

    assert dashboard_generation.current_generation() == generation + 1
    response = client.get(DASHBOARD)
    assert response.context["cached"] is False
    assert response.context["summary"]["overall"]["enrolled"] == 7


@pytest.mark.django_db(transaction=True)
def test_saving_a_team_moves_the_generation_on_once_after_the_commit(client_for):
    """Real commits: two saves in one transaction bump once; a rolled-back transaction bumps nothing.

    Services say what they changed (``academy.changes.records_changed``), as the team pages do.
    """
    head, lead = factories.HeadOfDataFactory(), factories.LeadFactory()
    _academy()
    client = client_for(head)
    assert "Procurement" not in client.get(TEAMS).content.decode()
    generation = dashboard_generation.current_generation()

    with pytest.raises(RuntimeError), transaction.atomic():
        Team.objects.create(name="Never saved")
        records_changed()
        raise RuntimeError("roll back")
    assert dashboard_generation.current_generation() == generation
    with transaction.atomic():
        Team.objects.create(name="Procurement")
        records_changed()
        Team.objects.create(name="Legal")
        records_changed()
        assert dashboard_generation.current_generation() == generation  # nothing before the commit

    assert dashboard_generation.current_generation() == generation + 1
    page = client.get(TEAMS).content.decode()
    assert "Procurement" in page and "Legal" in page and "Never saved" not in page

    # The team page's own save, committed, moves it on once more.
    response = client_for(lead).post(reverse("teams:create"), {"name": "Customer insight"})
    assert response.status_code == 302 and Team.objects.filter(name="Customer insight").exists()
    assert dashboard_generation.current_generation() == generation + 2


def test_signing_in_and_bulk_loads_do_not_move_the_generation_on(client, head, django_capture_on_commit_callbacks):
    generation = dashboard_generation.current_generation()
    head.set_password("a long enough password 1")
    head.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client.login(email=head.email, password="a long enough password 1")  # saves last_login only
        Team.objects.create(name="Loaded in bulk")  # a bulk loader says nothing per row
    assert callbacks == []
    assert dashboard_generation.current_generation() == generation


def test_filtered_pages_are_never_cached(client_for, head):
    cohort = _academy(3)
    client = client_for(head)
    url = f"{DASHBOARD}?cohort={cohort.pk}"
    first = client.get(url)
    factories.EnrolmentFactory(cohort=cohort)  # no metrics run: a cached page would not show it
    second = client.get(url)

    assert first.context["cached"] is False and second.context["cached"] is False
    assert first.context["summary"]["overall"]["enrolled"] == 3
    assert second.context["summary"]["overall"]["enrolled"] == 4
    assert "Computed just now from the current records" in second.content.decode()


def test_each_reader_gets_the_body_for_their_permissions(client_for, lead, head):
    """Leads see "Recompute now" in the empty state; a head of data served afterwards does not."""
    lead_page = client_for(lead).get(DASHBOARD).content.decode()
    head_page = client_for(head).get(DASHBOARD).content.decode()
    again = client_for(lead).get(DASHBOARD)

    assert 'use "Recompute now" above' in lead_page
    assert 'use "Recompute now" above' not in head_page
    assert "Ask an apprenticeship lead to recompute the metrics" in head_page
    assert again.context["cached"] is True and 'use "Recompute now" above' in again.content.decode()


def test_a_live_page_from_the_cache_says_when_it_was_computed(client_for, head):
    _academy()
    client = client_for(head)
    client.get(TRENDS)
    page = client.get(TRENDS).content.decode()

    assert "Computed just now" not in page
    assert "from the current records (computed again after every change and nightly)" in page


def test_malformed_page_numbers_are_served_but_not_cached(client_for, head):
    _academy()
    client = client_for(head)
    for page in ("abc", "99999999999"):
        response = client.get(f"{DASHBOARD}?page={page}")
        assert response.status_code == 200
        assert response.context["cached"] is False
    assert client.get(f"{DASHBOARD}?page=abc").context["cached"] is False


@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}}
)
def test_a_cache_outage_still_serves_the_page(client_for, head):
    """Nothing listens on port 9: every cache read and write fails, and the page is built each time."""
    _academy()
    client = client_for(head)
    for _ in range(2):
        response = client.get(DASHBOARD)
        assert response.status_code == 200
        assert response.context["cached"] is False
        assert "Data cohort 2024" in response.content.decode()


def test_an_address_with_anything_but_page_numbers_is_built_not_cached(client_for, lead):
    """A recompute's ``?run=`` must not end up in the cached body's links for other readers."""
    _academy()
    client = client_for(lead)
    with_run = client.get(f"{DASHBOARD}?run=abc123")
    blank_filters = client.get(f"{DASHBOARD}?standard=&cohort=&page=1")
    again = client.get(f"{DASHBOARD}?standard=&cohort=&page=1")

    assert with_run.context["cached"] is False
    assert blank_filters.context["cached"] is False and again.context["cached"] is True


# --- Teams and coaches: 50 a page, so the page does not grow with the academy ------------------


def _teams_taking_part(n: int, cohort):
    for i in range(n):
        team = factories.TeamFactory(name=f"Team {i:03d}")
        factories.EnrolmentFactory(cohort=cohort, learner=factories.LearnerFactory(team=team))


def test_the_teams_page_lists_fifty_teams_a_page(client_for, head):
    cohort = factories.CohortFactory(name="Big intake")
    _teams_taking_part(60, cohort)
    recompute_metrics()
    client = client_for(head)

    first = client.get(TEAMS)
    second = client.get(f"{TEAMS}?page=2")

    assert [row["label"] for row in first.context["team_rows"]] == [f"Team {i:03d}" for i in range(50)]
    assert [row["label"] for row in second.context["team_rows"]] == [f"Team {i:03d}" for i in range(50, 60)]
    page = first.content.decode()
    assert "60 of 60 teams take part. Showing teams 1 to 50." in page
    assert 'href="?page=2"' in page


def test_the_coaching_page_lists_fifty_coaches_a_page_with_its_own_page_number(client_for, head):
    cohort = factories.CohortFactory(name="Big intake")
    for i in range(55):
        coach = factories.CoachFactory(full_name=f"Coach {i:03d}", email=f"coach{i:03d}@example.org")
        factories.EnrolmentFactory(cohort=cohort, coach=coach)
    recompute_metrics()
    client = client_for(head)

    first = client.get(COACHING)
    second = client.get(f"{COACHING}?coach_page=2")

    assert [row["label"] for row in first.context["coach_rows"]] == [f"Coach {i:03d}" for i in range(50)]
    assert [row["label"] for row in second.context["coach_rows"]] == [f"Coach {i:03d}" for i in range(50, 55)]
    assert second.context["cached"] is False  # another page: its own cache entry
    assert "Showing coaches 1 to 50 of 55, by name." in first.content.decode()
    assert 'href="?coach_page=2"' in first.content.decode()
    assert [row["label"] for row in second.context["cohort_rows"]] == ["Big intake"]


def test_a_database_with_the_same_generation_number_from_another_bump_reads_no_cached_page(client_for, head):
    """As after restoring a backup: the number is reused but the time of its bump differs."""
    import datetime as dt

    from academy.models import DashboardGeneration

    _academy()
    client = client_for(head)
    client.get(DASHBOARD)
    assert client.get(DASHBOARD).context["cached"] is True
    DashboardGeneration.objects.filter(pk=1).update(changed_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))

    assert client.get(DASHBOARD).context["cached"] is False
