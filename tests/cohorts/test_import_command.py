"""``manage.py import_enrolments FILE [--dry-run]``: the same import path from the command line."""
import pytest
from django.core.management import CommandError, call_command

from learners.models import Learner
from tests.import_helpers import FIXTURES, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return make_world()


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("import_enrolments", *args, stdout=out, stderr=err)
        error = None
    except CommandError as exc:
        error = str(exc)
    return out.getvalue(), err.getvalue(), error


NO_ULN_HELP = "The learner list's “Details to complete: No ULN yet” filter finds every learner still to complete."


def test_dry_run_prints_the_summary_and_writes_nothing(world):
    out, err, error = run(str(FIXTURES / "imports/staff_basic.csv"), "--dry-run")
    assert error is None and err == ""
    assert out.splitlines() == [
        "staff_basic.csv: checked 3 rows: 3 new, 0 changed, 0 unchanged.",
        "Row 3 has no ULN: they are imported without one. " + NO_ULN_HELP,
        "Dry run: nothing was imported.",
    ]
    assert Learner.objects.count() == 0


def test_it_imports_and_a_second_run_changes_nothing(world):
    out, _, error = run(str(FIXTURES / "imports/staff_basic.csv"))
    assert error is None
    assert out.splitlines()[-1] == "Imported: 3 new, 0 changed, 0 unchanged."
    out, _, _ = run(str(FIXTURES / "imports/staff_basic.csv"))
    assert out.splitlines()[-1] == "Imported: 0 new, 0 changed, 3 unchanged."
    assert Learner.objects.count() == 3


def test_errors_are_printed_with_their_row_and_the_command_fails_writing_nothing(world):
    out, err, error = run(str(FIXTURES / "imports/staff_error_row_7.csv"))
    assert out.splitlines()[0] == "staff_error_row_7.csv: checked 10 rows: 9 new, 0 changed, 0 unchanged, 1 with errors."
    assert err.splitlines() == [
        "Row 8, column ULN: This ULN fails the check digit: check it against the learner's record."]
    assert error == "1 row with errors: nothing was imported."
    assert Learner.objects.count() == 0


def test_the_command_exits_non_zero(world, tmp_path):
    """Run as a process, the command's exit status is 1 on errors (what a scheduled feed checks)."""
    import subprocess
    import sys

    from django.conf import settings

    result = subprocess.run(
        [sys.executable, "manage.py", "import_enrolments", str(FIXTURES / "imports/not_a_spreadsheet.png")],
        cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "academy.settings_test"},
    )
    assert result.returncode == 1
    assert "not_a_spreadsheet.png: This file is not a CSV or Excel spreadsheet." in result.stderr


def test_an_ilr_file_with_a_team_for_new_learners(world):
    out, err, error = run(str(FIXTURES / "ilr/ilr_sample_apprenticeship_1819_ILRFile.xml"), "--team",
                          "adult social care", "--dry-run")
    assert error is None
    assert out.splitlines() == [
        "ilr_sample_apprenticeship_1819_ILRFile.xml: checked 1 row: 0 new, 0 changed, 0 unchanged, 1 not imported.",
        "Learner 1 (LearnRefNumber 9900000705): not imported: LearningDelivery AimSeqNumber 1: framework programmes "
        "are not supported: FworkCode 508, PwayCode 1 (ProgType 2 Advanced Level Apprenticeship). Only "
        "apprenticeship standards (ProgType 25) are imported.",
        "Dry run: nothing was imported.",
    ]
