"""Fuzzing the forms with hypothesis: no input gives a server error or a partial write.

Each form page is fetched as a role allowed to use it; its ``<form method="post">`` fields
(inputs, selects, text areas, with the choices offered) are read from the HTML, and
hypothesis posts arbitrary values for them: any text (NUL characters, markup, 2,000
characters), numbers out of range, impossible dates, the offered choices and made-up
ones, missing fields. Every response must be a page (200/400/403/404/409) or a redirect
after success (302), never a 500 or an exception, and when the form is refused (not a
redirect) no row of any Academy table changed. The dashboard's filter form is fuzzed the
same way through GET, and must write nothing.

Examples run one after another in the same test database (accepted posts accumulate,
which also fuzzes uniqueness). ``max_examples`` keeps the file well under a minute.
"""
from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

MAX_EXAMPLES = 40
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI is reproducible
)
ALLOWED_STATUS = {200, 302, 400, 403, 404, 409}
APPS = ("academy", "cohorts", "learners", "outcomes")
# Reads of a learner's page are audited; the audit log is not a "write" of the form.
NOT_COUNTED = {"academy.auditevent"}


class FormFields(HTMLParser):
    """Collect the fields of every ``<form>`` on a page: ``[{"method", "action", "fields": {name: [options]}}]``."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(), "action": a.get("action") or "",
                               "fields": {}})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "image"):
            options = fields.setdefault(name, [])
            if a.get("type") in ("checkbox", "radio", "hidden"):
                options.append(a.get("value", "on"))
        elif tag in ("textarea",) and name:
            fields.setdefault(name, [])
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, [])
        elif tag == "option" and self._select:
            fields[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def page_form(client, url: str, method: str = "post") -> dict[str, list[str]]:
    """Return the fields of the page's main form of ``method`` (the one posting to the page itself)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = FormFields()
    parser.feed(response.content.decode())
    forms = [f for f in parser.forms if f["method"] == method and f["action"] in ("", url, ".", "?")]
    assert forms, f"no {method} form on {url}"
    fields = max(forms, key=lambda f: len(f["fields"]))["fields"]
    fields.pop("csrfmiddlewaretoken", None)
    return fields


ODD_TEXT = st.sampled_from([
    "", " ", "0", "-1", "1e309", "NaN", "inf", "99999999999999999999", "1.2.3", "£1,000", "29/02/2025",
    "31/12/9999", "00/00/0000", "2026-11-29", "1/1/1", "\x00", "<script>alert(1)</script>", "'; DROP TABLE x; --",
    "a" * 2000, "Ã©", "\u202e", "null", "[]", "{}",
])
DATE_TEXT = st.builds(lambda d, m, y: f"{d}/{m}/{y}", st.integers(-1, 40), st.integers(-1, 14), st.integers(0, 10000))
NUMBER_TEXT = st.one_of(st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(str))
ANY_TEXT = st.one_of(st.text(max_size=80), ODD_TEXT, DATE_TEXT, NUMBER_TEXT)


@st.composite
def form_data(draw, fields: dict[str, list[str]]):
    """Draw a POST body for ``fields``: each field offered, made up, or left out."""
    data = {}
    for name, options in fields.items():
        choices = [st.just(None), ANY_TEXT]
        if options:
            choices.insert(0, st.sampled_from(options))
            choices.insert(0, st.sampled_from(options))  # offered values twice as often: reach deeper checks
        value = draw(st.one_of(*choices))
        if value is not None:
            data[name] = value
    return data


def row_counts() -> dict[str, int]:
    """Return the number of rows of every model of Academy's apps (history tables included)."""
    counts = {}
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.label_lower not in NOT_COUNTED:
                counts[model._meta.label_lower] = model.objects.count()
    return counts


