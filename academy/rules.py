"""The one permission layer: who may do what, as django-rules predicates.

Views, templates (``{% has_perm %}``), the admin and querysets all ask here.
Roles (``academy.models.User.Role``):

- apprenticeship lead: runs the academy; sees and changes everything.
- coach: sees only learners on enrolments assigned to them (``visible_learners``);
  anything else is a 404, so other learners' existence is not disclosed.
- head of data: reads dashboards and exports; no learner-level pages.
- apprentice (learner role): their own apprenticeship only (``portal``); every staff page 403.
- line manager: the learners whose line manager they are (``Learner.line_manager``) and
  nothing else; every staff page 403, another manager's learner 404.
"""
import rules


@rules.predicate
def is_lead(user):
    return bool(getattr(user, "is_lead", False))


@rules.predicate
def is_coach(user):
    return bool(getattr(user, "is_coach", False))


@rules.predicate
def is_head_of_data(user):
    return bool(getattr(user, "is_head_of_data", False))


@rules.predicate
def is_learner(user):
    return bool(getattr(user, "is_learner", False))


@rules.predicate
def is_line_manager(user):
    return bool(getattr(user, "is_line_manager", False))


@rules.predicate
def manages_learner(user, learner):
    return bool(getattr(user, "is_line_manager", False) and learner is not None and learner.line_manager_id == user.pk)


@rules.predicate
def coaches_learner(user, learner):
    if learner is None or not getattr(user, "is_coach", False):
        return False
    return learner.enrolments.filter(coach=user).exists()


# Pages ------------------------------------------------------------------------------
rules.add_perm("academy.view_dashboard", is_lead | is_head_of_data)
rules.add_perm("academy.export_dashboard", is_lead | is_head_of_data)
rules.add_perm("academy.view_learner_list", is_lead | is_coach)
rules.add_perm("academy.manage_benchmarks", is_lead)
rules.add_perm("academy.view_benchmarks", is_lead | is_head_of_data)
rules.add_perm("academy.recompute_metrics", is_lead)
rules.add_perm("academy.import_data", is_lead)  # staff/ILR imports (cohorts.import_views)
# The lead's workspace (teams, learners, cohorts, enrolments): leads manage; coaches read their own.
rules.add_perm("academy.manage_academy", is_lead)
rules.add_perm("academy.view_enrolment_list", is_lead | is_coach)
rules.add_perm("academy.export_learners", is_lead)

# Objects ----------------------------------------------------------------------------
rules.add_perm("learners.view_learner", is_lead | coaches_learner)

# Coaching: a coach acts only on enrolments they coach (others are 404 via
# ``visible_enrolments``); leads on all; heads of data read the risk view only.


@rules.predicate
def coaches_enrolment(user, enrolment):
    return bool(getattr(user, "is_coach", False) and enrolment is not None and enrolment.coach_id == user.pk)


rules.add_perm("academy.view_coach_home", is_coach)
rules.add_perm("academy.view_risk", is_lead | is_head_of_data)
rules.add_perm("learners.coach_enrolment", is_lead | coaches_enrolment)
# The apprentice's and the line manager's own pages (portal); leads send the invitations.
rules.add_perm("academy.view_learner_home", is_learner)
rules.add_perm("academy.view_line_manager_home", is_line_manager)
rules.add_perm("learners.view_as_line_manager", manages_learner)
rules.add_perm("academy.invite_people", is_lead)
# Training plans and progress reviews, signed by all three (coaching.document_views narrows
# to the user's own enrolments); the lead's compliance page of what is unsigned.
rules.add_perm("academy.view_documents", is_lead | is_coach | is_learner | is_line_manager)
rules.add_perm("academy.view_compliance", is_lead)

# Privacy ---------------------------------------------------------------------


rules.add_perm("academy.view_subject_access", is_lead)
rules.add_perm("academy.erase_learner", is_lead)
rules.add_perm("academy.view_audit_log", is_lead)

# Models in the admin: leads manage the academy's records and users.
for _model in (
    "academy.user",
    "academy.team",
    "learners.learner",
    "coaching.coachingsession",
    "cohorts.standard",
    "cohorts.cohort",
    "cohorts.enrolment",
    "cohorts.enrolmentstatuschange",
    "cohorts.assessmentresult",
    "outcomes.nationalbenchmark",
    "outcomes.cohortmetrics",
    "outcomes.impactrecord",
    "coaching.progressreview",
    "coaching.offthejobactivity",
    "coaching.reminderlog",
    "cohorts.importrun",
    "academy.auditevent",
):
    _app, _name = _model.split(".")
    for _action in ("view", "add", "change", "delete"):
        if f"{_app}.{_action}_{_name}" == "learners.view_learner":
            continue
        rules.add_perm(f"{_app}.{_action}_{_name}", is_lead)
rules.add_perm("academy", is_lead)
rules.add_perm("cohorts", is_lead)
rules.add_perm("learners", is_lead)
rules.add_perm("coaching", is_lead)
rules.add_perm("outcomes", is_lead)


# Business impact, exports and the read-only API: leads and heads of data read
# impact and export; only leads record impact. The API is for leads and heads of data;
# only a lead's token sees learners' names, emails and ULNs (others get pseudonyms).
rules.add_perm("academy.view_impact", is_lead | is_head_of_data)
rules.add_perm("academy.manage_impact", is_lead)
rules.add_perm("academy.use_api", is_lead | is_head_of_data)
rules.add_perm("academy.view_learner_identity_in_api", is_lead)
