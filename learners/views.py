"""Learner pages: a lead sees every learner; a coach sees only their own (others are 404)."""
from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q
from django.shortcuts import get_object_or_404, render

from academy.decorators import perm_required
from academy.rules import visible_learners
from cohorts.models import Enrolment

PAGE_SIZE = 25


@perm_required("academy.view_learner_list")
def learner_list(request):
    """List the learners the user may see, searchable by name, email, employee number or ULN."""
    query = request.GET.get("q", "").strip()
    learners = visible_learners(request.user).with_team()
    if query:
        learners = learners.filter(
            Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(work_email__icontains=query)
            | Q(employee_number__iexact=query)
            | Q(uln=query)
        )
    page = Paginator(learners.order_by("last_name", "first_name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "learners/list.html", {"page": page, "query": query})


def _get_learner_for_user(request, pk):
    """Return the learner ``pk`` if the user may see it, else raise ``Http404``."""
    return get_object_or_404(visible_learners(request.user).with_team(), pk=pk)


@perm_required("academy.view_learner_list")
def learner_detail(request, pk):
    """Show one learner: enrolments with status, coach, coaching summary and EPA results."""
    learner = _get_learner_for_user(request, pk)
    enrolments = (
        Enrolment.objects.filter(learner=learner)
        .select_related("cohort__standard", "coach")
        .prefetch_related("assessment_results")
        .annotate(
            sessions_attended=Count("coaching_sessions", filter=Q(coaching_sessions__attendance="attended")),
            last_session=Max("coaching_sessions__date", filter=Q(coaching_sessions__attendance="attended")),
        )
        .order_by("cohort__start_date", "id")
    )
    if request.user.is_coach:
        enrolments = enrolments.filter(coach=request.user)
    return render(request, "learners/detail.html", {"learner": learner, "enrolments": enrolments})
