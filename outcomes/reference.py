"""Load national benchmarks from the transcribed DfE and Ofqual headline figures.

Sources (provenance in ``academy/data/SOURCES.md``):

- ``national_achievement_rates_transcribed.csv``: DfE national achievement rate tables
  (NARTs) headlines, as published by DfE Explore Education Statistics and reported by
  FE Week; columns ``academic_year, scope, metric, value, unit, note, source_url``.
- ``ofqual_epa_statistics_headlines_transcribed.csv``: Ofqual "Apprenticeship end-point
  assessments statistical report" headlines; columns ``period, metric, value, unit, note,
  source_url``.

Only figures for the apprenticeship **standards** population are stored: nationally
(scope "all") and for Advanced level standards (scope "level", level 3). Frameworks and
mixed standards+frameworks figures cover a different population and would clash on
the (measure, scope, year) key, so they are skipped and named in the stored row's note.
"""
from __future__ import annotations

import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from academy.dates import parse_academic_year
from cohorts.reference import LoadReport, is_unknown, read_csv
from outcomes.models import NationalBenchmark

Measure = NationalBenchmark.Measure
Scope = NationalBenchmark.Scope

NARTS_COLUMNS = ("academic_year", "scope", "metric", "value", "unit", "note", "source_url")
OFQUAL_COLUMNS = ("period", "metric", "value", "unit", "note", "source_url")

NARTS_MEASURES = {
    "achievement_rate": Measure.ACHIEVEMENT_RATE,
    "retention_rate": Measure.RETENTION_RATE,
    "pass_rate": Measure.PASS_RATE,
}
# Published population → (scope, level). "Advanced" = level 3 (DfE level bands:
# Intermediate 2, Advanced 3, Higher 4–7).
STANDARDS_POPULATIONS = {
    "Standards - all": (Scope.ALL, None),
    "National (standards)": (Scope.ALL, None),
    "Standard - Advanced Level": (Scope.LEVEL, 3),
}
# The leavers count is the denominator of the achievement and retention rates (DfE QAR:
# achievers ÷ leavers, completers ÷ leavers); the pass rate divides by completers.
LEAVERS_DENOMINATOR_MEASURES = {Measure.ACHIEVEMENT_RATE, Measure.RETENTION_RATE}

# Human titles of the publications, keyed by the URL in the transcribed files. They are
# also how a row is recognised as this loader's: any other ``source`` was entered by hand.
_EES_HEADLINES = (
    "https://explore-education-statistics.service.gov.uk/data-catalogue/data-set/aac15c6a-2baf-4e0c-813c-d9e0eaca329f"
)
NARTS_SOURCES = {
    "https://feweek.co.uk/national-apprenticeship-achievement-rate-rises-to-54/": (
        "FE Week, 'National apprenticeship achievement rate rises to 54%' (DfE NARTs 2022/23)"
    ),
    "https://feweek.co.uk/national-apprenticeship-achievement-rate-hits-60-5/": (
        "FE Week, 'Apprenticeship achievement rate hits 60.5%' (DfE NARTs 2023/24)"
    ),
    "https://feweek.co.uk/news/page/551": "FE Week, news listing (page 551), national achievement rates 'last year'",
    _EES_HEADLINES: "DfE Explore Education Statistics, 'Apprenticeship Achievement Rates Headlines' data set",
}
OFQUAL_SOURCE = "Ofqual, Apprenticeship end-point assessments statistical report, {period}"
# The 2023–24 report was read from a mirror of gov.uk; store the original address.
URL_MIRRORS = {"https://fly1.wordsworth.site/": "https://www.gov.uk/"}

MONTHS = (
    "January February March April May June July August September October November December"
).split()
_OFQUAL_PERIOD_RE = re.compile(r"^(\d{4})-03 to (\d{4})-02$")
_OFQUAL_SOURCE_RE = re.compile(
    re.escape(OFQUAL_SOURCE.format(period="@")).replace("@", r"March \d{4} to February \d{4}")
)
_INFERRED_YEAR_RE = re.compile(r"^(\d{4}/\d{2}) \(year inferred\)$")


def our_benchmark_source(source: str) -> bool:
    """Return True when ``source`` is one this loader writes (else the row was entered by hand)."""
    if source in NARTS_SOURCES.values():
        return True
    return bool(_OFQUAL_SOURCE_RE.fullmatch(source))


def percent_to_fraction(value: str) -> Decimal:
    """Return a published percentage as a fraction with 4 decimals: "54.3" → Decimal("0.5430").

    Raises ``ValueError`` when ``value`` is not a number from 0 to 100.
    """
    try:
        percent = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"value '{value}' is not a number") from None
    if not percent.is_finite() or not 0 <= percent <= 100:
        raise ValueError(f"value '{value}' is not a percentage from 0 to 100")
    return (percent / 100).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _count(value: str) -> int | None:
    """Return a published count as an int; ``None`` for suppressed or unknown values (``low``, ``x``)."""
    if is_unknown(value) or value.lower() in {"low", "x"}:
        return None
    if not value.isdigit():
        raise ValueError(f"count '{value}' is not a whole number")
    return int(value)


