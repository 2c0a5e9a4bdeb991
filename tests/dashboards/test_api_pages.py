"""The API's own pages: /api/ says how to sign in and links the schema and the explorer; Downloads is in the menu."""
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_api_page_links_the_token_the_endpoints_the_schema_and_the_explorer(client_for, head):
    """Was: /api/ a 404 and the schema only a download."""
    body = client_for(head).get("/api/").content.decode()
    for url in ("/api/token/", "/api/cohorts/", "/api/enrolments/", "/api/results/", "/api/metrics/",
                "/api/docs/", "/api/schema/?format=json"):
        assert f'href="{url}"' in body, url
    assert "named by a pseudonym" in body  # a head of data's token never reads identities


def test_the_explorer_loads_the_vendored_swagger_ui_on_the_json_schema(client_for, lead):
    body = client_for(lead).get(reverse("api:docs")).content.decode()
    assert 'data-schema-url="/api/schema/?format=json"' in body
    assert "vendor/swagger-ui/swagger-ui-bundle" in body and "js/api-docs" in body
    schema = client_for(lead).get("/api/schema/?format=json")
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "Academy read-only API"


@pytest.mark.parametrize(("role", "shown"), [("lead", True), ("head", True), ("coach", False)])
def test_downloads_are_in_the_menu_of_those_who_may_download(client_for, lead, head, coach, role, shown):
    user = {"lead": lead, "head": head, "coach": coach}[role]
    page = client_for(user).get("/", follow=True)
    items = {item.label: item.url for item in page.context["nav_items"]}
    assert (items.get("Downloads") == "/dashboard/exports/") is shown
