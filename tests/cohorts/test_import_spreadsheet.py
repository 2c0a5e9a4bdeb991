"""Staff spreadsheet import: every quirk of real HR exports, on small fixture files.

Each test asserts the exact rows created or changed and the exact messages.
"""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection

from academy.models import AuditEvent
from cohorts.imports import pipeline, plans
from cohorts.imports.reading import ImportFileError, parse_date
from cohorts.models import Enrolment, EnrolmentStatusChange
from learners.models import Learner
from tests import factories
from tests.import_helpers import fixture_bytes, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(coach):
    return make_world()


def check(name, **options):
    return pipeline.build_plan(content=fixture_bytes(name), options=options)


def learners():
    return list(Learner.objects.order_by("employee_number").values_list(
        "employee_number", "first_name", "last_name", "work_email", "uln", "team__name", "line_manager_name",
        "line_manager_email"))


BASIC_LEARNERS = [
    ("004213", "Priya", "Sharma", "priya.sharma@council.example.org", "1000000078", "Revenues and Benefits",
     "Sam Jones", "sam.jones@council.example.org"),
    ("004214", "Tom", "Baker", "tom.baker@council.example.org", "", "Adult Social Care", "", ""),
    ("004215", "Aisha", "Khan", "aisha.khan@council.example.org", "1000000140", "Revenues and Benefits",
     "Sam Jones", "sam.jones@council.example.org"),
]


@pytest.mark.parametrize("name", ["imports/staff_basic.csv", "imports/staff_bom.csv"])
def test_it_imports_a_utf8_csv_with_or_without_a_byte_order_mark(world, name):
    plan = check(name)
    assert [(r.row, r.action) for r in plan.rows] == [(2, "new"), (3, "new"), (4, "new")]
    counts = pipeline.apply_plan(plan=plan, filename="staff.csv")
    assert counts == {"new": 3, "changed": 0, "unchanged": 0, "error": 0, "not_imported": 0, "skipped": 0,
                      "total": 3}
    assert learners() == BASIC_LEARNERS


def test_it_is_idempotent_when_the_same_file_is_imported_again(world):
    pipeline.apply_plan(plan=check("imports/staff_basic.csv"))
    history_before = Learner.history.count()
    plan = check("imports/staff_basic.csv")
    assert [r.action for r in plan.rows] == ["unchanged"] * 3
    counts = pipeline.apply_plan(plan=plan)
    assert (counts["new"], counts["changed"], counts["unchanged"]) == (0, 0, 3)
    assert learners() == BASIC_LEARNERS
    assert Learner.history.count() == history_before


def test_it_reports_and_applies_a_changed_row(world):
    factories.LearnerFactory(employee_number="004213", first_name="Priya", last_name="Patel",
                             work_email="priya.sharma@council.example.org", uln="", team=world["care"])
    plan = check("imports/staff_basic.csv")
    row = plan.rows[0]
    assert row.action == "changed"
    assert row.to_preview()["details"] == [
        "Last name: Patel → Sharma", "ULN: (blank) → 1000000078", "Line manager name: (blank) → Sam Jones",
        "Line manager email: (blank) → sam.jones@council.example.org",
        "Team: Adult Social Care → Revenues and Benefits",
    ]
    counts = pipeline.apply_plan(plan=plan)
    assert (counts["new"], counts["changed"]) == (2, 1)
    learner = Learner.objects.get(employee_number="004213")
    assert (learner.last_name, learner.uln, learner.team.name, learner.version) == (
        "Sharma", "1000000078", "Revenues and Benefits", 2)
    assert learner.history.first().history_change_reason == "Imported"


def test_it_reads_windows_1252_text(world):
    plan = check("imports/staff_cp1252.csv")
    pipeline.apply_plan(plan=plan)
    assert list(Learner.objects.order_by("employee_number").values_list(
        "first_name", "last_name", "line_manager_name")) == [
        ("Siân", "O’Connor", "René Dubois"), ("José", "Núñez", "")]


def test_it_matches_reordered_extra_and_oddly_spelt_headers_and_ignores_blank_trailing_rows(world):
    plan = check("imports/staff_reordered.csv")
    assert plan.notes[0] == "Columns not used: Department, Grade."
    assert [(r.row, r.action) for r in plan.rows] == [(2, "new"), (3, "new")]
    pipeline.apply_plan(plan=plan)
    assert list(Learner.objects.order_by("employee_number").values_list(
        "employee_number", "first_name", "last_name", "work_email", "team__name")) == [
        ("004213", "Priya", "Sharma", "priya.sharma@council.example.org", "Revenues and Benefits"),
        ("004214", "Tom", "Baker", "tom.baker@council.example.org", "Adult Social Care"),
    ]


