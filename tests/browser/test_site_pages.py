"""Pages every journey passes through: each role's navigation, page titles, the favicon, 404 and 500.

- Each section in a lead's navigation opens a page with its own descriptive title, the
  same navigation (in the same order) marking that section as current, no axe-core
  violations and no console errors.
- ``/favicon.ico``, which browsers ask for whatever the page says, redirects (301) to
  the SVG icon.
- The 404 and 500 pages are in the site's style (GOV.UK header, Arial, footer) and pass axe.
"""
from django.test import RequestFactory
from django.views.defaults import server_error

LEAD_NAV = ["Learners", "Cohorts", "Enrolments", "Teams", "Learners at risk", "Signatures", "Dashboard", "Impact", "Downloads",
            "Import"]


def _nav(v):
    return v.page.locator("nav[aria-label=Menu] a").all_inner_texts()


def test_each_section_of_the_leads_navigation_has_its_own_title_and_passes_axe(visitor, demo):
    v = visitor()
    v.sign_in("lead@example.org")
    titles = {}
    for label in LEAD_NAV:
        v.page.locator("nav[aria-label=Menu]").get_by_role("link", name=label, exact=True).click()
        v.page.wait_for_load_state("networkidle")
        assert _nav(v)[: len(LEAD_NAV)] == LEAD_NAV, label
        assert v.page.locator("nav[aria-label=Menu] [aria-current=page]").inner_text() == label
        title = v.page.title()
        assert title.endswith(" – Academy") and title != "Academy", title
        assert v.page.locator("h1").count() == 1, label
        titles[label] = title
        assert v.axe_violations() == [], label
    assert len(set(titles.values())) == len(titles), titles
    for label in ("Cohorts", "Teams", "Learners at risk"):
        v.page.locator("nav[aria-label=Menu]").get_by_role("link", name=label, exact=True).click()
        v.page.wait_for_load_state("networkidle")
        v.screenshot(label.lower().replace(" ", "-"))
    assert v.console_errors == []


def test_the_favicon_address_browsers_ask_for_redirects_to_the_svg_icon(visitor):
    v = visitor()
    response = v.page.request.get(v.base_url + "/favicon.ico", max_redirects=0)
    assert response.status == 301
    assert response.headers["location"] == "/static/images/favicon.svg"
    icon = v.page.request.get(v.base_url + "/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in icon.body()


def _styled(v):
    """True when the GOV.UK styles applied: Arial body text and the black header."""
    return v.page.evaluate(
        """() => getComputedStyle(document.body).fontFamily.includes('Arial')
              && getComputedStyle(document.querySelector('.govuk-header')).backgroundColor === 'rgb(11, 12, 12)'"""
    )


def test_the_404_and_500_pages_are_in_the_sites_style_and_accessible(visitor, demo):
    v = visitor()
    v.sign_in("lead@example.org")
    response = v.go("/learners/999999/")
    assert response.status == 404
    assert v.page.title() == "Page not found – Academy"
    assert v.page.locator("h1").inner_text() == "Page not found"
    assert "Learners" in _nav(v)  # still signed in, with the navigation
    assert _styled(v)
    assert v.axe_violations() == []
    v.screenshot("404")

    # The 500 page is rendered by Django's handler with no request context; serve exactly
    # what it returns at an address of the live server, so its styles load from there.
    page = server_error(RequestFactory().get("/"))
    assert page.status_code == 500
    v.page.context.route(  # the context, so the mobile screenshot's tab gets it too
        v.base_url + "/broken-page/",
        lambda route: route.fulfill(status=500, body=page.content, content_type="text/html; charset=utf-8"),
    )
    response = v.go("/broken-page/")
    assert response.status == 500
    assert v.page.title() == "Sorry, there is a problem with the service – Academy"
    assert _styled(v)
    assert v.axe_violations() == []
    v.screenshot("500")
    # The browser reports each error status on the console; nothing else may appear there.
    assert [e for e in v.console_errors if "the server responded with a status of" not in e] == []


# Each role's main pages; "{learner}", "{cohort}", "{enrolment}", "{team}" are filled from the demo.
PHONE_PAGES = {
    "lead@example.org": [
        "/learners/", "/learners/{learner}/", "/learners/new/", "/cohorts/", "/cohorts/{cohort}/", "/enrolments/",
        "/enrolments/{enrolment}/", "/enrolments/new/", "/teams/", "/teams/{team}/", "/coach/risk/", "/dashboard/",
        "/dashboard/benchmarks-by-standard/", "/dashboard/trends/", "/dashboard/teams/", "/dashboard/coaching/",
        "/dashboard/benchmarks/", "/impact/", "/imports/", "/dashboard/exports/", "/dashboard/exports/board-report/",
        "/api/", "/api/token/",
    ],
    "coach@example.org": ["/coach/", "/learners/", "/learners/{learner}/", "/enrolments/", "/coach/enrolments/{enrolment}/"],
    "head@example.org": ["/dashboard/", "/dashboard/teams/", "/coach/risk/", "/impact/", "/dashboard/exports/"],
    "learner@example.org": ["/my/"],
    "manager@example.org": ["/my/apprentices/", "/my/apprentices/{managed}/"],
}


def test_no_main_page_of_any_role_is_wider_than_a_390_px_phone(visitor, demo):
    """Was: list pages 405–706 px wide at 390 px; wide tables now scroll sideways in their own box."""
    from cohorts.models import Enrolment

    enrolment = Enrolment.objects.filter(coach__email="coach@example.org").select_related("learner").first()
    from learners.models import Learner

    ids = {"learner": enrolment.learner_id, "cohort": enrolment.cohort_id, "enrolment": enrolment.pk,
           "team": enrolment.learner.team_id,
           "managed": Learner.objects.filter(line_manager__email="manager@example.org").values_list("pk", flat=True)[0]}
    too_wide = []
    for email, paths in PHONE_PAGES.items():
        v = visitor()
        v.page.set_viewport_size({"width": 390, "height": 844})
        v.sign_in(email)
        for path in paths:
            url = path.format(**ids)
            response = v.page.goto(v.base_url + url)
            v.page.wait_for_load_state("networkidle")
            assert response.status == 200, (email, url)
            width = v.page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                too_wide.append((email, url, width))
        assert v.console_errors == [], email
    assert too_wide == []
