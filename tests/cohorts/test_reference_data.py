"""Loading the shipped reference data: standards (IfA list) and national benchmarks (DfE, Ofqual)."""
import csv
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from cohorts.models import Standard
from cohorts.reference import IFA_COLUMNS, ReferenceDataError, load_standards
from outcomes.models import NationalBenchmark
from outcomes.reference import load_benchmarks, ofqual_period, percent_to_fraction

DATA = Path(settings.BASE_DIR) / "academy" / "data"
IFA = DATA / "ifa_apprenticeship_standards_2018-05-08.csv"
SUPPLEMENTARY = DATA / "standards_supplementary.csv"
NARTS = DATA / "national_achievement_rates_transcribed.csv"
OFQUAL = DATA / "ofqual_epa_statistics_headlines_transcribed.csv"


def load_all():
    return (
        load_standards(path_ifa=IFA, path_supplementary=SUPPLEMENTARY),
        load_benchmarks(path_narts_headlines=NARTS, path_ofqual=OFQUAL),
    )


def benchmark(measure, year, scope="all", level=None):
    return NationalBenchmark.objects.get(
        measure=measure, academic_year=year, scope_key=NationalBenchmark.make_scope_key(scope, None, level)
    )


def snapshot():
    return (
        sorted((tuple(sorted(model_to_dict(s).items())) for s in Standard.objects.all()), key=str),
        sorted((tuple(sorted(model_to_dict(b).items())) for b in NationalBenchmark.objects.all()), key=str),
    )


