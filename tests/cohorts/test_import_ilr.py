"""ILR XML import: ESFA's two sample files exactly, and a standards file built from them.

``ilr_standards.xml`` is ESFA's ``ILRFile.xml`` learner with the programme aim changed
to a standard (ProgType 25, StdCode 80 = ST0118), one learner per case
(``tests/fixtures/imports/make_fixtures.py``).
"""
import datetime as dt
from decimal import Decimal

import pytest

from cohorts.imports import pipeline, plans
from cohorts.imports.reading import ImportFileError
from cohorts.models import AssessmentResult, Cohort, Enrolment, EnrolmentStatusChange
from learners.models import Learner
from tests import factories
from tests.import_helpers import fixture_bytes, make_world

pytestmark = pytest.mark.django_db

FRAMEWORK_NOTE = ("LearningDelivery AimSeqNumber 1: framework programmes are not supported: FworkCode {f}, PwayCode 1 "
                  "(ProgType 2 Advanced Level Apprenticeship). Only apprenticeship standards (ProgType 25) are "
                  "imported.")


@pytest.fixture
def world(db):
    return make_world()


def check(name, **options):
    return pipeline.build_plan(content=fixture_bytes(name), options=options)


def test_esfa_apprenticeship_sample_reports_its_framework_learner_and_imports_nothing(world):
    plan = check("ilr/ilr_sample_apprenticeship_1819_ILRFile.xml", team_id=world["care"].pk)
    assert [entry_of(r) for r in plan.rows] == [
        (1, "Learner 1 (LearnRefNumber 9900000705)", "not_imported", "Mary Jane Sméth",
         [FRAMEWORK_NOTE.format(f=508)]),
    ]
    assert plan.notes == []
    counts = pipeline.apply_plan(plan=plan)
    assert pipeline.summary_line(counts) == "0 new, 0 changed, 0 unchanged, 1 not imported"
    assert (Learner.objects.count(), Cohort.objects.count(), Enrolment.objects.count()) == (0, 1, 0)


def entry_of(row):
    preview = row.to_preview()
    return preview["row"], preview["label"], preview["action"], preview["name"], preview["details"]


def test_esfa_test_file_reports_each_learner_with_the_reason_it_is_not_imported(world):
    plan = check("ilr/ilr_sample_test_file_ILR-90000064-1718.xml", team_id=world["care"].pk)
    assert [(r.row, r.key, r.action, r.notes) for r in plan.rows] == [
        (1, "0ULN03", "not_imported",
         ["No apprenticeship programme aim (AimType 1, FundModel 36): FundModel 25 (16-19 (excluding "
          "Apprenticeships))."]),
        (2, "1ULN03", "not_imported",
         ["No apprenticeship programme aim (AimType 1, FundModel 36): FundModel 35 (Adult skills)."]),
        (3, "2ULN03", "not_imported", [FRAMEWORK_NOTE.format(f=420)]),
        (4, "3ULN03", "not_imported", [FRAMEWORK_NOTE.format(f=420)]),
        (5, "4ULN03", "not_imported",
         ["No apprenticeship programme aim (AimType 1, FundModel 36): FundModel 70 (ESF)."]),
        (6, "5ULN03", "not_imported",
         ["No apprenticeship programme aim (AimType 1, FundModel 36): FundModel 81 (Other Adult)."]),
        (7, "6ULN03", "not_imported",
         ["No apprenticeship programme aim (AimType 1, FundModel 36): FundModel 82 (Other 16-19)."]),
    ]
    counts = pipeline.apply_plan(plan=plan)
    assert counts["not_imported"] == 7 and counts["error"] == 0
    assert Learner.objects.count() == 0


STANDARDS_ERRORS = [
    "Learner 6 (LearnRefNumber ST006), LearningDelivery AimSeqNumber 1, OutGrade: OutGrade DS* (Distinction *) "
    "is not an end-point assessment grade Academy records (PA, ME, DS, FL); it was not guessed.",
    "Learner 7 (LearnRefNumber ST007), LearningDelivery AimSeqNumber 1, CompStatus: CompStatus 4 is not in the "
    "ILR 2018/19 code list (1 continuing, 2 completed, 3 withdrawn, 6 break in learning).",
    "Learner 8 (LearnRefNumber ST008), LearningDelivery AimSeqNumber 1, StdCode: StdCode 9999 matches no "
    "apprenticeship standard in Academy (by LARS code). Check the code, or load the standard with "
    "load_reference_data.",
    "Learner 9 (LearnRefNumber ST009), LearningDelivery AimSeqNumber 1, AchDate: AchDate 01/03/2099 is in the "
    "future: a completed result cannot be dated after today.",
]


