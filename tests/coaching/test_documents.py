"""Training plans with versions and progress reviews, signed by the apprentice, the line manager and the coach."""
import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from academy.concurrency import StaleEdit
from academy.models import AuditEvent
from coaching import plans, services, signing
from coaching.models import ProgressReview, Signature, TrainingPlan
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PLAN = {
    "standard_version": "", "start_date": "", "planned_end_date": "", "planned_otj_hours": "300",
    "otj_delivery": "Day release every Wednesday; four block weeks.", "prior_learning": "",
    "prior_learning_reduction_hours": "0", "english_maths": "achieved", "english_maths_detail": "GCSEs held",
    "roles_and_responsibilities": "The employer releases the time; the provider teaches; the apprentice attends.",
    "concerns": "Speak to the coach first, then the academy lead.",
}


@pytest.fixture
def three(coach):
    """An apprentice (with an account) on an enrolment coached by ``coach``, and their line manager."""
    apprentice = factories.ApprenticeFactory(email="ann@council.example.org", full_name="Ann Smith")
    manager = factories.LineManagerFactory(email="dan@council.example.org", full_name="Dan Nolan")
    enrolment = factories.EnrolmentFactory(
        coach=coach, learner__user=apprentice, learner__line_manager=manager, learner__first_name="Ann",
        learner__last_name="Smith", cohort__start_date=TODAY - dt.timedelta(days=30),
        start_date=TODAY - dt.timedelta(days=30), planned_end_date=TODAY + dt.timedelta(days=500),
        planned_otj_hours=Decimal(300),
    )
    return {"apprentice": apprentice, "manager": manager, "coach": coach, "enrolment": enrolment}


def _post_plan(client, enrolment, **overrides):
    plan = plans.current_plan(enrolment)
    data = {**PLAN, "start_date": enrolment.start_date.strftime("%d/%m/%Y"),
            "planned_end_date": enrolment.planned_end_date.strftime("%d/%m/%Y"),
            "number": plan.number if plan else 0, "version": plan.version if plan else 0, **overrides}
    return client.post(reverse("documents:plan_edit", args=[enrolment.pk]), data)


def _sign(client, document, *, sha256=None, comment=""):
    name = "documents:plan_sign" if isinstance(document, TrainingPlan) else "documents:review_sign"
    return client.post(reverse(name, args=[document.pk]), {
        "sha256": sha256 or document.content_sha256, "comment": comment, "confirm": "on"}, follow=True)


def test_canonical_hash_is_sha256_of_sorted_compact_json(three, coach):
    plan, _ = plans.save_plan(enrolment=three["enrolment"], by=coach, values=_values(three["enrolment"]))
    content = signing.canonical.document_content("training_plan", plan)
    assert content["planned_otj_hours"] == "300.00" and content["start_date"] == plan.start_date.isoformat()
    expected = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode()).hexdigest()
    assert plan.content_sha256 == expected == signing.content_hash(plan)


def _values(enrolment, **overrides):
    return {"standard_version": "", "start_date": enrolment.start_date, "planned_end_date": enrolment.planned_end_date,
            "planned_otj_hours": Decimal(300), "otj_delivery": "Day release", "prior_learning": "",
            "prior_learning_reduction_hours": Decimal(0), "english_maths": "achieved", "english_maths_detail": "",
            "roles_and_responsibilities": "As agreed", "concerns": "Coach first", **overrides}