def test_it_reads_excel_numbers_and_date_cells_and_matches_lost_leading_zeros(world):
    existing = factories.LearnerFactory(employee_number="004213", first_name="Priya", last_name="Sharma",
                                        work_email="priya.sharma@council.example.org", uln="1000000078",
                                        team=world["revenues"])
    plan = check("imports/staff_numbers.xlsx")
    # Row 2's learner exists (unchanged) but gets a new enrolment, so the row is "new".
    assert [(r.row, r.action, r.key, r.learner_action) for r in plan.rows] == [
        (2, "new", "4213", "unchanged"), (3, "new", "4218", "new")]
    assert plan.rows[0].learner.pk == existing.pk
    assert plan.rows[0].to_preview()["details"] == [
        "New enrolment on Data Analyst L4 — January 2024",
        "Employee number 4213 matched existing employee number 004213 (leading zeros are often lost when a "
        "spreadsheet stores numbers).",
    ]
    pipeline.apply_plan(plan=plan)
    assert list(Learner.objects.order_by("employee_number").values_list("employee_number", "uln")) == [
        ("004213", "1000000078"), ("4218", "1000000213")]
    assert list(Enrolment.objects.order_by("learner__employee_number").values_list(
        "learner__employee_number", "start_date", "planned_end_date", "planned_otj_hours", "status")) == [
        ("004213", dt.date(2024, 1, 8), dt.date(2026, 1, 8), Decimal("400.00"), "active"),
        ("4218", dt.date(2024, 1, 15), dt.date(2026, 1, 15), Decimal("400.00"), "active"),
    ]


def test_it_creates_enrolments_by_cohort_name_or_standard_and_start_date(world, coach):
    plan = check("imports/staff_enrolments.csv")
    assert [r.action for r in plan.rows] == ["new", "new"]
    pipeline.apply_plan(plan=plan, filename="staff_enrolments.csv")
    assert list(Enrolment.objects.order_by("learner__employee_number").values_list(
        "learner__employee_number", "cohort__name", "coach__email", "start_date", "planned_end_date",
        "planned_otj_hours")) == [
        ("007001", "Data Analyst L4 — January 2024", "bob@example.org", dt.date(2024, 1, 8), dt.date(2026, 1, 8),
         Decimal("400.00")),
        ("007002", "Data Analyst L4 — January 2024", None, dt.date(2024, 1, 15), dt.date(2026, 1, 15),
         Decimal("412.50")),
    ]
    assert list(EnrolmentStatusChange.objects.order_by("effective_date").values_list(
        "from_status", "to_status", "effective_date", "reason")) == [
        ("", "active", dt.date(2024, 1, 8), "Imported from staff_enrolments.csv"),
        ("", "active", dt.date(2024, 1, 15), "Imported from staff_enrolments.csv"),
    ]
    # A second import of the same file changes nothing.
    again = check("imports/staff_enrolments.csv")
    assert [r.action for r in again.rows] == ["unchanged", "unchanged"]


HALF_VALID_ERRORS = [
    "Row 3, column Team: There is no team called “Parks”. Check the spelling, or add the team on the Teams page, "
    "then upload the file again.",
    "Row 4, column Employee number: Employee number 6001 is also in row 2: each member of staff can appear only "
    "once.",
    "Row 5, column ULN: Enter a ULN of exactly 10 digits, like 1234567890.",
    "Row 6, column Standard reference: There is no apprenticeship standard ST9999. Use a reference like ST0118 "
    "from the standards list.",
    "Row 7, column Planned end date: '12/31/2025' is not a date. Enter a date as dd/mm/yyyy, like 27/03/2026",
    "Row 8, column Coach email: dave@example.org is not a coach. Add the coach as a user with the role Coach, "
    "or leave the cell blank.",
    "Row 9, column First name: Enter the first name.",
    "Row 9, column Work email: Enter a valid email address.",
]


def test_a_half_valid_upload_names_each_row_column_and_reason_and_writes_nothing(world, head):
    plan = check("imports/staff_half_valid.csv")
    assert [line for row in plan.rows for line in row.error_lines()] == HALF_VALID_ERRORS
    assert plan.counts() == {"new": 1, "changed": 0, "unchanged": 0, "error": 7, "not_imported": 0,
                             "skipped": 0, "total": 8}
    with pytest.raises(plans.ImportBlocked) as blocked:
        pipeline.apply_plan(plan=plan)
    assert str(blocked.value) == ("7 rows have errors (rows 3, 4, 5, 6, 7, 8, 9): fix the file and upload it "
                                  "again, or skip those rows.")
    assert Learner.objects.count() == 0