def write_csv(path: Path, rows: list[list[str]], header=IFA_COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.django_db
def test_it_loads_data_analyst_from_the_ifa_list():
    """ST0118 carries the IfA 2018 figures: level 4, £15,000, 24 months, LARS 80."""
    standards, _ = load_all()

    analyst = Standard.objects.get(reference="ST0118")
    assert (analyst.title, analyst.level, analyst.route) == ("Data analyst", 4, "Digital")
    assert analyst.max_funding_gbp == 15000
    assert analyst.typical_duration_months == 24
    assert analyst.lars_code == 80
    assert analyst.approved_for_delivery.isoformat() == "2016-03-23"
    assert analyst.source.startswith("Institute for Apprenticeships")
    assert standards.created == Standard.objects.count() == 534


@pytest.mark.django_db
def test_it_adds_data_technician_from_the_supplementary_file_without_guessing():
    """ST0795 is level 3, route Digital; funding, duration, LARS and date stay empty."""
    load_all()

    technician = Standard.objects.get(reference="ST0795")
    assert (technician.title, technician.level, technician.route) == ("Data technician", 3, "Digital")
    assert technician.max_funding_gbp is None
    assert technician.typical_duration_months is None
    assert technician.lars_code is None
    assert technician.approved_for_delivery is None


@pytest.mark.django_db
def test_it_stores_unknown_ifa_values_as_empty_and_reports_rows_it_cannot_take():
    """TBC and a 0-month duration become None; versioned references and level 0 are reported."""
    standards, _ = load_all()

    scientist = Standard.objects.get(reference="ST0585")
    assert (scientist.max_funding_gbp, scientist.typical_duration_months, scientist.lars_code) == (None, None, None)
    assert scientist.integrated_degree is True
    reasons = {(s.row, s.reason) for s in standards.skipped}
    assert (65, "reference 'ST0242_03' is not ST followed by four digits") in reasons
    assert (312, "ST0381 level '0' is not 2 to 7") in reasons
    assert (69, "ST0313 is listed again at row 530, approved later") in reasons
    assert Standard.objects.get(reference="ST0313").lars_code == 222
    assert not Standard.objects.filter(reference__in=["ST0381", "ST0466"]).exists()


@pytest.mark.django_db
def test_it_loads_national_achievement_rates_for_standards():
    """The standards achievement rate is 54.3% in 2022/23 and 60.5% in 2023/24, as fractions."""
    load_all()

    rate_2223 = benchmark("achievement_rate", "2022/23")
    assert rate_2223.rate == Decimal("0.5430")
    assert rate_2223.population == "Standards - all"
    assert rate_2223.source_url == "https://feweek.co.uk/national-apprenticeship-achievement-rate-rises-to-54/"
    assert "All (standards+frameworks) 54.6%" in rate_2223.note
    assert benchmark("achievement_rate", "2023/24").rate == Decimal("0.6050")
    inferred = benchmark("achievement_rate", "2018/19")
    assert (inferred.rate, "year inferred" in inferred.note) == (Decimal("0.4660"), True)


@pytest.mark.django_db
def test_it_loads_advanced_level_standards_as_level_3_with_leavers():
    """"Standard - Advanced Level" 2018/19 is stored at level 3 with 25,330 leavers as denominator."""
    load_all()

    achievement = benchmark("achievement_rate", "2018/19", scope="level", level=3)
    assert (achievement.rate, achievement.denominator) == (Decimal("0.4890"), 25330)
    assert benchmark("pass_rate", "2018/19", scope="level", level=3).denominator is None  # completers not published
    assert not NationalBenchmark.objects.filter(population__icontains="framework").exists()


@pytest.mark.django_db
def test_it_loads_ofqual_first_attempt_pass_rate_with_its_period():
    """Ofqual March 2022 – February 2023: 89.8% of 110,575 completed EPAs, stored under 2022/23."""
    load_all()

    fapr = benchmark("first_attempt_pass_rate", "2022/23")
    assert fapr.rate == Decimal("0.8980")
    assert fapr.period == "March 2022 to February 2023"
    assert fapr.denominator == 110575
    assert fapr.source == "Ofqual, Apprenticeship end-point assessments statistical report, March 2022 to February 2023"
    later = benchmark("first_attempt_pass_rate", "2023/24")
    assert (later.rate, later.period) == (Decimal("0.8970"), "March 2023 to February 2024")
    assert later.source_url.startswith("https://www.gov.uk/government/publications/")


@pytest.mark.django_db
def test_it_changes_nothing_when_run_twice():
    """A second run reports 0 created, 0 updated and leaves every row value as it was."""
    load_all()
    before = snapshot()

    standards, benchmarks = load_all()

    assert snapshot() == before
    assert (standards.created, standards.updated, standards.unchanged) == (0, 0, 534)
    assert (benchmarks.created, benchmarks.updated, benchmarks.unchanged) == (0, 0, 11)


@pytest.mark.django_db
def test_it_restores_a_loaded_row_that_drifted():
    """A loaded benchmark whose rate was changed is put back and counted as updated."""
    load_all()
    row = benchmark("achievement_rate", "2022/23")
    row.rate = Decimal("0.1234")
    row.save()

    _, benchmarks = load_all()

    assert benchmarks.updated == 1
    assert benchmark("achievement_rate", "2022/23").rate == Decimal("0.5430")


@pytest.mark.django_db
def test_it_never_touches_a_benchmark_entered_by_hand():
    """A lead's own 2022/23 achievement rate (another source) survives the load, and the load says so."""
    mine = NationalBenchmark.objects.create(
        measure="achievement_rate", scope="all", academic_year="2022/23", rate=Decimal("0.5500"),
        source="Lead's board paper", note="agreed with the provider",
    )

    _, benchmarks = load_all()

    mine.refresh_from_db()
    assert (mine.rate, mine.source, mine.note) == (Decimal("0.5500"), "Lead's board paper", "agreed with the provider")
    assert NationalBenchmark.objects.filter(measure="achievement_rate", academic_year="2022/23").count() == 1
    kept = "entered by hand (source 'Lead's board paper'); kept"
    assert any(s.row == 39 and kept in s.reason for s in benchmarks.skipped)


@pytest.mark.django_db
def test_it_reports_a_malformed_row_with_its_number_and_writes_nothing_of_it(tmp_path):
    """Bad level, bad funding and bad reference rows are reported by row; the good row loads."""
    ifa = write_csv(
        tmp_path / "ifa.csv",
        [
            ["Good standard", "ST9001", "Y", "Y", "01-02-2018", "Digital", "4", "", "15000", "11", "24", "9001", ""],
            ["Bad level", "ST9002", "Y", "Y", "01-02-2018", "Digital", "9", "", "15000", "11", "24", "9002", ""],
            ["Bad funding", "ST9003", "Y", "Y", "01-02-2018", "Digital", "4", "", "lots", "11", "24", "9003", ""],
            ["Bad reference", "ST93", "Y", "Y", "01-02-2018", "Digital", "4", "", "15000", "11", "24", "9004", ""],
            ["Bad date", "ST9005", "Y", "Y", "31-02-2018", "Digital", "4", "", "15000", "11", "24", "9005", ""],
        ],
    )

    report = load_standards(path_ifa=ifa, path_supplementary=None)

    assert [(s.row, s.reason) for s in report.skipped] == [
        (3, "ST9002 level '9' is not 2 to 7"),
        (4, "maximum funding 'lots' is not a whole number"),
        (5, "reference 'ST93' is not ST followed by four digits"),
        (6, "approved for delivery date '31-02-2018' is not a date like 23-03-2016"),
    ]
    assert list(Standard.objects.values_list("reference", flat=True)) == ["ST9001"]
    assert report.created == 1


@pytest.mark.django_db
def test_it_writes_nothing_when_a_file_cannot_be_read(tmp_path):
    """A supplementary file without a Level column aborts the whole load: no IfA row is left behind."""
    broken = write_csv(tmp_path / "broken.csv", [["Data technician", "ST0795"]], header=("Name", "Reference"))

    with pytest.raises(ReferenceDataError, match="no column 'Standard Approved'"):
        load_standards(path_ifa=IFA, path_supplementary=broken)

    assert Standard.objects.count() == 0


@pytest.mark.django_db
def test_it_reports_a_bad_benchmark_value_by_row(tmp_path):
    """A rate that is not a number is skipped with its row number; the other rows load."""
    narts = tmp_path / "narts.csv"
    url = "https://feweek.co.uk/national-apprenticeship-achievement-rate-rises-to-54/"
    narts.write_text(
        "academic_year,scope,metric,value,unit,note,source_url\n"
        f"2022/23,Standards - all,achievement_rate,54.3,percent,,{url}\n"
        f"2022/23,Standards - all,retention_rate,fifty,percent,,{url}\n",
        encoding="utf-8",
    )

    report = load_benchmarks(path_narts_headlines=narts, path_ofqual=OFQUAL)

    assert [(s.row, s.reason) for s in report.skipped if s.file == "narts.csv"] == [
        (3, "Standards - all retention_rate 2022/23: value 'fifty' is not a number")
    ]
    assert not NationalBenchmark.objects.filter(measure="retention_rate").exists()
    assert benchmark("achievement_rate", "2022/23").rate == Decimal("0.5430")


def test_percent_and_period_conversions():
    """54.3 → 0.5430; an Ofqual March–February period maps to the academic year holding most of it."""
    assert percent_to_fraction("54.3") == Decimal("0.5430")
    assert percent_to_fraction("89.75") == Decimal("0.8975")
    assert ofqual_period("2023-03 to 2024-02") == ("2023/24", "March 2023 to February 2024")
    with pytest.raises(ValueError):
        percent_to_fraction("120")
    with pytest.raises(ValueError):
        ofqual_period("2023-04 to 2024-03")


@pytest.mark.django_db
def test_the_command_prints_counts_and_reasons_and_is_idempotent():
    """``load_reference_data`` prints created/updated/unchanged/skipped, then 0 created on a second run."""
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    first = out.getvalue()
    assert "Standards: 534 created, 0 updated, 0 unchanged, 13 skipped" in first
    assert "National benchmarks: 11 created, 0 updated, 0 unchanged, 63 skipped" in first
    # One line, not one per row, at the default verbosity (was 76 lines that looked like failures).
    assert "13 source rows left out as expected" in first and "row 312" not in first

    out = StringIO()
    call_command("load_reference_data", stdout=out, verbosity=2)
    assert "ifa_apprenticeship_standards_2018-05-08.csv row 312: ST0381 level '0' is not 2 to 7" in out.getvalue()
    assert "Standards: 0 created, 0 updated, 534 unchanged" in out.getvalue()
    assert "National benchmarks: 0 created, 0 updated, 11 unchanged" in out.getvalue()


@pytest.mark.django_db
def test_the_command_fails_cleanly_on_a_missing_data_dir(tmp_path):
    """A folder without the files is an error naming the file; nothing is loaded."""
    with pytest.raises(CommandError, match="ifa_apprenticeship_standards_2018-05-08.csv"):
        call_command("load_reference_data", data_dir=tmp_path, stdout=StringIO())
    assert Standard.objects.count() == 0
