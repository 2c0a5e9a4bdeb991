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
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohorts.imports import pipeline, spreadsheet
from cohorts.imports.reading import ImportFileError
from cohorts.models import Cohort, Enrolment, EnrolmentStatusChange, ImportRun
from learners.models import Learner
from outcomes.models import AssessmentResult
from tests.import_helpers import make_world

FUZZ_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
HEADINGS = [column.label for column in spreadsheet.COLUMNS]
EXAMPLES = {column.label: column.example for column in spreadsheet.COLUMNS}
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


@st.composite
def nearly_valid_files(draw) -> bytes:
    """Draw the template's file with 1–4 distinct learners, one cell of one row replaced by an arbitrary value."""
    rows = []
    for n in range(draw(st.integers(1, 4))):
        row = dict(EXAMPLES, **{"Employee number": f"F{n}{draw(st.integers(0, 10**6))}", "ULN": "",
                                "Work email": f"fuzz{n}.{draw(st.integers(0, 10**6))}@council.example.org",
                                "Coach email": ""})
        rows.append(row)
    target = draw(st.sampled_from(rows))
    target[draw(st.sampled_from(HEADINGS))] = draw(CELL)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADINGS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])), errors="replace")


FILES = st.one_of(csv_files(), nearly_valid_files(), st.binary(max_size=300))


def data_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count()
            for m in (Learner, Enrolment, Cohort, AssessmentResult, EnrolmentStatusChange)}


@pytest.mark.django_db
def test_any_csv_file_is_refused_previewed_or_imported_whole(lead):
    """Upload → preview → confirm → import on arbitrary files: no exception escapes; error rows write nothing."""
    make_world()
    outcomes = {"refused": 0, "failed": 0, "blocked": 0, "imported": 0}

    @FUZZ_SETTINGS
    @given(content=FILES)
    def fuzz(content):
        before = data_counts()
        try:
            run = pipeline.start_import(content=content, filename="fuzz.csv", user=lead)
        except ImportFileError:
            outcomes["refused"] += 1
            assert data_counts() == before
            return
        run = pipeline.run_check(run.pk)
        run.refresh_from_db()
        assert run.status in (ImportRun.Status.PREVIEWED, ImportRun.Status.FAILED), run.status
        if run.status == ImportRun.Status.FAILED:
            outcomes["failed"] += 1
            assert run.message and data_counts() == before
            return
        if pipeline.error_rows(run):
            with pytest.raises(pipeline.ImportBlocked):
                pipeline.confirm_import(run=run, skip_rows=[], user=lead)
            # Even straight to the writer, a plan with error rows writes nothing.
            plan = pipeline.build_plan(content=content)
            with pytest.raises(pipeline.ImportBlocked):
                pipeline.apply_plan(plan=plan, user=lead)
            outcomes["blocked"] += 1
            assert data_counts() == before
            return
        pipeline.confirm_import(run=run, skip_rows=[], user=lead)
        run = pipeline.run_apply(run.pk)
        assert run.status in (ImportRun.Status.DONE, ImportRun.Status.FAILED, ImportRun.Status.PREVIEWED)
        if run.status != ImportRun.Status.DONE:
            assert data_counts() == before
        else:
            outcomes["imported"] += 1

    fuzz()
    # The generator reaches every outcome, so the checks above are exercised, not skipped.
    print(f"import fuzz outcomes: {outcomes}")
    assert outcomes["refused"] and outcomes["blocked"] and outcomes["imported"], outcomes
