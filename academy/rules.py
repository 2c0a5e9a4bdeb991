"""The one permission layer: who may do what, as django-rules predicates.

Views, templates (``{% has_perm %}``), the admin and querysets all ask here.
Roles (``academy.models.User.Role``):

- apprenticeship lead: runs the academy; sees and changes everything.
- coach: sees only learners on enrolments assigned to them (``visible_learners``);
  anything else is a 404, so other learners' existence is not disclosed.
- head of data: reads dashboards and exports; no learner-level pages.
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

# Objects ----------------------------------------------------------------------------
rules.add_perm("learners.view_learner", is_lead | coaches_learner)

# Models in the admin: leads manage the academy's records and users.
for _model in (
    "academy.user",
    "academy.team",
    "learners.learner",
    "learners.coachingsession",
    "cohorts.standard",
    "cohorts.cohort",
    "cohorts.enrolment",
    "cohorts.enrolmentstatuschange",
    "outcomes.assessmentresult",
    "outcomes.nationalbenchmark",
    "outcomes.cohortmetrics",
    "outcomes.impactrecord",
    "learners.progressreview",
    "learners.offthejobactivity",
    "learners.reminderlog",
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
rules.add_perm("outcomes", is_lead)


def visible_learners(user):
    """Return the learners ``user`` may see: all for a lead, their own for a coach, none otherwise.

    Returns a ``Learner`` queryset (distinct), for lists and for ``get_object_or_404``.
    """
    from learners.models import Learner

    if is_lead(user):
        return Learner.objects.all()
    if is_coach(user):
        return Learner.objects.filter(enrolments__coach=user).distinct()
    return Learner.objects.none()
