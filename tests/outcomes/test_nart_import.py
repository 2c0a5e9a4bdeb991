"""Importing the DfE national achievement rate tables (NARTs) in their published layout."""
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse

from outcomes.models import NationalBenchmark
from outcomes.nart_import import (
    NartChange,
    NartFileError,
    apply_narts,
    parse_count,
    parse_narts,
    parse_percent,
    parse_time_period,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

IMPORT = reverse("outcomes:benchmark_import")
CONFIRM = reverse("outcomes:benchmark_import_confirm")
PREVIEW_FILE = Path(settings.BASE_DIR) / "academy" / "data" / "narts_standard_level_preview_rows_transcribed.csv"
HEADER = (
    "time_period,time_identifier,geographic_level,country_code,country_name,std_fwk_flag,route,std_fwk_name_stcode,"
    "level,detailed_level,age_youth_adult,age_group,funding_type,leavers,completers,achievers,retention_rate,"
    "pass_rate,achievement_rate"
)
# Rows 2–4 are totals (imported); 5 is an age breakdown and 6 a framework (both skipped).
FIXTURE = "\n".join([
    HEADER,
    "202324,Academic year,National,E92000001,England,Standard,Digital,Data Analyst-ST0118,Higher Level,Level 4,"
    "Total,Total,Total,1200,800,720,66.7,90.0,60.0",
    "202324,Academic year,National,E92000001,England,Standard,Total,Total,Advanced Level,Level 3,"
    "Total,Total,Total,\"1,130\",690,680,61.1,98.4,59.6",
    "202223,Academic year,National,E92000001,England,Standard,Total,Total,Total,Total,"
    "Total,Total,Total,low,low,low,x,low,x",
    "202324,Academic year,National,E92000001,England,Standard,Digital,Data Analyst-ST0118,Higher Level,Level 4,"
    "19+,19-23,Total,100,80,70,80.0,87.5,70.0",
    "202324,Academic year,National,E92000001,England,Framework,Digital,IT User-FW123,Advanced Level,Level 3,"
    "Total,Total,Total,100,80,70,80.0,87.5,70.0",
]) + "\n"


@pytest.fixture
def data_analyst(db):
    return f.StandardFactory(reference="ST0118", title="Data analyst", level=4)


def upload(name: str, text: str | bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="text/csv")


def test_values_are_parsed_as_published():
    assert parse_time_period("202223") == "2022/23"
    assert parse_percent("60.5") == Decimal("0.6050")
    assert parse_percent("100.0") == Decimal("1.0000")
    assert parse_percent("low") is None and parse_percent("x") is None and parse_percent("") is None
    assert parse_count("1,130") == 1130 and parse_count("low") is None
    with pytest.raises(ValueError):
        parse_percent("101")
    with pytest.raises(ValueError):
        parse_count("ten")


def test_the_published_preview_rows_are_all_breakdowns_and_skipped_with_reasons(db):
    """The 5 preview rows are for one age group and funding type each: none describes a whole standard."""
    f.StandardFactory(reference="ST0888", title="Early years practitioner", level=2)
    with PREVIEW_FILE.open("rb") as stream:
        preview = parse_narts(stream)

    assert preview.rows == 5
    assert preview.changes == [] and preview.errors == []
    assert [row for row, _ in preview.skipped] == [2, 3, 4, 5, 6]
    reason = dict(preview.skipped)[6]
    assert "age_youth_adult is 19+" in reason and "age_group is 19-23" in reason and "funding_type is Other" in reason
    assert "only rows with Total age group and funding type are imported" in reason
    assert preview.can_import is False


def test_totals_become_benchmarks_by_standard_level_and_all_with_suppressed_values_unknown(data_analyst):
    preview = parse_narts(upload("narts.csv", FIXTURE))

    assert preview.errors == []
    assert [row for row, _ in preview.skipped] == [5, 6]
    assert "frameworks are a different population" in dict(preview.skipped)[6]
    got = {(c.measure, c.scope, c.standard_id, c.level, c.academic_year): (c.rate, c.numerator, c.denominator)
           for c in preview.changes}
    assert got == {
        ("achievement_rate", "standard", data_analyst.pk, None, "2023/24"): ("0.6000", 720, 1200),
        ("pass_rate", "standard", data_analyst.pk, None, "2023/24"): ("0.9000", 720, 800),
        ("retention_rate", "standard", data_analyst.pk, None, "2023/24"): ("0.6670", 800, 1200),
        ("achievement_rate", "level", None, 3, "2023/24"): ("0.5960", 680, 1130),
        ("pass_rate", "level", None, 3, "2023/24"): ("0.9840", 680, 690),
        ("retention_rate", "level", None, 3, "2023/24"): ("0.6110", 690, 1130),
        # low / x: unknown, never 0 (and no counts either).
        ("achievement_rate", "all", None, None, "2022/23"): (None, None, None),
        ("pass_rate", "all", None, None, "2022/23"): (None, None, None),
        ("retention_rate", "all", None, None, "2022/23"): (None, None, None),
    }
    assert preview.counts == {"new": 9, "changed": 0, "unchanged": 0, "skipped": 2, "errors": 0}


def test_an_unknown_standard_reference_is_a_row_error_and_nothing_can_be_imported(data_analyst):
    text = FIXTURE.replace("Data Analyst-ST0118,Higher Level,Level 4,Total", "Data Wizard-ST9999,Higher Level,Level 4,Total")
    preview = parse_narts(upload("narts.csv", text))
    assert preview.errors == [(2, "Standard ST9999 is not in Academy's list of standards")]
    assert preview.can_import is False


@pytest.mark.parametrize(
    "bad, message",
    [
        ("202324,", "time_period '2023' is not an academic year like 202223"),
        ("Data Analyst-ST0118,Higher Level,Level 5,", "detailed_level is Level 5 but ST0118 is level 4"),
        ("Data Analyst,Higher Level,Level 4,", "does not end in a standard reference like -ST0118"),
    ],
)
def test_other_row_errors_name_the_column(data_analyst, bad, message):
    good = {"202324,": "202324,", "Data Analyst-ST0118,Higher Level,Level 5,": "Data Analyst-ST0118,Higher Level,Level 4,",
            "Data Analyst,Higher Level,Level 4,": "Data Analyst-ST0118,Higher Level,Level 4,"}[bad]
    first_row = FIXTURE.splitlines()[1]
    if bad == "202324,":
        broken = "2023," + first_row[len("202324,"):]
    else:
        broken = first_row.replace(good, bad)
    preview = parse_narts(upload("narts.csv", "\n".join([HEADER, broken]) + "\n"))
    assert len(preview.errors) == 1 and message in preview.errors[0][1]


def test_a_file_without_the_published_columns_is_refused(db):
    with pytest.raises(NartFileError, match="it has no column std_fwk_flag, std_fwk_name_stcode"):
        parse_narts(upload("narts.csv", "time_period,leavers\n202324,10\n"))


def test_a_lead_previews_then_confirms_and_the_import_is_recorded(client_for, lead, data_analyst):
    client = client_for(lead)
    response = client.post(IMPORT, {"file": upload("narts-2023-24.csv", FIXTURE)})
    assert response.status_code == 200
    assert NationalBenchmark.objects.count() == 0  # nothing written before confirming
    page = response.content.decode()
    assert "Import 9 benchmarks" in page and "Suppressed (stored as unknown)" in page and "60.0%" in page

    confirmed = client.post(CONFIRM)
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("outcomes:benchmark_list")
    assert NationalBenchmark.objects.count() == 9
    standard = NationalBenchmark.objects.get(measure="achievement_rate", scope="standard", standard=data_analyst)
    assert (standard.rate, standard.numerator, standard.denominator) == (Decimal("0.6000"), 720, 1200)
    assert standard.academic_year == "2023/24" and "narts-2023-24.csv" in standard.note
    suppressed = NationalBenchmark.objects.get(measure="achievement_rate", scope="all", academic_year="2022/23")
    assert suppressed.rate is None  # never 0
    assert standard.history.first().history_user == lead

    # The same file again changes nothing.
    again = parse_narts(upload("narts-2023-24.csv", FIXTURE))
    assert again.counts["unchanged"] == 9 and again.can_import is False
    # A revised figure is an update of the same benchmark, not a second one.
    revised = parse_narts(upload("narts.csv", FIXTURE.replace("66.7,90.0,60.0", "66.7,90.0,61.0")))
    assert [c.action for c in revised.changes if c.action != "unchanged"] == ["changed"]
    assert revised.changes[0].before == "60.0%"


def test_confirm_without_a_preview_says_so(client_for, lead):
    response = client_for(lead).post(CONFIRM, follow=True)
    assert "There is nothing to import" in response.content.decode()


def test_the_import_is_atomic(data_analyst):
    good = NartChange(row=2, measure="achievement_rate", scope="level", standard_id=None, level=3,
                      academic_year="2023/24", rate="0.5000", numerator=None, denominator=None, population="",
                      label="")
    bad = NartChange(row=3, measure="achievement_rate", scope="standard", standard_id=None, level=None,
                     academic_year="2023/24", rate="0.5000", numerator=None, denominator=None, population="",
                     label="")
    with pytest.raises(IntegrityError):
        apply_narts(changes=[good, bad])
    assert NationalBenchmark.objects.count() == 0


def test_only_leads_import(client_for, head, coach):
    assert client_for(head).get(IMPORT).status_code == 403
    assert client_for(coach).post(CONFIRM).status_code == 403
