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
ROLES = ("anonymous", "coach", "other_coach", "lead", "head", "learner", "line_manager", "other_manager")
# The apprentice (the world's learner) and line managers (of the world's learner, and of
# nobody in it) reach no staff page: 403 on every row that does not name them.
PORTAL_ROLES = ("learner", "line_manager", "other_manager")

# name -> expected status per role, for GET. ``other_coach`` is a coach who does not coach
# the learner in the URL: 404, so other learners' existence is not disclosed.
EXPECTED = {
    # Imports: leads only. confirm/cancel are POST-only.
    "imports:upload": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "imports:template": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "imports:detail": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "imports:confirm": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 405, "head": 403},
    "imports:cancel": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 405, "head": 403},
    # Coach's pages: a coach acts only on enrolments they coach; heads read the risk view.
    "coach:home": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 200, "lead": 302, "head": 302},
    "coach:risk": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "coach:enrolment": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "coach:session_create": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "coach:review_create": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "coach:activity_create": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "coach:session_edit": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "coach:session_delete": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "coach:review_edit": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "coach:review_delete": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "coach:activity_edit": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "coach:activity_delete": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "home": {"anonymous": SIGN_IN, "coach": 302, "other_coach": 302, "lead": 302, "head": 302},
    # The admin's sign-in sends everyone to allauth's (one way in).
    "admin_login": {"anonymous": 302, "coach": 302, "other_coach": 302, "lead": 302, "head": 302,
                    "learner": 302, "line_manager": 302, "other_manager": 302},
    "learners:list": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 200, "lead": 200, "head": 403},
    "learners:detail": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
    "outcomes:dashboard": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:export_csv": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:benchmark_list": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:benchmark_create": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "outcomes:recompute": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 405, "head": 403},
    # Dashboard pages and benchmark upkeep: heads and leads read; leads manage.
    "outcomes:dashboard_standards": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:dashboard_trends": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:dashboard_teams": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:dashboard_coaching": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200},
    "outcomes:recompute_status": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "outcomes:benchmark_edit": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "outcomes:benchmark_import": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "outcomes:benchmark_import_confirm": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 405,
                                          "head": 403},
    # Privacy: subject access and erasure are for leads only.
    "privacy:subject_access": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "privacy:subject_access_json": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "privacy:erase": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    # The lead's workspace: leads manage; coaches read their own learners and enrolments.
    "learners:create": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "learners:lookup": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "learners:edit": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "learners:export_csv": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "learners:export_xlsx": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "teams:list": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "teams:create": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "teams:detail": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "teams:edit": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "cohorts:list": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "cohorts:create": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "cohorts:detail": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "cohorts:edit": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:create": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:edit": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:export_csv": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:export_xlsx": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:start_break": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:end_break": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:move_to_gateway": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:start_epa": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:record_result": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:complete": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:withdraw": {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403},
    "enrolments:list": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 200, "lead": 200, "head": 403},
    "enrolments:detail": {"anonymous": SIGN_IN, "coach": 200, "other_coach": 404, "lead": 200, "head": 403},
}
# Business impact, exports and the read-only API: leads and heads of data read and
# export, leads record impact; the API answers 401 without credentials (no sign-in redirect).
_READ = {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 200}
_LEAD = {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 200, "head": 403}
_API = {"anonymous": 401, "coach": 403, "other_coach": 403, "lead": 200, "head": 200}
EXPECTED.update({
    "impact:list": _READ, "impact:levy": _READ, "impact:create": _LEAD, "impact:edit": _LEAD,
    "exports:index": _READ, "exports:table": _READ, "exports:chart": _READ, "exports:board_report": _READ,
    "api:cohorts": _API, "api:enrolments": _API, "api:results": _API, "api:metrics": _API, "api:schema": _API,
    "api:token": _READ, "api:index": _READ, "api:docs": _READ,
})
# The apprentice's and line manager's pages; leads invite them.
_NONE = {"anonymous": SIGN_IN, "coach": 403, "other_coach": 403, "lead": 403, "head": 403,
         "learner": 403, "line_manager": 403, "other_manager": 403}
EXPECTED.update({
    "portal:learner_home": {**_NONE, "learner": 200},
    "portal:line_manager_home": {**_NONE, "line_manager": 200, "other_manager": 200},
    "portal:line_manager_learner": {**_NONE, "line_manager": 200, "other_manager": 404},
    "portal:invite_learner": {**_NONE, "lead": 200},
    "portal:invite_cohort": {**_NONE, "lead": 200},
    "portal:training_list": {**_NONE, "learner": 200},
    "portal:training_create": {**_NONE, "learner": 200},
    "portal:training_edit": {**_NONE, "learner": 200},
    "coach:training_queue": {**_NONE, "coach": 200, "other_coach": 200, "lead": 200},
    "coach:training_confirm": {**_NONE, "coach": 405, "other_coach": 405, "lead": 405},
    "coach:training_return": {**_NONE, "coach": 200, "other_coach": 404, "lead": 200},
})
# Training plans and reviews: the enrolment's coach, leads, the apprentice and their line manager read
# them (others 404, heads of data 403); only leads and the coach change a plan; signing is POST-only.
_DOCUMENT = {**_NONE, "coach": 200, "other_coach": 404, "lead": 200, "learner": 200, "line_manager": 200,
             "other_manager": 404}
