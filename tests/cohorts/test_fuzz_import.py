"""Fuzzing the spreadsheet import with hypothesis: never an unhandled exception, never a partial write.

Arbitrary CSV files — the real column headings (shuffled, some left out, made-up ones
added) over rows of arbitrary cells, in UTF-8, UTF-8 with a byte-order mark, UTF-16,
Windows-1252 or Latin-1, with comma or semicolon separators, or plain random bytes —
go through the web pipeline a lead uses: ``start_import`` (upload) → ``run_check``
(preview) → ``confirm_import`` → ``run_apply`` (tasks in-process). Every file must
end as a refused upload (``ImportFileError``), a failed check, a preview whose error
rows block the confirmation, or a finished import; and a file with any error row
writes nothing to the learners, enrolments, cohorts and results tables.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohorts.imports import pipeline, plans, runs, spreadsheet
from cohorts.imports.reading import ImportFileError
from cohorts.models import AssessmentResult, Cohort, Enrolment, EnrolmentStatusChange, ImportRun
from learners.models import Learner
from tests.import_helpers import make_world

FUZZ_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
HEADINGS = [column.label for column in spreadsheet.COLUMNS]
# The template's example row, with the dates of the test world's cohort (make_world: ST0118
# from 8 January 2024) in place of the demo's.
EXAMPLES = {column.label: column.example for column in spreadsheet.COLUMNS} | {
    "Cohort start date": "08/01/2024", "Start date": "08/01/2024", "Planned end date": "08/01/2026"}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]
CELL = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-5", "9999999999", "31/02/2024", "08/01/2024", "2024-01-08", "ST0118", "ST9999",
                     "Revenues and Benefits", "bob@example.org", "not-an-email", "9900000705", "1234567890",
                     "=1+1", "\x00", "a" * 300]),
)


@st.composite
def csv_files(draw) -> bytes:
    """Draw a CSV file: real and made-up headings, up to 6 rows of real-looking or arbitrary cells, some encoding."""
    headings = draw(st.lists(st.sampled_from(HEADINGS), unique=True, min_size=0, max_size=len(HEADINGS)))
    headings += draw(st.lists(st.text(max_size=15), max_size=2))
    headings = draw(st.permutations(headings))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        rows.append([draw(st.one_of(st.just(EXAMPLES.get(h, "")), CELL)) for h in headings])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=draw(st.sampled_from([",", ";"])))
    writer.writerow(headings)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(ENCODINGS))
    return buffer.getvalue().encode(encoding, errors="replace")


def _template_rows(draw, cell, prefix: str) -> list[dict]:
    """Draw 1–4 distinct learners of the template (heading → value), one cell of one row replaced by ``cell``."""
    rows = []
    for n in range(draw(st.integers(1, 4))):
        row = dict(EXAMPLES, **{"Employee number": f"{prefix}{n}{draw(st.integers(0, 10**6))}", "ULN": "",
                                "Work email": f"{prefix}{n}.{draw(st.integers(0, 10**6))}@council.example.org",
                                "Coach email": ""})
        rows.append(row)
    draw(st.sampled_from(rows))[draw(st.sampled_from(HEADINGS))] = draw(cell)
    return rows


@st.composite
def nearly_valid_files(draw) -> bytes:
    """Draw the template's file with 1–4 distinct learners, one cell of one row replaced by an arbitrary value."""
    rows = _template_rows(draw, CELL, "F")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADINGS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])), errors="replace")


FILES = st.one_of(csv_files(), nearly_valid_files(), st.binary(max_size=300))


def data_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count()
            for m in (Learner, Enrolment, Cohort, AssessmentResult, EnrolmentStatusChange)}


def _through_the_pipeline(content: bytes, *, filename: str, lead, outcomes: dict, options=None,
                          skip_errors: bool = False) -> None:
    """Upload → preview → confirm → import ``content``; count the outcome; check nothing half-written.

    With ``skip_errors``, a preview with error rows is then confirmed skipping them, as a
    lead may: the other rows must import.
    """
    before = data_counts()
    try:
        run = runs.start_import(content=content, filename=filename, user=lead, options=options)
    except ImportFileError:
        outcomes["refused"] += 1
        assert data_counts() == before
        return
    run = runs.run_check(run.pk)
    run.refresh_from_db()
    assert run.status in (ImportRun.Status.PREVIEWED, ImportRun.Status.FAILED), run.status
    if run.status == ImportRun.Status.FAILED:
        outcomes["failed"] += 1
        assert run.message and data_counts() == before
        return
    if runs.error_rows(run):
        with pytest.raises(plans.ImportBlocked):
            runs.confirm_import(run=run, skip_rows=[], user=lead)
        # Even straight to the writer, a plan with error rows writes nothing.
        plan = pipeline.build_plan(content=content, options=options)
        with pytest.raises(plans.ImportBlocked):
            pipeline.apply_plan(plan=plan, user=lead)
        outcomes["blocked"] += 1
        assert data_counts() == before
        if not skip_errors:
            return
        skipped = runs.error_rows(run)
        runs.confirm_import(run=run, skip_rows=skipped, user=lead)
        run = runs.run_apply(run.pk)
        assert run.status == ImportRun.Status.DONE, (run.status, run.message)
        outcomes["imported skipping errors"] = outcomes.get("imported skipping errors", 0) + 1
        return
    runs.confirm_import(run=run, skip_rows=[], user=lead)
    run = runs.run_apply(run.pk)
    assert run.status in (ImportRun.Status.DONE, ImportRun.Status.FAILED, ImportRun.Status.PREVIEWED)
    if run.status != ImportRun.Status.DONE:
        assert data_counts() == before
    else:
        outcomes["imported"] += 1