def test_all_three_sign_a_plan_then_a_change_needs_all_three_again(client_for, three):
    enrolment, coach = three["enrolment"], three["coach"]
    coach_client = client_for(coach)
    page = coach_client.get(reverse("documents:plan", args=[enrolment.pk])).content.decode()
    assert "There is no training plan yet" in page and "Draft the training plan" in page
    draft = coach_client.get(reverse("documents:plan_edit", args=[enrolment.pk])).content.decode()
    assert enrolment.start_date.strftime("%d/%m/%Y") in draft  # filled in from the enrolment
    assert "Prior learning (optional)" in draft and "(optional) (optional)" not in draft
    assert _post_plan(coach_client, enrolment).status_code == 302
    plan = TrainingPlan.objects.get(enrolment=enrolment)
    assert (plan.number, plan.standard_reference) == (1, enrolment.cohort.standard.reference)

    learner_page = client_for(three["apprentice"]).get(reverse("documents:plan", args=[enrolment.pk])).content.decode()
    assert "Sign as apprentice" in learner_page and plan.content_sha256 in learner_page
    assert "Not signed yet" in learner_page

    done = _sign(client_for(three["apprentice"]), plan, comment="Happy with this").content.decode()
    assert "You signed it as apprentice" in done
    assert "Awaiting the line manager&#x27;s and the coach&#x27;s signatures" in done
    _sign(client_for(three["manager"]), plan)
    page = _sign(client_for(coach), plan).content.decode()
    assert "Signed by all three" in page and "Signed by Ann Smith on" in page and "Comment: Happy with this" in page
    assert list(plan.signatures.values_list("party", flat=True)) == ["apprentice", "employer", "provider"]
    events = AuditEvent.objects.filter(action=AuditEvent.Action.SIGNATURE, object_id=str(plan.pk))
    assert events.count() == 3 and events.first().detail["sha256"] == plan.content_sha256

    # The coach changes the signed plan: version 2, which needs all three again; version 1 stays as signed.
    coach_client = client_for(coach)
    response = _post_plan(coach_client, enrolment, planned_otj_hours="320")
    assert "Version 2 of the training plan saved" in coach_client.get(response.url).content.decode()
    new = plans.current_plan(enrolment)
    assert (new.number, new.planned_otj_hours, new.signatures.count()) == (2, Decimal(320), 0)
    plan.refresh_from_db()
    assert plan.planned_otj_hours == Decimal(300) and signing.state_of(plan).complete
    old_page = client_for(three["apprentice"]).get(reverse("documents:plan_version", args=[plan.pk])).content.decode()
    assert "Version 1 was replaced by version 2" in old_page and "Sign as" not in old_page
    for user in (three["apprentice"], three["manager"], coach):
        _sign(client_for(user), new)
    assert signing.state_of(new).complete


def test_signing_a_stale_page_is_refused_and_shows_the_new_version(client_for, three):
    enrolment, coach = three["enrolment"], three["coach"]
    v1, _ = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment))
    signing.sign(document=v1, by=three["manager"], shown_sha256=v1.content_sha256)
    v2, new = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment, otj_delivery="Block weeks"))
    assert new and v2.number == 2
    response = _sign(client_for(three["apprentice"]), v1)  # the page of version 1, opened before the change
    page = response.content.decode()
    assert "has a newer version (2) since you opened it" in page
    assert response.status_code == 200 and "Training plan: version 2" in page
    assert "Block weeks" in page and not v1.signatures.filter(party="apprentice").exists()
    # A draft changed in place since the page was read: the shown hash no longer matches.
    old_hash = v2.content_sha256
    plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment, otj_delivery="Online"))
    v2.refresh_from_db()
    assert v2.number == 2 and v2.content_sha256 != old_hash  # no signature yet: changed in place
    with pytest.raises(signing.StaleDocument, match="changed since you opened it"):
        signing.sign(document=v2, by=three["apprentice"], shown_sha256=old_hash)
    assert not Signature.objects.filter(training_plan=v2).exists()


def test_plan_rules_and_who_may_change_it(three, coach, other_coach, lead):
    enrolment = three["enrolment"]
    with pytest.raises(ValidationError) as error:
        plans.save_plan(enrolment=enrolment, by=coach, values=_values(
            enrolment, planned_otj_hours=Decimal(100), prior_learning_reduction_hours=Decimal(10)))
    assert "Planned off-the-job hours must be at least" in error.value.message_dict["planned_otj_hours"][0]
    assert "Describe the prior learning" in error.value.message_dict["prior_learning"][0]
    for user in (other_coach, three["apprentice"], three["manager"]):
        with pytest.raises(PermissionDenied):
            plans.save_plan(enrolment=enrolment, by=user, values=_values(enrolment))
    plan, _ = plans.save_plan(enrolment=enrolment, by=lead, values=_values(enrolment))
    with pytest.raises(StaleEdit):  # the form was based on "no plan yet"
        plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment, concerns="x"), expected_number=0)
    same, new = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment))
    assert (same.pk, same.version, new) == (plan.pk, 1, False)  # nothing changed: nothing written