def test_standards_file_reports_unknown_codes_and_future_results_and_writes_nothing_until_skipped(world):
    plan = check("ilr/ilr_standards.xml", team_id=world["care"].pk)
    assert [line for row in plan.rows for line in row.error_lines()] == STANDARDS_ERRORS
    assert [r.action for r in plan.rows] == ["new"] * 5 + ["error"] * 4
    with pytest.raises(plans.ImportBlocked):
        pipeline.apply_plan(plan=plan)
    assert (Learner.objects.count(), Cohort.objects.count()) == (0, 1)


def test_standards_file_creates_learners_cohorts_enrolments_statuses_and_results(world, lead):
    plan = check("ilr/ilr_standards.xml", team_id=world["care"].pk)
    assert plan.rows[0].to_preview()["details"] == [
        "New enrolment on new cohort Data analyst L4 — January 2024 (ILR): In learning",
        "New learner with provisional employee number ILR-ST001 until the staff list gives the real one.",
    ]
    counts = pipeline.apply_plan(plan=plan, skip_rows=[6, 7, 8, 9], user=lead, filename="ilr_standards.xml")
    assert pipeline.summary_line(counts) == "5 new, 0 changed, 0 unchanged, 4 skipped"
    assert list(Cohort.objects.filter(name__endswith="(ILR)").order_by("start_date").values_list(
        "name", "provider_ukprn", "start_date")) == [
        ("Data analyst L4 — September 2023 (ILR)", "10033670", dt.date(2023, 9, 1)),
        ("Data analyst L4 — January 2024 (ILR)", "10033670", dt.date(2024, 1, 1)),
        ("Data analyst L4 — February 2024 (ILR)", "10033670", dt.date(2024, 2, 1)),
    ]
    assert list(Learner.objects.order_by("employee_number").values_list(
        "employee_number", "uln", "first_name", "last_name", "work_email", "team__name")) == [
        ("ILR-ST001", "1000000280", "Mary Jane", "Continuing", "st001@example.org", "Adult Social Care"),
        ("ILR-ST002", "1000000353", "Mary Jane", "Distinction", "st002@example.org", "Adult Social Care"),
        ("ILR-ST003", "1000000426", "Mary Jane", "Withdrawn", "st003@example.org", "Adult Social Care"),
        ("ILR-ST004", "1000000493", "Mary Jane", "Break", "st004@example.org", "Adult Social Care"),
        ("ILR-ST005", "1000000566", "Mary Jane", "Awaiting", "st005@example.org", "Adult Social Care"),
    ]
    assert list(Enrolment.objects.order_by("learner__employee_number").values_list(
        "learner__employee_number", "status", "start_date", "planned_end_date", "actual_end_date",
        "withdrawal_reason", "planned_otj_hours")) == [
        ("ILR-ST001", "active", dt.date(2024, 1, 8), dt.date(2026, 1, 8), None, "", Decimal("410.00")),
        ("ILR-ST002", "completed", dt.date(2024, 1, 15), dt.date(2025, 7, 15), dt.date(2025, 7, 1), "",
         Decimal("0.00")),
        ("ILR-ST003", "withdrawn", dt.date(2024, 1, 22), dt.date(2026, 1, 22), dt.date(2024, 9, 30), "44",
         Decimal("0.00")),
        ("ILR-ST004", "break_in_learning", dt.date(2024, 2, 5), dt.date(2026, 2, 5), None, "", Decimal("0.00")),
        ("ILR-ST005", "end_point_assessment", dt.date(2023, 9, 4), dt.date(2025, 9, 4), dt.date(2025, 8, 29), "",
         Decimal("0.00")),
    ]
    assert list(AssessmentResult.objects.values_list("enrolment__learner__employee_number", "grade", "date",
                                                     "attempt")) == [
        ("ILR-ST002", "distinction", dt.date(2025, 7, 20), 1)]
    assert EnrolmentStatusChange.objects.filter(changed_by=lead).count() == 5

    # Importing the same file again changes nothing.
    again = check("ilr/ilr_standards.xml", team_id=world["care"].pk)
    assert [r.action for r in again.rows] == ["unchanged"] * 5 + ["error"] * 4


def test_a_later_return_moves_status_and_adds_the_result(world):
    pipeline.apply_plan(plan=check("ilr/ilr_standards.xml", team_id=world["care"].pk), skip_rows=[6, 7, 8, 9])
    later = fixture_bytes("ilr/ilr_standards.xml").replace(
        b"<CompStatus>1</CompStatus>",
        b"<CompStatus>2</CompStatus><LearnActEndDate>2025-12-19</LearnActEndDate><Outcome>1</Outcome>"
        b"<AchDate>2026-01-05</AchDate><OutGrade>PA</OutGrade>", 1)
    plan = pipeline.build_plan(content=later, options={"team_id": world["care"].pk})
    assert plan.rows[0].action == "changed"
    assert plan.rows[0].to_preview()["details"] == [
        "Enrolment on Data analyst L4 — January 2024 (ILR): LearnActEndDate: (blank) → 19/12/2025",
        "Enrolment on Data analyst L4 — January 2024 (ILR): CompStatus: active → completed",
        "New EPA result: Pass on 05/01/2026",
    ]
    pipeline.apply_plan(plan=plan, skip_rows=[6, 7, 8, 9])
    enrolment = Enrolment.objects.get(learner__employee_number="ILR-ST001")
    assert (enrolment.status, enrolment.actual_end_date, enrolment.version) == ("completed", dt.date(2025, 12, 19), 2)
    assert list(enrolment.assessment_results.values_list("grade", "date")) == [("pass", dt.date(2026, 1, 5))]
    assert list(enrolment.status_changes.values_list("from_status", "to_status", "effective_date")) == [
        ("", "active", dt.date(2024, 1, 8)),
        ("active", "completed", dt.date(2025, 12, 19)),
    ]