_SIGN = {**_NONE, "coach": 405, "other_coach": 405, "lead": 405, "learner": 405, "line_manager": 405,
         "other_manager": 405}
EXPECTED.update({
    "documents:plan": _DOCUMENT, "documents:plan_version": _DOCUMENT, "documents:plan_pdf": _DOCUMENT,
    "documents:review": _DOCUMENT, "documents:review_pdf": _DOCUMENT,
    "documents:plan_edit": {**_DOCUMENT, "learner": 403, "line_manager": 403},
    "documents:plan_sign": _SIGN, "documents:review_sign": _SIGN,
    "documents:compliance": {**_NONE, "lead": 200}, "documents:compliance_csv": {**_NONE, "lead": 200},
})
for _name, _rule in EXPECTED.items():
    for _role in PORTAL_ROLES:
        _rule.setdefault(_role, 302 if _name == "home" else 403)
# URL names whose GET is not a page (POST-only actions): expected 405 for roles allowed to POST.
# "bench": the scale benchmark's bare view, registered only with ACADEMY_BENCH_VIEWS on
# (tests/demo/test_scale.py checks it is absent otherwise).
SKIP_NAMESPACES = {"admin", "bench"}


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
    """A learner coached by ``coach`` (not by ``other_coach``), with a cohort and a result; the
    learner signs in as ``learner`` and is managed by ``line_manager`` (``other_manager`` manages nobody here)."""
    learner_user = factories.UserFactory(email="apprentice@example.org", role="learner")
    line_manager = factories.UserFactory(email="manager@example.org", role="line_manager")
    other_manager = factories.UserFactory(email="other.manager@example.org", role="line_manager")
    enrolment = factories.EnrolmentFactory(coach=coach, learner__user=learner_user, learner__line_manager=line_manager)
    from coaching import services as coaching

    review = coaching.record_review(enrolment=enrolment, by=coach, date=enrolment.start_date, rag="green")
    activity = coaching.log_otj_activity(enrolment=enrolment, by=coach, date=enrolment.start_date,
                                         category="training_day", hours=7)
    submitted = coaching.log_otj_activity(enrolment=enrolment, by=learner_user, date=enrolment.start_date,
                                          category="self_study", hours=2)  # waits for the coach
    from coaching import plans

    plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values={
        "start_date": enrolment.start_date, "planned_end_date": enrolment.planned_end_date,
        "planned_otj_hours": 1000, "otj_delivery": "Day release", "english_maths": "achieved",
        "roles_and_responsibilities": "Agreed", "concerns": "Coach first"})
    return {"learner": enrolment.learner, "enrolment": enrolment, "cohort": enrolment.cohort, "session": factories.CoachingSessionFactory(enrolment=enrolment),
            "plan": plan,
            "review": review, "activity": activity, "submitted": submitted,
            "users": {"coach": coach, "other_coach": other_coach, "lead": lead, "head": head, "anonymous": None,
                      "learner": learner_user, "line_manager": line_manager, "other_manager": other_manager}}


def _kwargs_for(name, pattern, world):
    keys = set(pattern.pattern.converters)
    if not keys:
        return {}
    if name == "exports:table":  # one dashboard table
        return {"name": "enrolments", "fmt": "csv"}
    if name == "exports:chart":  # one dashboard chart, from a snapshot of the world's cohort
        from django.utils import timezone

        from outcomes.models import CohortMetrics

        CohortMetrics.objects.get_or_create(key=f"cohort:{world['cohort'].pk}", cohort=world["cohort"],
                                            defaults={"computed_at": timezone.now(), "enrolled": 1})
        return {"name": "coaching"}
    if name == "impact:edit":  # an impact record
        import datetime as dt

        from outcomes.models import ImpactRecord

        record = ImpactRecord.objects.get_or_create(title="Matrix", kind="money", value=1, evidence="e",
                                                    date=dt.date(2026, 1, 1))[0]
        return {"pk": record.pk}
    if name == "outcomes:benchmark_edit":  # a national benchmark
        return {"pk": factories.NationalBenchmarkFactory().pk}
    if name == "outcomes:recompute_status":  # any run id (an unknown run says so)
        return {"run_id": "0123abcd"}
    if name in ("portal:training_edit", "coach:training_confirm", "coach:training_return"):
        return {"activity_pk": world["submitted"].pk}  # training the apprentice logged
    by_kwarg = {"plan_pk": "plan", "enrolment_pk": "enrolment", "session_pk": "session", "review_pk": "review",
                "activity_pk": "activity", "learner_pk": "learner", "cohort_pk": "cohort"}  # coach's and portal pages
    if keys <= set(by_kwarg):
        return {key: world[by_kwarg[key]].pk for key in keys}
    target = {"learners": world["learner"], "cohorts": world["cohort"], "outcomes": world["cohort"]}
    target.update({"teams": world["learner"].team, "enrolments": world["enrolment"]})
    if name.startswith("imports:"):  # an import run (created here, leads only)
        from cohorts.models import ImportRun

        target["imports"] = ImportRun.objects.get_or_create(kind="spreadsheet", filename="staff.csv", content=b"")[0]
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