def test_skipping_the_error_rows_imports_the_rest(world, head):
    plan = check("imports/staff_half_valid.csv")
    counts = pipeline.apply_plan(plan=plan, skip_rows=[3, 4, 5, 6, 7, 8, 9])
    assert (counts["new"], counts["skipped"], counts["error"]) == (1, 7, 0)
    assert list(Learner.objects.values_list("employee_number", flat=True)) == ["006001"]
    assert pipeline.summary_line(counts) == "1 new, 0 changed, 0 unchanged, 7 skipped"


def test_an_error_in_row_7_of_10_leaves_the_database_unchanged(world):
    """The 7th of 10 data rows (spreadsheet row 8) fails the ULN check digit: nothing at all is written."""
    before = (Learner.objects.count(), Learner.history.count(), AuditEvent.objects.count())
    plan = check("imports/staff_error_row_7.csv")
    assert [r.action for r in plan.rows] == ["new"] * 6 + ["error"] + ["new"] * 3
    assert plan.rows[6].error_lines() == [
        "Row 8, column ULN: This ULN fails the check digit: check it against the learner's record."]
    with pytest.raises(plans.ImportBlocked):
        pipeline.apply_plan(plan=plan)
    assert (Learner.objects.count(), Learner.history.count(), AuditEvent.objects.count()) == before


def test_a_database_failure_part_way_through_the_write_rolls_back_every_row(world, coach, monkeypatch):
    """Learners are inserted before enrolments' status history; a failure there undoes the learners too."""
    plan = check("imports/staff_enrolments.csv")

    def fail(*args, **kwargs):
        raise IntegrityError("simulated failure")

    monkeypatch.setattr(EnrolmentStatusChange.objects, "bulk_create", fail)
    with pytest.raises(IntegrityError):
        pipeline.apply_plan(plan=plan)
    assert (Learner.objects.count(), Enrolment.objects.count(), Learner.history.count()) == (0, 0, 0)


def test_a_confirmed_import_records_an_audit_event_with_the_counts(world, lead):
    pipeline.apply_plan(plan=check("imports/staff_basic.csv"), user=lead, filename="staff_basic.csv")
    event = AuditEvent.objects.get(action="import")
    assert event.user == lead
    assert event.detail["file"] == "staff_basic.csv"
    assert event.detail["counts"]["new"] == 3


def test_a_learner_added_from_an_ilr_file_is_adopted_by_uln(world):
    factories.LearnerFactory(employee_number="ILR-ST001", uln="1000000078", team=world["care"],
                             work_email="priya.sharma@council.example.org", first_name="Priya", last_name="Sharma")
    plan = check("imports/staff_basic.csv")
    assert plan.rows[0].action == "changed"
    assert "Employee number: ILR-ST001 → 004213" in plan.rows[0].to_preview()["details"]
    pipeline.apply_plan(plan=plan)
    assert Learner.objects.filter(uln="1000000078").get().employee_number == "004213"


def test_a_work_email_or_uln_of_another_learner_is_an_error(world):
    factories.LearnerFactory(employee_number="000999", work_email="tom.baker@council.example.org",
                             uln="1000000140", team=world["care"])
    plan = check("imports/staff_basic.csv")
    assert [line for row in plan.rows for line in row.error_lines()] == [
        "Row 3, column Work email: Work email tom.baker@council.example.org already belongs to the learner with "
        "employee number 000999.",
        "Row 4, column ULN: ULN 1000000140 already belongs to the learner with employee number 000999.",
    ]


@pytest.mark.parametrize("content, message", [
    (fixture_bytes("imports/not_a_spreadsheet.png"), "This file is not a CSV or Excel spreadsheet."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
     "This file is not a CSV or Excel spreadsheet: it looks like an old Excel 97-2003 (.xls) workbook. "
     "Save it as an Excel workbook (.xlsx) or CSV and upload that."),
    (b"PK\x03\x04not really a zip", "This file is not a CSV or Excel spreadsheet."),
    (b"", "The file is empty."),
    (b"First name,Last name\r\nPriya,Sharma\r\n",
     "The file has no column for: Employee number (or Employee No, Employee Num, Employee Id); Work email (or "
     "Email, Email Address, Work Email Address); Team (or Team Name). The first row must hold the column "
     "headers; download the template to see them."),
    (b"Employee number,Staff number,First name,Last name,Email,Team\r\n",
     "Two columns are both read as “Employee number”: “Employee number” and “Staff number”. Delete or rename "
     "one of them."),
    (b"Employee number,First name,Last name,Email,Team\r\n,,,,\r\n", "The file has a header row but no data rows."),
])
def test_files_that_cannot_be_read_are_refused_with_the_reason(world, content, message):
    with pytest.raises(ImportFileError) as error:
        pipeline.build_plan(content=content)
    assert str(error.value) == message


