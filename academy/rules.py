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


@rules.predicate
def may_change_record(user, record):
    """Who logged it (a session's coach), for 14 days after logging it, then only a lead.

    ``record`` is a coaching session, progress review or off-the-job activity
    (``learners.coaching.can_change_record``).
    """
    from learners.coaching import can_change_record

    return record is not None and can_change_record(user, record)


rules.add_perm("academy.view_coach_home", is_coach)
rules.add_perm("academy.view_risk", is_lead | is_head_of_data)
rules.add_perm("learners.coach_enrolment", is_lead | coaches_enrolment)
rules.add_perm("learners.edit_session", is_lead | may_change_record)
rules.add_perm("learners.edit_review", is_lead | may_change_record)
rules.add_perm("learners.edit_activity", is_lead | may_change_record)

# Privacy ---------------------------------------------------------------------


@rules.predicate
def may_read_session_notes(user, session):
    """The session's coach, the coach of its enrolment, or the learner themself (leads via ``is_lead``).

    ``session`` is a ``CoachingSession``; select_related("enrolment__learner") keeps this query-free.
    """
    if session is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.pk in (session.coach_id, session.enrolment.coach_id):
        return bool(getattr(user, "is_coach", False))
    return session.enrolment.learner.user_id == user.pk


# Coaching notes: only the learner's coach, leads and the learner (template filter
# ``learner_privacy.session_notes``; subject access is for leads only).
rules.add_perm("learners.view_session_notes", is_lead | may_read_session_notes)


@rules.predicate
def may_read_review_notes(user, review):
    """The coach of the review's enrolment (leads via ``is_lead``); ``review`` is a ``ProgressReview``."""
    if review is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(getattr(user, "is_coach", False)) and review.enrolment.coach_id == user.pk


# Progress-review notes: only the learner's coach and leads (template filter
# ``learner_privacy.review_notes``), as for coaching notes.
rules.add_perm("learners.view_review_notes", is_lead | may_read_review_notes)
rules.add_perm("academy.view_subject_access", is_lead)
rules.add_perm("academy.erase_learner", is_lead)
rules.add_perm("academy.view_audit_log", is_lead)

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


def visible_enrolments(user):
    """Return the enrolments ``user`` may see: all for a lead, those they coach for a coach, none otherwise.

    Returns an ``Enrolment`` queryset, for lists and for ``get_object_or_404`` (another
    coach's enrolment is then a 404).
    """
    from cohorts.models import Enrolment

    if is_lead(user):
        return Enrolment.objects.all()
    if is_coach(user):
        return Enrolment.objects.filter(coach=user)
    return Enrolment.objects.none()


# Business impact, exports and the read-only API: leads and heads of data read
# impact and export; only leads record impact. The API is for leads and heads of data;
# only a lead's token sees learners' names, emails and ULNs (others get pseudonyms).
rules.add_perm("academy.view_impact", is_lead | is_head_of_data)
rules.add_perm("academy.manage_impact", is_lead)
rules.add_perm("academy.use_api", is_lead | is_head_of_data)
rules.add_perm("academy.view_learner_identity_in_api", is_lead)