def _join_notes(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _original_url(url: str) -> str:
    for mirror, original in URL_MIRRORS.items():
        if url.startswith(mirror):
            return original + url[len(mirror):]
    return url


def _narts_year(label: str) -> tuple[str, bool]:
    """Return (academic year, inferred?) for "2022/23" or "2018/19 (year inferred)"; ``ValueError`` otherwise."""
    match = _INFERRED_YEAR_RE.match(label)
    year = match.group(1) if match else label
    parse_academic_year(year)
    return year, bool(match)


def ofqual_period(label: str) -> tuple[str, str]:
    """Return (academic year, period) for an Ofqual March–February period label.

    "2022-03 to 2023-02" → ("2022/23", "March 2022 to February 2023"): the period is
    stored under the academic year (1 August – 31 July) holding 7 of its 12 months.
    Raises ``ValueError`` for any other label.
    """
    match = _OFQUAL_PERIOD_RE.match(label)
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise ValueError(f"period '{label}' is not March of one year to February of the next")
    start = int(match.group(1))
    return f"{start}/{(start + 1) % 100:02d}", f"March {start} to February {start + 1}"


def _narts_rows(path: Path, report: LoadReport) -> list[dict]:
    """Return benchmark values for the standards rows of the NARTs file; report every other row."""
    name = path.name
    rows = read_csv(path, NARTS_COLUMNS)
    leavers: dict[tuple[str, str], int] = {}
    # Rates of other populations for the same year and metric, named in the stored row's note.
    other_populations: dict[tuple[str, str], list[str]] = defaultdict(list)
    # The transcription writes "as above" for a note repeated from the row above.
    explained_notes: dict[int, str] = {}
    previous = ""
    for number, row in rows:
        note = row["note"]
        if note.startswith("as above"):
            note = previous + note[len("as above"):]
        explained_notes[number] = previous = note
    candidates = []
    for number, row in rows:
        population, metric = row["scope"], row["metric"]
        try:
            year, inferred = _narts_year(row["academic_year"])
        except ValueError as exc:
            report.skip(name, number, str(exc))
            continue
        if population not in STANDARDS_POPULATIONS:
            reason = (
                "frameworks, not standards"
                if population.lower().startswith("framework")
                else "a different population from all standards nationally"
            )
            report.skip(name, number, f"{population} {metric} {year}: {reason}")
            if metric in NARTS_MEASURES:
                other_populations[(year, metric)].append(
                    f"{population} {row['value']}%"
                )
            continue
        if metric == "leavers":
            try:
                leavers[(year, population)] = _count(row["value"])
            except ValueError as exc:
                report.skip(name, number, str(exc))
                continue
            report.skip(name, number, f"{population} leavers {year}: stored as the denominator of its rates")
            continue
        if metric not in NARTS_MEASURES:
            report.skip(name, number, f"{population} {metric} {year}: '{metric}' is not a benchmark measure")
            continue
        if row["unit"] != "percent":
            report.skip(name, number, f"{population} {metric} {year}: unit '{row['unit']}' is not percent")
            continue
        try:
            rate = percent_to_fraction(row["value"])
        except ValueError as exc:
            report.skip(name, number, f"{population} {metric} {year}: {exc}")
            continue
        url = _original_url(row["source_url"])
        if url not in NARTS_SOURCES:
            report.skip(name, number, f"{population} {metric} {year}: no publication title known for {url}")
            continue
        scope, level = STANDARDS_POPULATIONS[population]
        note = _join_notes("year inferred" if inferred else "", explained_notes[number])
        candidates.append(
            {
                "row": number,
                "year_metric": (year, metric),
                "population_key": (year, population),
                "measure": NARTS_MEASURES[metric],
                "scope": scope,
                "level": level,
                "academic_year": year,
                "period": "",
                "rate": rate,
                "numerator": None,
                "population": population,
                "source": NARTS_SOURCES[url],
                "source_url": url,
                "note": note,
            }
        )
    values = []
    for candidate in candidates:
        measure = candidate["measure"]
        population_key = candidate.pop("population_key")
        candidate["denominator"] = (
            leavers.get(population_key) if measure in LEAVERS_DENOMINATOR_MEASURES else None
        )
        others = other_populations.get(candidate.pop("year_metric"))
        if others and candidate["scope"] == Scope.ALL:
            candidate["note"] = _join_notes(
                candidate["note"], "other populations, not stored here: " + ", ".join(others)
            )
        values.append(candidate)
    return values


def _ofqual_rows(path: Path, report: LoadReport) -> list[dict]:
    """Return benchmark values for Ofqual's first-attempt pass rates, with EPAs completed as denominator."""
    name = path.name
    rows = read_csv(path, OFQUAL_COLUMNS)
    completed: dict[str, int] = {}
    for number, row in rows:
        if row["metric"] == "epas_completed":
            try:
                completed[row["period"]] = _count(row["value"])
            except ValueError as exc:
                report.skip(name, number, f"epas_completed {row['period']}: {exc}")
    values = []
    for number, row in rows:
        metric = row["metric"]
        if metric != "first_attempt_pass_rate":
            if metric == "epas_completed" and row["period"] not in completed:
                continue  # already reported above
            if metric == "epas_completed":
                detail = "stored as the denominator of the first-attempt pass rate"
            else:
                detail = f"'{metric}' is not a benchmark measure"
            report.skip(name, number, f"{metric} {row['period']}: {detail}")
            continue
        try:
            year, period = ofqual_period(row["period"])
            if row["unit"] != "percent":
                raise ValueError(f"unit '{row['unit']}' is not percent")
            rate = percent_to_fraction(row["value"])
        except ValueError as exc:
            report.skip(name, number, f"{metric} {row['period']}: {exc}")
            continue
        url = _original_url(row["source_url"])
        note = row["note"]
        if url != row["source_url"]:
            note = _join_notes(note, f"read from a mirror of gov.uk ({row['source_url'].split('/')[2]})")
        values.append(
            {
                "row": number,
                "measure": Measure.FIRST_ATTEMPT_PASS_RATE,
                "scope": Scope.ALL,
                "level": None,
                "academic_year": year,
                "period": period,
                "rate": rate,
                "numerator": None,
                "denominator": completed.get(row["period"]),
                "population": "Regulated apprenticeship EPAs completed in England (all standards)",
                "source": OFQUAL_SOURCE.format(period=period),
                "source_url": url,
                "note": note,
            }
        )
    return values


def _save(values_list: list[dict], file_name: str, report: LoadReport) -> None:
    """Create, update or leave each benchmark, keyed on (measure, scope_key, academic_year)."""
    seen: dict[tuple, int] = {}
    for values in values_list:
        number = values.pop("row")
        scope_key = NationalBenchmark.make_scope_key(values["scope"], None, values["level"])
        key = (values["measure"], scope_key, values["academic_year"])
        if key in seen:
            report.skip(file_name, number, f"{values['measure']} {scope_key} {values['academic_year']} "
                        f"is already given at row {seen[key]}")
            continue
        seen[key] = number
        benchmark = (
            NationalBenchmark.objects.select_for_update()
            .filter(measure=key[0], scope_key=scope_key, academic_year=key[2])
            .first()
        )
        if benchmark is None:
            NationalBenchmark.objects.create(standard=None, **values)
            report.created += 1
            continue
        if not our_benchmark_source(benchmark.source):
            report.skip(file_name, number, f"{benchmark} was entered by hand (source '{benchmark.source}'); kept")
            continue
        changed = [name for name, value in values.items() if getattr(benchmark, name) != value]
        if not changed:
            report.unchanged += 1
            continue
        for name in changed:
            setattr(benchmark, name, values[name])
        benchmark.save(update_fields=[*changed, "scope_key"])
        report.updated += 1


def load_benchmarks(*, path_narts_headlines: Path, path_ofqual: Path) -> LoadReport:
    """Create or update ``NationalBenchmark`` rows from the NARTs and Ofqual headline files.

    Stored, with the rate as a fraction to 4 decimals (54.3% → 0.5430):

    - achievement, retention and pass rates for apprenticeship standards nationally
      (populations "Standards - all", "National (standards)") under scope "all", and for
      "Standard - Advanced Level" under scope "level", level 3; the leavers count of the
      same population and year is the denominator of achievement and retention rates;
    - Ofqual first-attempt EPA pass rates under scope "all", the March–February period
      in ``period`` and the EPAs completed in it as denominator.

    Every other row is reported as skipped with its reason. A benchmark with the same
    (measure, scope, academic year) whose ``source`` is not one of this loader's was
    entered by hand and is never touched. Runs in one transaction; a second run with the
    same files reports 0 created and 0 updated. Raises ``ReferenceDataError`` (from
    ``cohorts.reference``) when a file or column is missing; nothing is written then.
    """
    report = LoadReport(name="National benchmarks")
    path_narts_headlines, path_ofqual = Path(path_narts_headlines), Path(path_ofqual)
    narts = _narts_rows(path_narts_headlines, report)
    ofqual = _ofqual_rows(path_ofqual, report)
    with transaction.atomic():
        _save(narts, path_narts_headlines.name, report)
        _save(ofqual, path_ofqual.name, report)
    report.skipped.sort(key=lambda skipped: (skipped.file != path_narts_headlines.name, skipped.row))
    return report