@pytest.mark.django_db
def test_any_csv_file_is_refused_previewed_or_imported_whole(lead):
    """Upload → preview → confirm → import on arbitrary files: no exception escapes; error rows write nothing."""
    make_world()
    outcomes = {"refused": 0, "failed": 0, "blocked": 0, "imported": 0}

    @FUZZ_SETTINGS
    @given(content=FILES)
    def fuzz(content):
        _through_the_pipeline(content, filename="fuzz.csv", lead=lead, outcomes=outcomes)

    fuzz()
    # The generator reaches every outcome, so the checks above are exercised, not skipped.
    print(f"import fuzz outcomes: {outcomes}")
    assert outcomes["refused"] and outcomes["blocked"] and outcomes["imported"], outcomes


@st.composite
def xlsx_files(draw) -> bytes:
    """Draw an Excel workbook: the template's headings over 1–4 rows, one cell arbitrary (text, number, date, formula)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    headings = draw(st.permutations(HEADINGS))
    sheet.append(list(headings))
    rows = _template_rows(draw, st.one_of(
        CELL.filter(lambda text: "\x00" not in text and not any(ord(c) < 32 and c not in "\t\n\r" for c in text)),
        st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
        st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)), st.none(),
    ), "X")
    for row in rows:
        sheet.append([row[h] for h in headings])
    for _ in range(draw(st.integers(0, 2))):
        sheet.append([None] * len(headings))  # trailing blank rows, as spreadsheets keep them
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if draw(st.booleans()) and draw(st.booleans()):  # a quarter of them: a damaged file
        cut = draw(st.integers(0, len(data)))
        data = data[:cut]
    return data


@pytest.mark.django_db
def test_any_excel_workbook_is_refused_previewed_or_imported_whole(lead):
    """The same pipeline on Excel workbooks, some damaged: no exception escapes; error rows write nothing."""
    make_world()
    outcomes = {"refused": 0, "failed": 0, "blocked": 0, "imported": 0}

    @settings(FUZZ_SETTINGS, max_examples=50)
    @given(content=xlsx_files())
    def fuzz(content):
        _through_the_pipeline(content, filename="fuzz.xlsx", lead=lead, outcomes=outcomes)

    fuzz()
    print(f"xlsx fuzz outcomes: {outcomes}")
    assert (outcomes["refused"] or outcomes["failed"]) and outcomes["blocked"] and outcomes["imported"], outcomes


ILR = (Path(__file__).parent.parent / "fixtures" / "ilr" / "ilr_standards.xml").read_bytes()
ILR_TEXTS = [m.span(1) for m in re.finditer(rb">([^<>]+)<", ILR)]


@st.composite
def ilr_files(draw) -> bytes:
    """Draw ESFA's ILR file (as changed for standards) with 1–3 element values replaced, or cut short."""
    data = ILR
    for start, end in sorted(draw(st.lists(st.sampled_from(ILR_TEXTS), min_size=1, max_size=3, unique=True)),
                             reverse=True):
        value = draw(st.one_of(CELL, st.sampled_from(["", "80", "25", "2", "1", "ZPROG001", "2024-01-08",
                                                      "9999-99-99", "-1", "&", "<x>", "]]>"])))
        data = data[:start] + value.encode("utf-8", errors="replace") + data[end:]
    if draw(st.integers(0, 4)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    return data


@pytest.mark.django_db
def test_any_ilr_file_is_refused_previewed_or_imported_whole(lead):
    """The pipeline on mutated ILR XML: no exception escapes; nothing half-written."""
    world = make_world()
    outcomes = {"refused": 0, "failed": 0, "blocked": 0, "imported": 0}

    @settings(FUZZ_SETTINGS, max_examples=50)
    @given(content=ilr_files())
    def fuzz(content):
        with transaction.atomic():  # each file against the same database: its import is undone after
            _through_the_pipeline(content, filename="fuzz.xml", lead=lead, outcomes=outcomes,
                                  options={"team_id": world["care"].pk}, skip_errors=True)
            transaction.set_rollback(True)

    fuzz()
    print(f"ILR fuzz outcomes: {outcomes}")
    assert (outcomes["refused"] or outcomes["failed"]) and outcomes.get("imported skipping errors"), outcomes