def test_review_signed_by_all_three_and_a_changed_content_needs_signing_again(client_for, three):
    enrolment, coach = three["enrolment"], three["coach"]
    review = services.record_review(enrolment=enrolment, by=coach, date=TODAY - dt.timedelta(days=1), rag="green",
                                    agreed_actions="Finish the SQL module", notes="Private: tired lately")
    learner_page = client_for(three["apprentice"]).get(reverse("documents:review", args=[review.pk])).content.decode()
    assert "Finish the SQL module" in learner_page and "Private: tired lately" not in learner_page
    assert "Not signed yet" in learner_page
    _sign(client_for(three["apprentice"]), review)
    page = _sign(client_for(coach), review).content.decode()
    assert "Awaiting the line manager&#x27;s signature" in page and "Private: tired lately" in page

    services.edit_review(review=review, by=coach, expected_version=review.version, notes="Private: better now")
    review.refresh_from_db()
    assert len(signing.state_of(review).signed) == 2  # notes are not part of the signed review

    ProgressReview.objects.filter(pk=review.pk).update(agreed_actions="Finish SQL and Python")  # outside Academy
    review.refresh_from_db()
    review.save()  # as if it had been saved through Academy: the stored hash moves on
    state = signing.state_of(review)
    assert (state.signed, len(state.earlier), state.label) == ({}, 2, "Not signed yet")
    for user in (three["apprentice"], three["manager"], coach):
        _sign(client_for(user), review)
    assert signing.state_of(review).label == "Signed by all three"
    with pytest.raises(ValidationError, match="already signed"):
        signing.sign(document=review, by=coach, shown_sha256=review.content_sha256)


def test_who_sees_and_signs(client_for, three, other_coach, head, lead):
    enrolment, coach = three["enrolment"], three["coach"]
    plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment))
    url = reverse("documents:plan", args=[enrolment.pk])
    stranger = factories.ApprenticeFactory()
    factories.EnrolmentFactory(learner__user=stranger)
    other_manager = factories.LineManagerFactory()
    assert client_for(head).get(url).status_code == 403
    for user in (other_coach, stranger, other_manager):
        assert client_for(user).get(url).status_code == 404
        assert _sign(client_for(user), plan).status_code == 404
    assert "Sign as" not in client_for(lead).get(url).content.decode()  # the enrolment has a coach to sign
    with pytest.raises(PermissionDenied):
        signing.sign(document=plan, by=lead, shown_sha256=plan.content_sha256)
    assert client_for(three["apprentice"]).get(reverse("documents:plan_edit", args=[enrolment.pk])).status_code == 403
    assert "Change the training plan" not in client_for(three["manager"]).get(url).content.decode()


def test_verify_reports_a_document_edited_in_the_database_after_signing(three, capsys):
    enrolment, coach = three["enrolment"], three["coach"]
    plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment))
    signing.sign(document=plan, by=three["apprentice"], shown_sha256=plan.content_sha256)
    review = services.record_review(enrolment=enrolment, by=coach, date=TODAY, rag="amber", agreed_actions="Catch up")
    signing.sign(document=review, by=three["manager"], shown_sha256=review.content_sha256)
    call_command("verify")
    assert "2 signatures checked: every signed document is as it was signed" in capsys.readouterr().out

    TrainingPlan.objects.filter(pk=plan.pk).update(planned_otj_hours=Decimal(150))  # outside Academy
    ProgressReview.objects.filter(pk=review.pk).update(rag="green")
    with pytest.raises(CommandError, match="2 of 2 signatures are on documents changed after signing"):
        call_command("verify")
    out = capsys.readouterr().out
    assert f"Training plan version 1 (id {plan.pk})" in out and f"(id {review.pk})" in out
    assert plan.content_sha256 in out


