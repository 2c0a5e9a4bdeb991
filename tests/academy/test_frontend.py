"""The front-end foundation: GOV.UK page template, forms, allauth pages, error pages, learner pages."""
import datetime as dt
import re
from pathlib import Path

import pytest
from django import forms
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from academy.pages import PAGE_SIZE
from cohorts.models import AssessmentResult, Enrolment
from tests import factories


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    """allauth counts failed sign-ins in the cache; start every test with none."""
    cache.clear()


def _static_references(html):
    """Return the paths under STATIC_URL that ``html`` links or loads (href/src attributes)."""
    return re.findall(r'(?:href|src)="/static/([^"]+)"', html)


# --- Sign-in and other allauth pages --------------------------------------------------


def test_it_renders_the_sign_in_page_in_govuk_markup_without_a_sign_up_link(client):
    """The sign-in page has GOV.UK inputs and button, offers a password reset and no sign-up."""
    response = client.get(reverse("account_login"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Sign in – Academy</title>" in html
    assert '<h1 class="govuk-heading-l">Sign in</h1>' in html
    assert 'class="govuk-input" id="id_login"' in html
    assert 'class="govuk-input" id="id_password"' in html
    assert 'class="govuk-button"' in html
    assert f'href="{reverse("account_reset_password")}">Forgot your password?</a>' in html
    assert reverse("account_signup") not in html
    assert "sign up" not in html.lower()
    assert "placeholder" not in html


def test_it_shows_the_govuk_error_summary_after_a_bad_sign_in(client, lead):
    """A wrong password gives the error summary with allauth's message, and no session."""
    response = client.post(reverse("account_login"), {"login": lead.email, "password": "not-the-password"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="govuk-error-summary"' in html
    assert "There is a problem" in html
    assert "The email address and/or password you specified are not correct." in html
    assert "_auth_user_id" not in client.session


def test_it_links_each_field_error_in_the_summary_to_its_input(client):
    """An empty sign-in links the summary to both inputs and marks them as errors."""
    response = client.post(reverse("account_login"), {"login": "", "password": ""})

    html = response.content.decode()
    assert '<a href="#id_login">This field is required.</a>' in html
    assert '<a href="#id_password">This field is required.</a>' in html
    assert 'class="govuk-input govuk-input--error" id="id_login"' in html
    assert 'aria-describedby="id_login_error"' in html
    assert '<p class="govuk-error-message" id="id_login_error">' in html


def test_it_signs_in_and_shows_the_success_message_as_a_banner(client, coach):
    """A good sign-in lands a coach on their own page ("My learners") with a GOV.UK success banner."""
    response = client.post(
        reverse("account_login"), {"login": coach.email, "password": "correct-horse-battery"}, follow=True
    )

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("coach:home")  # coaches land on their own page
    assert "govuk-notification-banner--success" in html
    assert "Successfully signed in as Bob Coach." in html


def test_it_renders_the_password_reset_and_sign_out_pages_in_govuk_markup(client, lead):
    """Password reset (signed out) and the sign-out confirmation use GOV.UK headings and buttons."""
    reset = client.get(reverse("account_reset_password")).content.decode()
    assert '<h1 class="govuk-heading-l">Reset your password</h1>' in reset
    assert 'class="govuk-input" id="id_email"' in reset

    client.force_login(lead)
    sign_out = client.get(reverse("account_logout")).content.decode()
    assert '<h1 class="govuk-heading-l">Sign out</h1>' in sign_out
    assert ">Sign out</button>" in sign_out


# --- The page template ------------------------------------------------------------------


def test_it_shows_the_user_their_role_navigation_and_a_sign_out_form(client_for, lead):
    """The header names the user and role; the service navigation marks the current page."""
    client = client_for(lead)

    html = client.get(reverse("learners:list")).content.decode()

    assert '<html lang="en-GB" class="govuk-template">' in html
    assert '<body class="govuk-template__body"' in html
    assert '<a href="#main-content" class="govuk-skip-link"' in html
    assert '<span class="academy-header__user-name">Alice Lead</span>' in html
    assert '<span class="academy-header__user-role">Apprenticeship lead</span>' in html
    assert f'<form method="post" action="{reverse("account_logout")}"' in html
    assert f'href="{reverse("learners:list")}" aria-current="page">' in html
    assert f'href="{reverse("outcomes:dashboard")}">' in html
    assert "<script>" not in html
    assert "style=" not in html


def test_it_marks_the_section_as_current_on_a_page_inside_it(client_for, lead):
    """On a learner's page, "Learners" is the current section (aria-current="true")."""
    learner = factories.LearnerFactory()

    html = client_for(lead).get(learner.get_absolute_url()).content.decode()

    assert f'href="{reverse("learners:list")}" aria-current="true">' in html


def test_it_offers_a_coach_no_dashboard_link(client_for, coach):
    html = client_for(coach).get(reverse("learners:list")).content.decode()

    assert reverse("learners:list") in html
    assert reverse("outcomes:dashboard") not in html


def test_it_finds_every_static_file_the_base_template_loads(client):
    """Each CSS, JS and icon base.html references exists, and the module's import resolves."""
    html = client.get(reverse("account_login")).content.decode()
    references = _static_references(html)

    assert set(references) >= {
        "vendor/govuk-frontend/govuk-frontend.min.css",
        "css/academy.css",
        "js/init-govuk.js",
        "vendor/htmx/htmx.min.js",
        "images/favicon.svg",
    }
    for path in references:
        assert finders.find(path), path
    init_js = Path(finders.find("js/init-govuk.js")).read_text()
    (imported,) = re.findall(r'from "\.\./([^"]+)"', init_js)
    assert imported == "vendor/govuk-frontend/govuk-frontend.min.js"
    assert finders.find(imported)


def test_it_keeps_the_licence_beside_each_vendored_package():
    for path in (
        "vendor/govuk-frontend/LICENSE.txt",
        "vendor/htmx/LICENSE",
        "vendor/plotly/LICENSE.txt",
        "vendor/plotly/plotly.min.js",
        "vendor/axe-core/LICENSE",
        "vendor/axe-core/axe.min.js",
        "vendor/README.md",
    ):
        assert finders.find(path), path


# --- Error pages --------------------------------------------------------------------------


def test_it_renders_the_404_page_in_the_page_template(client, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "<title>Page not found – Academy</title>" in html
    assert 'class="govuk-template__body"' in html
    assert 'class="govuk-header academy-header"' in html
    assert "/static/css/academy.css" in html


def test_it_renders_the_403_page_for_a_role_without_access(client_for, head):
    """A head of data has no learner pages: 403 in the page template."""
    response = client_for(head).get(reverse("learners:list"))

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


def test_it_renders_the_500_page_without_a_request_context():
    """Django's server_error renders 500.html with an empty context; it still has the styles."""
    response = server_error(RequestFactory().get("/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html
    assert "/static/vendor/govuk-frontend/govuk-frontend.min.css" in html
    for path in _static_references(html):
        assert finders.find(path), path


# --- Learner pages ------------------------------------------------------------------------


def test_it_lists_learners_for_a_lead(client_for, lead, django_assert_num_queries):
    learner = factories.LearnerFactory(
        first_name="Priya", last_name="Shah", employee_number="E123456", team=factories.TeamFactory(name="Revenues")
    )
    client = client_for(lead)

    # Queries: session, user, count of learners, one page of learners joined to their teams,
    # then the session saved again (SESSION_SAVE_EVERY_REQUEST: savepoint, update, release).
    # The lead's workspace adds: the filter choices (teams, standards, cohorts, coaches),
    # the prefetch of the page's enrolments with cohorts, and the user's and groups' model
    # permissions (leads are staff: one has_perm answered False by rules falls through to
    # academy.auth_backends.StaffModelBackend, which reads them once; cached).
    with django_assert_num_queries(14):
        response = client.get(reverse("learners:list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<a class="govuk-link" href="{learner.get_absolute_url()}">Priya Shah</a>' in html
    assert "E123456" in html
    assert learner.uln in html
    assert "Revenues" in html
    assert 'class="govuk-table"' in html
    assert "govuk-pagination" not in html


def test_it_paginates_more_than_a_page_of_learners(client_for, lead):
    factories.LearnerFactory.create_batch(PAGE_SIZE, last_name="Adams")
    last = factories.LearnerFactory(first_name="Zed", last_name="Zimmerman")
    client = client_for(lead)

    first_page = client.get(reverse("learners:list")).content.decode()
    second_page = client.get(reverse("learners:list"), {"page": 2}).content.decode()

    assert '<nav class="govuk-pagination" aria-label="Pagination">' in first_page
    assert 'href="?page=2" rel="next"' in first_page
    assert "Zed Zimmerman" not in first_page
    assert last.full_name in second_page
    assert 'aria-label="Page 2" aria-current="page"' in second_page


def test_it_keeps_the_search_in_the_pagination_links(client_for, lead):
    factories.LearnerFactory.create_batch(PAGE_SIZE + 1, last_name="Smith")

    html = client_for(lead).get(reverse("learners:list"), {"q": "Smith"}).content.decode()

    assert 'href="?q=Smith&amp;page=2" rel="next"' in html
    assert 'value="Smith"' in html


def test_it_says_when_no_learner_matches_and_when_there_are_none(client_for, lead):
    client = client_for(lead)

    assert "No learners yet." in client.get(reverse("learners:list")).content.decode()
    factories.LearnerFactory(last_name="Shah")
    assert "No learners match “Jones”." in client.get(reverse("learners:list"), {"q": "Jones"}).content.decode()


def test_it_shows_a_learner_with_enrolments_coaching_and_epa_results(client_for, lead, coach):
    learner = factories.LearnerFactory(
        first_name="Priya", last_name="Shah", line_manager_name="Sam Manager", line_manager_email="sam@example.org"
    )
    standard = factories.StandardFactory(title="Data analyst", level=4, reference="ST0118")
    enrolment = factories.EnrolmentFactory(
        learner=learner,
        coach=coach,
        cohort=factories.CohortFactory(name="Data Analyst L4 — January 2024", standard=standard),
        start_date=dt.date(2024, 1, 8),
        planned_end_date=dt.date(2025, 7, 31),
        status=Enrolment.Status.END_POINT_ASSESSMENT,
    )
    factories.CoachingSessionFactory(enrolment=enrolment, date=dt.date(2024, 2, 1))
    factories.CoachingSessionFactory(enrolment=enrolment, date=dt.date(2024, 3, 14))
    factories.CoachingSessionFactory(enrolment=enrolment, date=dt.date(2024, 1, 20), attendance="cancelled", otj_hours=0)
    factories.AssessmentResultFactory(
        enrolment=enrolment, grade=AssessmentResult.Grade.MERIT, date=dt.date(2025, 7, 21), attempt=1
    )

    response = client_for(lead).get(learner.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Priya Shah – Learners – Academy</title>" in html
    assert '<h1 class="govuk-heading-l">Priya Shah</h1>' in html
    assert 'class="govuk-breadcrumbs"' in html
    assert "Sam Manager" in html
    assert "Data Analyst L4 — January 2024" in html
    assert "Data analyst (level 4, ST0118)" in html
    assert "Bob Coach" in html
    assert "8 January 2024" in html
    assert "31 July 2025" in html
    assert '<strong class="govuk-tag govuk-tag--turquoise">End-point assessment</strong>' in html
    assert "400 hours" in html
    assert re.search(r"Coaching sessions attended</dt>\s*<dd[^>]*>2</dd>", html)
    assert re.search(r"Last coaching session</dt>\s*<dd[^>]*>14 March 2024</dd>", html)
    assert "<strong>Merit</strong>, 21 July 2025 (attempt 1)" in html


def test_it_hides_another_coachs_learner(client_for, coach, other_coach):
    """A coach opening a learner they do not coach gets the 404 page."""
    enrolment = factories.EnrolmentFactory(coach=other_coach)

    response = client_for(coach).get(enrolment.learner.get_absolute_url())

    assert response.status_code == 404


# --- Form rendering -----------------------------------------------------------------------


class _ExampleForm(forms.Form):
    start_date = forms.DateField()
    mode = forms.ChoiceField(choices=[("video", "Video call"), ("phone", "Phone")], widget=forms.RadioSelect)
    level = forms.ChoiceField(choices=[("4", "Level 4"), ("5", "Level 5")])
    notes = forms.CharField(widget=forms.Textarea, required=False, help_text="What was discussed.")


def test_it_renders_a_date_field_as_a_govuk_text_input_taking_uk_dates():
    form = _ExampleForm(data={"start_date": "29/11/2026", "mode": "video", "level": "4"})

    html = form["start_date"].as_field_group()

    assert form.is_valid()
    assert form.cleaned_data["start_date"] == dt.date(2026, 11, 29)
    assert 'class="govuk-input govuk-input--width-10"' in html
    assert '<div class="govuk-hint" id="id_start_date_helptext">For example, 27/03/2026</div>' in html
    assert 'aria-describedby="id_start_date_helptext"' in html


def test_it_marks_errors_on_inputs_selects_and_radios():
    form = _ExampleForm(data={"start_date": "31/02/2026", "notes": "x"})

    html = form.render()

    assert form.is_valid() is False
    assert '<a href="#id_start_date">Enter a valid date.</a>' in html
    assert '<a href="#id_mode_0">This field is required.</a>' in html
    assert "govuk-input govuk-input--width-10 govuk-input--error" in html
    assert 'class="govuk-select govuk-select--error"' in html
    assert '<div class="govuk-radios" data-module="govuk-radios">' in html
    assert 'class="govuk-radios__input"' in html
    assert '<label class="govuk-label govuk-radios__label" for="id_mode_0">Video call</label>' in html
    assert 'class="govuk-textarea"' in html
    assert "Notes (optional)" in html
    assert html.count("govuk-form-group--error") == 3


def test_the_vendored_stylesheet_asks_for_no_font_file_we_do_not_ship():
    """GOV.UK Frontend's GDS Transport faces (/assets/fonts/) are deleted (static/vendor/README.md):
    browsers fetched them now and then, a 404 in the console."""
    from django.conf import settings

    css = (settings.BASE_DIR / "static/vendor/govuk-frontend/govuk-frontend.min.css").read_text()
    assert "/assets/fonts/" not in css and "@font-face" not in css
