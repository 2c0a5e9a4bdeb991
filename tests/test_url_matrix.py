"""Authorisation matrix: every URL pattern of the project, for every role.

The walk collects every named URL pattern outside the admin and allauth (those two are
third-party, with their own checks, and are covered by ``test_admin.py`` and the
sign-in tests). Each must have a row in ``EXPECTED``, so a new page without a rule
fails this suite until someone decides who may see it.
"""
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import factories

pytestmark = pytest.mark.django_db

SIGN_IN = 302  # anonymous users are sent to sign-in
ROLES = ("anonymous", "coach", "other_coach", "lead", "head")

# name -> expected status per role, for GET. ``other_coach`` is a coach who does not coach
# the learner in the URL: 404, so other learners' existence is not disclosed.
EXPECTED = {
    "home": {"anonymous": SIGN_IN, "coach": 302, "other_coach": 302, "lead": 302, "head": 302},
    "learners:list": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 200, "lead": 200, "head": 403},
    "learners:detail": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "outcomes:dashboard": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:export_csv": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:benchmark_list": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:benchmark_create": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "outcomes:recompute": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 405, "head": 403},
}
# URL names whose GET is not a page (POST-only actions): expected 405 for roles allowed to POST.
SKIP_NAMESPACES = {"admin"}


def _walk(resolver, namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in SKIP_NAMESPACES or "allauth" in str(getattr(entry, "urlconf_name", "")):
                continue
            yield from _walk(entry, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def project_url_names():
    return sorted({name for name, _ in _walk(get_resolver())})


def test_every_url_has_a_rule():
    missing = [name for name in project_url_names() if name not in EXPECTED]
    assert missing == [], f"add these URL names to EXPECTED with the status each role gets: {missing}"


@pytest.fixture
def world(coach, other_coach, lead, head):
    """A learner coached by ``coach`` (not by ``other_coach``), with a cohort and a result."""
    enrolment = factories.EnrolmentFactory(coach=coach)
    return {"learner": enrolment.learner, "enrolment": enrolment, "cohort": enrolment.cohort,
            "users": {"coach": coach, "other_coach": other_coach, "lead": lead, "head": head, "anonymous": None}}


def _kwargs_for(name, pattern, world):
    keys = set(pattern.pattern.converters)
    if not keys:
        return {}
    target = {"learners": world["learner"], "cohorts": world["cohort"], "outcomes": world["cohort"]}
    obj = target.get(name.split(":")[0], world["learner"])
    return {key: obj.pk for key in keys}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status(client_for, world, role):
    patterns = dict(_walk(get_resolver()))
    client = client_for(world["users"][role])
    seen = {}
    for name, pattern in patterns.items():
        if name not in EXPECTED:
            continue
        url = reverse(name, kwargs=_kwargs_for(name, pattern, world))
        response = client.get(url)
        seen[name] = response.status_code
        if role == "anonymous" and response.status_code == 302:
            assert reverse("account_login") in response["Location"], name
    expected = {name: rule[role] for name, rule in EXPECTED.items() if name in seen}
    assert seen == expected