def test_compliance_lists_what_waits_with_days_and_a_csv(client_for, three, lead):
    enrolment, coach = three["enrolment"], three["coach"]
    unplanned = factories.EnrolmentFactory(learner__first_name="Bea", learner__last_name="Nash")
    plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment))
    TrainingPlan.objects.filter(pk=plan.pk).update(created_at=timezone.now() - dt.timedelta(days=9))
    signing.sign(document=plan, by=three["apprentice"], shown_sha256=plan.content_sha256)
    review = services.record_review(enrolment=enrolment, by=coach, date=TODAY, rag="amber")
    signed = services.record_review(enrolment=enrolment, by=coach, date=TODAY - dt.timedelta(days=2), rag="green")
    for user in (three["apprentice"], three["manager"], coach):
        signing.sign(document=signed, by=user, shown_sha256=signed.content_sha256)

    client = client_for(lead)
    with CaptureQueriesContext(connection) as small:
        page = client.get(reverse("documents:compliance")).content.decode()
    assert "Training plans (2)" in page and "Progress reviews (1)" in page
    assert "Version 1: awaiting the line manager&#x27;s and the coach&#x27;s signatures" in page
    assert "No plan yet" in page and "Bea Nash" in page
    assert reverse("documents:review", args=[review.pk]) in page
    assert reverse("documents:review", args=[signed.pk]) not in page

    for _ in range(3):
        factories.EnrolmentFactory()
        services.record_review(enrolment=enrolment, by=coach, date=TODAY, rag="red")
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("documents:compliance"))
    assert len(large) == len(small)

    csv = client.get(reverse("documents:compliance_csv")).content.decode("utf-8-sig").splitlines()
    assert csv[0] == "document,learner,cohort,coach,version,waiting_for,waiting_since,days"
    assert any(line.startswith("training plan,Ann Smith,") and ",1,line manager; coach," in line and line.endswith(",9")
               for line in csv)
    assert any(line.startswith("training plan,Bea Nash,") and "no plan yet" in line for line in csv)
    assert len(csv) == 1 + 5 + 4
    assert client_for(coach).get(reverse("documents:compliance")).status_code == 403
    assert unplanned.pk