def check_post(client, url: str, data: dict) -> None:
    """POST ``data``; assert no server error, and no write at all unless it redirected (success)."""
    before = row_counts()
    response = client.post(url, data)
    assert response.status_code in ALLOWED_STATUS, (url, data, response.status_code)
    if response.status_code != 302:
        assert row_counts() == before, f"refused form {url} wrote rows: {data!r}"


@pytest.fixture
def world(db, coach, lead, head):
    """An active enrolment coached by ``coach`` with one coaching session, in a cohort of ST0118."""
    standard = factories.StandardFactory(reference="ST0118", lars_code=80, level=4)
    cohort = factories.CohortFactory(standard=standard, start_date=dt.date(2025, 9, 1))
    enrolment = factories.EnrolmentFactory(cohort=cohort, coach=coach, start_date=dt.date(2025, 9, 1))
    session = factories.CoachingSessionFactory(enrolment=enrolment)
    at_epa = factories.EnrolmentFactory(cohort=cohort, coach=coach, start_date=dt.date(2024, 9, 1),
                                        status="end_point_assessment")
    with_result = factories.EnrolmentFactory(cohort=cohort, coach=coach, start_date=dt.date(2024, 9, 1),
                                             status="end_point_assessment")
    factories.AssessmentResultFactory(enrolment=with_result, grade="merit", date=dt.date(2026, 7, 1))
    factories.NationalBenchmarkFactory()
    return {"enrolment": enrolment, "learner": enrolment.learner, "cohort": cohort, "session": session,
            "at_epa": at_epa, "with_result": with_result}


# (url name, role, kwargs from the world)
POST_FORMS = [
    ("learners:create", "lead", {}),
    ("learners:edit", "lead", {"pk": "learner"}),
    ("enrolments:create", "lead", {}),
    ("enrolments:edit", "lead", {"pk": "enrolment"}),
    ("enrolments:start_break", "lead", {"pk": "enrolment"}),
    ("enrolments:move_to_gateway", "lead", {"pk": "enrolment"}),
    ("enrolments:record_result", "lead", {"pk": "at_epa"}),
    ("enrolments:complete", "lead", {"pk": "with_result"}),
    ("enrolments:withdraw", "lead", {"pk": "enrolment"}),
    ("cohorts:create", "lead", {}),
    ("coach:session_create", "coach", {"enrolment_pk": "enrolment"}),
    ("coach:session_edit", "coach", {"session_pk": "session"}),
    ("coach:review_create", "coach", {"enrolment_pk": "enrolment"}),
    ("coach:activity_create", "coach", {"enrolment_pk": "enrolment"}),
    ("outcomes:benchmark_create", "lead", {}),
    ("impact:create", "lead", {}),
]


@pytest.mark.parametrize(("url_name", "role", "kwargs"), POST_FORMS, ids=[f[0] for f in POST_FORMS])
def test_no_input_to_a_form_gives_a_server_error_or_a_partial_write(request, client_for, world, url_name, role,
                                                                     kwargs):
    """Arbitrary values in every field of the form: a page or a redirect, and a refused form writes nothing."""
    user = request.getfixturevalue(role)
    client = client_for(user)
    url = reverse(url_name, kwargs={key: world[value].pk for key, value in kwargs.items()})
    fields = page_form(client, url)
    assert fields, f"{url} has no fields"

    @FUZZ_SETTINGS
    @given(data=form_data(fields))
    def fuzz(data):
        check_post(client, url, data)

    fuzz()


def test_the_dashboard_filters_accept_any_query_without_error_or_write(client_for, world, head):
    """Arbitrary dashboard filter values (GET): a page, never a 500, and nothing written."""
    client = client_for(head)
    url = reverse("outcomes:dashboard")
    fields = page_form(client, url, method="get")
    assert fields, "the dashboard has no filter form"
    before = row_counts()

    @FUZZ_SETTINGS
    @given(data=form_data(fields))
    def fuzz(data):
        response = client.get(url, data)
        assert response.status_code in {200, 400}, (data, response.status_code)

    fuzz()
    assert row_counts() == before