@pytest.mark.parametrize("value, expected", [
    ("29/11/2026", dt.date(2026, 11, 29)),
    ("29/11/26", dt.date(2026, 11, 29)),
    ("2026-11-29", dt.date(2026, 11, 29)),
    ("29 November 2026", dt.date(2026, 11, 29)),
    ("29/11/2026 00:00", dt.date(2026, 11, 29)),
    (dt.datetime(2026, 11, 29, 0, 0), dt.date(2026, 11, 29)),
    (46355, dt.date(2026, 11, 29)),  # an Excel serial number in a date column formatted as a number
    ("", None),
])
def test_it_reads_uk_dates_and_excel_dates(value, expected):
    assert parse_date(value) == expected


def test_it_refuses_us_dates_rather_than_swapping_them():
    with pytest.raises(ValueError) as error:
        parse_date("11/29/2026")
    assert str(error.value) == "'11/29/2026' is not a date. Enter a date as dd/mm/yyyy, like 27/03/2026"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
@pytest.mark.parametrize("name", ["imports/staff_basic.csv", "imports/staff_enrolments.csv"])
def test_large_imports_written_with_copy_give_the_same_rows_and_history(world, lead, monkeypatch, name):
    """At scale PostgreSQL writes with COPY (``pipeline._copy_create``); the rows and history are bulk_create's."""
    def written():
        tracked = [f.attname for f in Learner.history.model.tracked_fields if f.attname not in ("id", "created_at",
                                                                                               "updated_at")]
        learners_ = sorted(Learner.objects.values_list(*tracked))
        history = sorted(Learner.history.values_list("history_type", "history_user_id", "history_change_reason",
                                                     *tracked))
        enrolments = sorted(Enrolment.objects.values_list("learner__employee_number", "cohort__name", "coach_id",
                                                          "start_date", "status", "version"))
        enrolment_history = sorted(Enrolment.history.values_list("history_type", "history_user_id",
                                                                 "history_change_reason", "status"))
        changes = sorted(EnrolmentStatusChange.objects.values_list("enrolment__learner__employee_number",
                                                                   "to_status", "changed_by_id", "reason"))
        return learners_, len(history), [h[:3] for h in history], enrolments, len(enrolment_history), changes

    from django.db import transaction

    class Undo(Exception):
        pass

    try:
        with transaction.atomic():
            pipeline.apply_plan(plan=check(name), user=lead, filename="staff.csv")
            expected = written()
            raise Undo
    except Undo:
        pass
    monkeypatch.setattr(pipeline, "COPY_MIN_ROWS", 1)
    pipeline.apply_plan(plan=check(name), user=lead, filename="staff.csv")
    got = written()
    assert got[0] == expected[0] and got[1] == expected[1] == len(got[0])
    assert got[2] == expected[2] and set(got[2]) == {("+", lead.pk, "Imported from staff.csv")}
    assert got[3] == expected[3] and got[4] == expected[4] and got[5] == expected[5]
    assert [r.action for r in check(name).rows] == ["unchanged"] * len(got[0])
    factories.LearnerFactory()  # the id sequence moved past the copied rows


def test_academys_own_learner_download_imports_back_unchanged(client_for, lead, world):
    """Was: importing Academy's CSV stored the formula guard's apostrophe in the name ("'=1+1")."""
    odd = factories.LearnerFactory(first_name="=1+1", last_name="-Smith", team=world["revenues"],
                                   line_manager_name="@Home", employee_number="009001", uln="")
    plain = factories.LearnerFactory(first_name="Priya", last_name="O'Brien", team=world["care"],
                                     employee_number="009002", uln="")
    content = client_for(lead).get("/learners/export.csv").content
    assert b"'=1+1" in content  # guarded in the file

    plan = pipeline.build_plan(content=content, options={})

    assert {r.row: r.action for r in plan.rows} == {2: "unchanged", 3: "unchanged"}, [r.errors for r in plan.rows]
    pipeline.apply_plan(plan=plan)
    odd.refresh_from_db()
    plain.refresh_from_db()
    assert (odd.first_name, odd.last_name, odd.line_manager_name) == ("=1+1", "-Smith", "@Home")
    assert plain.last_name == "O'Brien"


def test_rows_without_a_uln_are_flagged_and_the_lead_can_list_them(client_for, lead, world):
    """Was: a blank ULN accepted silently."""
    plan = check("imports/staff_basic.csv")
    assert ("Row 3 has no ULN: they are imported without one. The learner list's “Details to complete: No ULN yet” "
            "filter finds every learner still to complete.") in plan.notes
    assert [r.row for r in plan.rows if "No ULN yet." in r.notes] == [3]
    pipeline.apply_plan(plan=plan)

    page = client_for(lead).get("/learners/", {"missing": "uln"})
    assert [learner.employee_number for learner in page.context["page"].object_list] == ["004214"]
    enrolments = client_for(lead).get("/enrolments/", {"missing": "uln"})
    assert enrolments.status_code == 200 and "Details to complete" in enrolments.content.decode()