def test_plan_pdf_carries_the_signatures(client_for, three):
    pytest.importorskip("weasyprint", reason="WeasyPrint is not installed")
    enrolment, coach = three["enrolment"], three["coach"]
    plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment))
    signing.sign(document=plan, by=three["apprentice"], shown_sha256=plan.content_sha256)
    response = client_for(three["manager"]).get(reverse("documents:plan_pdf", args=[plan.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 5000
    html = __import__("django.template.loader", fromlist=["render_to_string"]).render_to_string(
        "documents/plan_pdf.html", {"plan": plan, "enrolment": enrolment, "state": signing.state_of(plan)})
    assert "Signed by Ann Smith on" in html and plan.content_sha256 in html


def _age(review, days):
    ProgressReview.objects.filter(pk=review.pk).update(created_at=timezone.now() - dt.timedelta(days=days))


def test_a_review_unsigned_for_14_days_is_a_risk_reason(three):
    from coaching import risk
    from cohorts.models import Enrolment

    enrolment, coach = three["enrolment"], three["coach"]
    review = services.record_review(enrolment=enrolment, by=coach, date=TODAY - dt.timedelta(days=13), rag="green")
    _age(review, 13)

    def reasons():
        return {r.code: r.detail for r in risk.learner_risks(Enrolment.objects.filter(pk=enrolment.pk),
                                                             today=TODAY)[0].reasons}
    assert "review_unsigned" not in reasons()
    _age(review, 14)
    assert "has waited 14 days for signatures" in reasons()["review_unsigned"]
    for user in (three["apprentice"], three["manager"], coach):
        signing.sign(document=review, by=user, shown_sha256=review.content_sha256)
    assert "review_unsigned" not in reasons()
    paper = services.record_review(enrolment=enrolment, by=coach, date=TODAY - dt.timedelta(days=30), rag="green")
    ProgressReview.objects.filter(pk=paper.pk).update(signatures_expected=False)  # from before signatures
    _age(paper, 30)
    assert "review_unsigned" not in reasons()


def test_signature_reminders_go_once_a_day_to_whoever_has_waited_over_7_days(three, mailoutbox):
    from coaching import compliance, reminders

    enrolment, coach = three["enrolment"], three["coach"]
    plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment))
    signing.sign(document=plan, by=coach, shown_sha256=plan.content_sha256)
    review = services.record_review(enrolment=enrolment, by=coach, date=TODAY - dt.timedelta(days=3), rag="amber")
    signing.sign(document=review, by=three["apprentice"], shown_sha256=review.content_sha256)
    assert reminders.send_signature_reminders(today=TODAY).sent == []  # nothing has waited 7 days
    TrainingPlan.objects.filter(pk=plan.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    _age(review, 8)

    waiting_plans, waiting_reviews = compliance.waiting_for(three["apprentice"])
    assert ([p.pk for p in waiting_plans], waiting_reviews) == ([plan.pk], [])
    run = reminders.send_signature_reminders(today=TODAY)
    assert sorted(run.sent) == sorted([three["apprentice"].pk, three["manager"].pk, coach.pk])
    by_person = {message.to[0]: message for message in mailoutbox}
    assert "1 document waiting for your signature" in by_person["ann@council.example.org"].subject
    manager_mail = by_person["dan@council.example.org"]
    assert "2 documents" in manager_mail.subject and "Ann Smith" in manager_mail.body
    assert f"review of {review.date:%-d %B %Y}" in manager_mail.body
    assert "Training plans" not in by_person[coach.email].body  # the coach signed the plan
    again = reminders.send_signature_reminders(today=TODAY)
    assert again.sent == [] and len(again.already_sent) == 3 and len(mailoutbox) == 3


def test_home_pages_say_what_waits_for_a_signature_with_fixed_queries(client_for, three, django_assert_max_num_queries):
    enrolment, coach = three["enrolment"], three["coach"]
    plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment))
    review = services.record_review(enrolment=enrolment, by=coach, date=TODAY, rag="green")
    signing.sign(document=review, by=three["manager"], shown_sha256=review.content_sha256)

    learner_home = client_for(three["apprentice"]).get(reverse("portal:learner_home")).content.decode()
    assert "Sign the training plan: version 1" in learner_home
    assert f"Sign the progress review of {review.date:%-d %B %Y}" in learner_home
    manager_home = client_for(three["manager"]).get(reverse("portal:line_manager_home")).content.decode()
    assert "Sign the training plan of Ann Smith: version 1" in manager_home
    assert "Sign the progress review" not in manager_home  # already signed by the manager
    coach_home = client_for(coach).get(reverse("coach:home")).content.decode()
    assert "2 documents wait for your signature (1 training plan, 1 progress review)" in coach_home
    record = client_for(coach).get(reverse("coach:enrolment", args=[enrolment.pk])).content.decode()
    assert "Version 1: not signed yet" in record and "Awaiting the apprentice&#x27;s and the coach&#x27;s" in record

    def queries(url, user):
        client = client_for(user)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        return len(captured)

    urls = [(reverse("documents:plan", args=[enrolment.pk]), three["apprentice"]),
            (reverse("documents:review", args=[review.pk]), three["manager"]),
            (reverse("portal:learner_home"), three["apprentice"])]
    before = [queries(url, user) for url, user in urls]
    for number in range(3):  # more versions, signatures and reviews
        signing.sign(document=plan, by=three["apprentice"], shown_sha256=plan.content_sha256)
        plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment, concerns=f"v{number}"))
        services.record_review(enrolment=enrolment, by=coach, date=TODAY, rag="amber")
        signing.sign(document=review, by=three["apprentice"], shown_sha256=review.content_sha256) if number == 0 else None
    assert [queries(url, user) for url, user in urls] == before