def test_without_a_team_only_learners_already_in_academy_are_imported(world):
    hr = factories.LearnerFactory(employee_number="004213", uln="1000000280", first_name="Mary",
                                  last_name="Continuing-Smith", team=world["revenues"])
    plan = check("ilr/ilr_standards.xml")
    assert plan.rows[0].learner.pk == hr.pk
    assert plan.rows[0].action == "new"  # a new enrolment for an existing learner
    assert plan.rows[1].error_lines() == [
        "Learner 2 (LearnRefNumber ST002), Learner: No learner in Academy has ULN 1000000353: choose a team for "
        "new learners when you upload the file, or import the staff list first."]
    pipeline.apply_plan(plan=plan, skip_rows=[row.row for row in plan.rows if row.action == "error"])
    hr.refresh_from_db()
    assert (hr.first_name, hr.last_name, hr.employee_number) == ("Mary", "Continuing-Smith", "004213")
    assert list(hr.enrolments.values_list("cohort__name", "status")) == [
        ("Data analyst L4 — January 2024 (ILR)", "active")]


def test_an_existing_cohort_of_the_standard_provider_and_month_is_used(world):
    cohort = factories.CohortFactory(name="DA January 2024", standard=world["standard"], provider_ukprn="10033670",
                                     start_date=dt.date(2024, 1, 10))
    plan = check("ilr/ilr_standards.xml", team_id=world["care"].pk)
    assert plan.rows[0].enrolments[0].enrolment.cohort == cohort
    assert plan.rows[0].to_preview()["details"][0] == "New enrolment on DA January 2024: In learning"


@pytest.mark.parametrize("replace, message", [
    (b"<WithdrawReason>44</WithdrawReason>", "LearningDelivery AimSeqNumber 1, WithdrawReason: WithdrawReason 42 is for "
     "HE learning aims only, not apprenticeships."),
    (b"<WithdrawReason>44</WithdrawReason>", "LearningDelivery AimSeqNumber 1, WithdrawReason: WithdrawReason 99 is not "
     "in the ILR 2018/19 code list."),
])
def test_unknown_withdrawal_reasons_are_reported(world, replace, message):
    code = b"42" if "42" in message else b"99"
    content = fixture_bytes("ilr/ilr_standards.xml").replace(replace, b"<WithdrawReason>" + code + b"</WithdrawReason>")
    plan = pipeline.build_plan(content=content, options={"team_id": world["care"].pk})
    assert plan.rows[2].error_lines() == [f"Learner 3 (LearnRefNumber ST003), {message}"]


def test_an_outgrade_of_credit_is_reported_not_guessed(world):
    content = fixture_bytes("ilr/ilr_standards.xml").replace(b"<OutGrade>DS</OutGrade>", b"<OutGrade>CR</OutGrade>")
    plan = pipeline.build_plan(content=content, options={"team_id": world["care"].pk})
    assert plan.rows[1].error_lines() == [
        "Learner 2 (LearnRefNumber ST002), LearningDelivery AimSeqNumber 1, OutGrade: OutGrade CR (Credit) is not "
        "an end-point assessment grade Academy records (PA, ME, DS, FL); it was not guessed."]


def test_an_invalid_provider_ukprn_is_reported_when_a_cohort_would_be_needed(world):
    content = fixture_bytes("ilr/ilr_standards.xml").replace(b"<UKPRN>10033670</UKPRN>", b"<UKPRN>90000064</UKPRN>")
    plan = pipeline.build_plan(content=content, options={"team_id": world["care"].pk})
    assert plan.rows[0].error_lines() == [
        "Learner 1 (LearnRefNumber ST001), LearningDelivery AimSeqNumber 1 (new cohort): Data analyst L4 — January "
        "2024 (ILR): UKPRN 90000064: Enter the provider's 8-digit UKPRN, starting with 1."]


def test_an_xml_file_that_is_not_an_ilr_is_refused(world):
    with pytest.raises(ImportFileError) as error:
        pipeline.build_plan(content=b'<?xml version="1.0"?><Staff><Person/></Staff>')
    assert str(error.value) == "This XML file is not an ILR file: its first element is not <Message>."