def test_the_stored_hash_is_the_hash_of_the_values_as_read_back(three, coach):
    enrolment = three["enrolment"]
    values = _values(enrolment)
    del values["prior_learning_reduction_hours"]  # the model's default, an int before saving
    plan = TrainingPlan.objects.create(enrolment=enrolment, number=1, standard_reference="ST0118",
                                       standard_title="Data analyst", **values)
    stored = plan.content_sha256
    plan = TrainingPlan.objects.get(pk=plan.pk)
    assert signing.content_hash(plan) == stored


def test_a_signed_review_keeps_what_was_agreed(client_for, three):
    enrolment, coach = three["enrolment"], three["coach"]
    review = services.record_review(enrolment=enrolment, by=coach, date=TODAY, rag="green", agreed_actions="SQL")
    signing.sign(document=review, by=three["apprentice"], shown_sha256=review.content_sha256)
    with pytest.raises(ValidationError, match="has been signed, so what the three agreed cannot be changed"):
        services.edit_review(review=review, by=coach, expected_version=review.version, agreed_actions="SQL, Python")
    services.edit_review(review=review, by=coach, expected_version=review.version, notes="Quiet today")  # notes: fine
    review.refresh_from_db()
    assert (review.agreed_actions, review.notes, len(signing.state_of(review).signed)) == ("SQL", "Quiet today", 1)
    with pytest.raises(PermissionDenied, match="kept as evidence"):
        services.delete_review(review=review, by=coach)
    client = client_for(coach)
    response = client.post(reverse("coach:review_delete", args=[review.pk]), follow=True)
    assert "cannot be deleted" in response.content.decode() and ProgressReview.objects.filter(pk=review.pk).exists()


def test_a_refused_signing_keeps_the_comment_and_says_why(client_for, three):
    enrolment, coach = three["enrolment"], three["coach"]
    plan, _ = plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment))
    client = client_for(three["manager"])
    url = reverse("documents:plan_sign", args=[plan.pk])
    unticked = client.post(url, {"sha256": plan.content_sha256, "comment": "I disagree with the hours"})
    page = unticked.content.decode()
    assert unticked.status_code == 200 and "Tick the box to confirm" in page and "govuk-error-summary" in page
    assert "I disagree with the hours" in page and not plan.signatures.exists()
    plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment, concerns="Talk to HR"))
    stale = client.post(url, {"sha256": plan.content_sha256, "comment": "I disagree with the hours", "confirm": "on"})
    page = stale.content.decode()
    assert "changed since you opened it" in page and "Talk to HR" in page and "I disagree with the hours" in page
    plan.refresh_from_db()
    assert f'value="{plan.content_sha256}"' in page  # the form now carries the new wording's hash
    assert "The enrolment records different figures" not in page  # staff's warning, not the manager's


def test_plan_hours_are_more_than_0_and_an_unchecked_minimum_is_said(client_for, three, coach):
    enrolment = three["enrolment"]
    with pytest.raises(ValidationError, match="must be more than 0"):
        plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment, planned_otj_hours=Decimal(0)))
    from cohorts.models import Enrolment

    Enrolment.objects.filter(pk=enrolment.pk).update(start_date=dt.date(2024, 9, 2), contracted_hours_per_week=None)
    enrolment.refresh_from_db()
    plans.save_plan(enrolment=enrolment, by=coach, values=_values(enrolment, start_date=dt.date(2024, 9, 2),
                                                                  planned_otj_hours=Decimal(5)))
    page = client_for(coach).get(reverse("documents:plan", args=[enrolment.pk])).content.decode()
    assert "could not be checked against the minimum: Contracted hours a week are not recorded" in page
