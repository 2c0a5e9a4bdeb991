"""Import the DfE national achievement rate tables (NARTs) in their published CSV layout.

Layout (Explore Education Statistics data set "Achievement Rates Subjects – by Std-fwk
flag, Route, Standard-framework name, Detailed Level, Age, Funding Type"; a 5-row preview
is in ``academy/data/narts_standard_level_preview_rows_transcribed.csv``): columns
``time_period`` (202223 = 2022/23), ``std_fwk_flag`` (Standard / Framework),
``std_fwk_name_stcode`` ("Title-STxxxx"), ``level``, ``detailed_level`` ("Level 3"),
``age_group``, ``funding_type``, ``leavers``, ``completers``, ``achievers`` (counts rounded
to the nearest 10), ``retention_rate``, ``pass_rate``, ``achievement_rate`` (percentages);
``geographic_level``, ``age_youth_adult`` and others are read when present. ``low``
(fewer than 5), ``x`` (not available), ``c``, ``z`` and empty cells are suppressed values:
stored as unknown (``None``), never 0.

What is imported. ``NationalBenchmark`` holds one figure per measure, scope and academic
year, for everyone on the standard. So only **total** rows are imported: national,
standards (not frameworks), age group and funding type totals ("Total", "All", "All
ages"). Rows for one age group or funding type are breakdowns of a population the
benchmark does not describe: they are skipped with the reason, as are frameworks and
sub-national rows. A row gives up to three benchmarks: achievement rate (achievers ÷
leavers), pass rate (achievers ÷ completers) and retention rate (completers ÷ leavers).
Scope: the standard named by its ``STxxxx`` reference (an unknown reference is a row
error), or, where the standard name is a total, the level from ``detailed_level``, or all.

``parse_narts(stream)`` checks the file and returns a ``NartPreview`` (no writes);
``apply_narts(changes)`` writes the previewed changes in one transaction (history is kept
by django-simple-history on each saved benchmark).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from academy.changes import queue_recompute
from academy.dates import academic_year_label, parse_academic_year
from cohorts.models import Standard
from outcomes.models import NationalBenchmark

Measure = NationalBenchmark.Measure
Scope = NationalBenchmark.Scope

SOURCE = "DfE apprenticeship national achievement rate tables"
SOURCE_URL = (
    "https://explore-education-statistics.service.gov.uk/data-catalogue/data-set/59e80402-eeac-45d9-981c-7224de13823f"
)
REQUIRED_COLUMNS = (
    "time_period",
    "std_fwk_flag",
    "std_fwk_name_stcode",
    "detailed_level",
    "age_group",
    "funding_type",
    "leavers",
    "completers",
    "achievers",
    "retention_rate",
    "pass_rate",
    "achievement_rate",
)
SUPPRESSED = {"low", "x", "c", "z", ":", ""}
TOTALS = {"total", "all", "all ages", "all age groups", "all funding types"}
STANDARD_CODE = re.compile(r"-(ST\d{4})\s*$", re.IGNORECASE)
LEVEL_TEXT = re.compile(r"^level\s*([2-7])$", re.IGNORECASE)
MAX_BYTES = 50 * 1024 * 1024

# Measure → (rate column, numerator column, denominator column), DfE QAR definitions.
MEASURE_COLUMNS = {
    Measure.ACHIEVEMENT_RATE: ("achievement_rate", "achievers", "leavers"),
    Measure.PASS_RATE: ("pass_rate", "achievers", "completers"),
    Measure.RETENTION_RATE: ("retention_rate", "completers", "leavers"),
}


class NartFileError(ValueError):
    """The file cannot be read as a NARTs table (not CSV, missing columns, too big); the message says why."""


@dataclass
class NartChange:
    """One benchmark the import would write: JSON-safe, so a preview can wait in the session.

    ``rate`` is a fraction string ("0.6050") or ``None`` (suppressed); ``action`` is
    "new", "changed" or "unchanged"; ``before`` the stored rate text for "changed".
    """

    row: int
    measure: str
    scope: str
    standard_id: int | None
    level: int | None
    academic_year: str
    rate: str | None
    numerator: int | None
    denominator: int | None
    population: str
    label: str
    action: str = "new"
    before: str = ""

    @property
    def rate_text(self) -> str:
        """Return the rate as a percentage ("60.5%"), or "Suppressed (stored as unknown)"."""
        if self.rate is None:
            return "Suppressed (stored as unknown)"
        return f"{Decimal(self.rate) * 100:.1f}%"


@dataclass
class NartPreview:
    """What the file holds: ``changes`` to write, ``skipped`` (row, reason) and ``errors`` (row, message)."""

    rows: int = 0
    changes: list[NartChange] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Return how many benchmarks are new, changed and unchanged, and rows skipped and in error."""
        out = {"new": 0, "changed": 0, "unchanged": 0}
        for change in self.changes:
            out[change.action] += 1
        out["skipped"] = len(self.skipped)
        out["errors"] = len(self.errors)
        return out

    @property
    def can_import(self) -> bool:
        """Return True when there is no error and something would change."""
        return not self.errors and any(c.action != "unchanged" for c in self.changes)


def parse_percent(text: str | None) -> Decimal | None:
    """Return a published percentage as a fraction with 4 decimals ("60.5" → 0.6050); suppressed → ``None``.

    Raises ``ValueError`` for anything else that is not a number from 0 to 100.
    """
    value = (text or "").strip()
    if value.lower() in SUPPRESSED:
        return None
    try:
        number = Decimal(value.rstrip("%"))
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a percentage") from None
    if not 0 <= number <= 100:
        raise ValueError(f"{value} is not between 0 and 100")
    return (number / 100).quantize(Decimal("0.0001"))


def parse_count(text: str | None) -> int | None:
    """Return a published count as an int ("1,130" → 1130); suppressed → ``None``; raises ``ValueError`` otherwise."""
    value = (text or "").strip().replace(",", "")
    if value.lower() in SUPPRESSED:
        return None
    if not value.isdigit():
        raise ValueError(f"'{value}' is not a count")
    return int(value)


def parse_time_period(text: str) -> str:
    """Return "2022/23" for 202223 (also 2022/23, 2022-23); raises ``ValueError`` naming the value."""
    return academic_year_label(parse_academic_year(str(text).strip()))


def _is_total(text: str | None) -> bool:
    return (text or "").strip().lower() in TOTALS


def _fraction_text(rate: Decimal | None) -> str | None:
    return None if rate is None else f"{rate:.4f}"


def _read_rows(stream) -> tuple[list[str], list[dict]]:
    raw = stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise NartFileError("The file is bigger than 50 MB. Upload the standards rows only.")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise NartFileError("The file is not a CSV file in UTF-8. Save it as CSV UTF-8 and upload it again.") from None
    reader = csv.DictReader(io.StringIO(raw))
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise NartFileError(
            "The file is not in the published NARTs layout: it has no column " + ", ".join(missing) + "."
        )
    return header, list(reader)


def parse_narts(stream, *, filename: str = "") -> NartPreview:
    """Check a NARTs CSV (file object of bytes or text) and return what importing it would do. No writes.

    Queries: the standards named in the file (one), the stored benchmarks of the file's
    measures (one). Raises ``NartFileError`` when the file as a whole cannot be read;
    problems with single rows are in ``preview.errors`` (row numbers count the header as
    row 1, as a spreadsheet shows them).
    """
    _header, rows = _read_rows(stream)
    preview = NartPreview(rows=len(rows))
    codes = set()
    for record in rows:
        match = STANDARD_CODE.search(record.get("std_fwk_name_stcode") or "")
        if match:
            codes.add(match.group(1).upper())
    standards = {s.reference: s for s in Standard.objects.filter(reference__in=codes)}
    seen: dict[tuple, int] = {}
    for number, record in enumerate(rows, start=2):
        reason = _skip_reason(record)
        if reason:
            preview.skipped.append((number, reason))
            continue
        try:
            preview.changes.extend(_changes_for(number, record, standards, filename))
        except ValueError as exc:
            preview.errors.append((number, str(exc)))
            continue
    for change in preview.changes:
        key = (change.measure, change.scope, change.standard_id, change.level, change.academic_year)
        if key in seen:
            preview.errors.append(
                (change.row, f"Repeats row {seen[key]}: the same measure, scope and year appear twice")
            )
        else:
            seen[key] = change.row
    _mark_actions(preview.changes)
    return preview


def _skip_reason(record: dict) -> str:
    """Return why a row is not imported (a breakdown or another population), or "" to import it."""
    geography = (record.get("geographic_level") or "National").strip()
    if geography.lower() != "national":
        return f"Geographic level is {geography}: only national figures are benchmarks"
    flag = (record.get("std_fwk_flag") or "").strip()
    if flag.lower() not in ("standard", "standards"):
        return f"Std_fwk_flag is {flag or 'empty'}: frameworks are a different population from standards"
    breakdowns = []
    for column in ("age_youth_adult", "age_group", "funding_type"):
        if column in record and not _is_total(record.get(column)):
            breakdowns.append(f"{column} is {record.get(column) or 'empty'}")
    if breakdowns:
        return (
            "A breakdown, not a total (" + "; ".join(breakdowns) + "): a benchmark covers all ages and funding, "
            "so only rows with Total age group and funding type are imported"
        )
    return ""


def _scope_for(record: dict, standards: dict[str, Standard]) -> tuple[str, Standard | None, int | None, str]:
    name = (record.get("std_fwk_name_stcode") or "").strip()
    detailed = (record.get("detailed_level") or "").strip()
    level_match = LEVEL_TEXT.match(detailed)
    if _is_total(name):
        if level_match:
            level = int(level_match.group(1))
            return Scope.LEVEL, None, level, f"level {level}"
        if _is_total(detailed) or not detailed:
            return Scope.ALL, None, None, "all standards"
        raise ValueError(f"detailed_level '{detailed}' is not a level like 'Level 3' or 'Total'")
    match = STANDARD_CODE.search(name)
    if not match:
        raise ValueError(f"std_fwk_name_stcode '{name}' does not end in a standard reference like -ST0118")
    reference = match.group(1).upper()
    standard = standards.get(reference)
    if standard is None:
        raise ValueError(f"Standard {reference} is not in Academy's list of standards")
    if level_match and int(level_match.group(1)) != standard.level:
        raise ValueError(
            f"detailed_level is {detailed} but {reference} is level {standard.level} in Academy's list of standards"
        )
    return Scope.STANDARD, standard, None, str(standard)


def _changes_for(number: int, record: dict, standards: dict[str, Standard], filename: str) -> list[NartChange]:
    try:
        year = parse_time_period(record.get("time_period") or "")
    except ValueError:
        raise ValueError(f"time_period '{record.get('time_period')}' is not an academic year like 202223") from None
    scope, standard, level, label = _scope_for(record, standards)
    counts = {}
    for column in ("leavers", "completers", "achievers"):
        try:
            counts[column] = parse_count(record.get(column))
        except ValueError as exc:
            raise ValueError(f"{column}: {exc}") from None
    population = (
        f"Standards - {label}, {record.get('age_group', '').strip()} ages, "
        f"{record.get('funding_type', '').strip()} funding"
    )
    changes = []
    for measure, (rate_column, num_column, den_column) in MEASURE_COLUMNS.items():
        try:
            rate = parse_percent(record.get(rate_column))
        except ValueError as exc:
            raise ValueError(f"{rate_column}: {exc}") from None
        changes.append(
            NartChange(
                row=number,
                measure=str(measure),
                scope=str(scope),
                standard_id=standard.pk if standard else None,
                level=level,
                academic_year=year,
                rate=_fraction_text(rate),
                numerator=counts[num_column] if rate is not None else None,
                denominator=counts[den_column] if rate is not None else None,
                population=population[:150],
                label=f"{Measure(measure).label}, {label}, {year}",
            )
        )
    return changes


def _mark_actions(changes: list[NartChange]) -> None:
    """Set each change's ``action`` (new / changed / unchanged) against the stored benchmarks (one query)."""
    if not changes:
        return
    years = {c.academic_year for c in changes}
    stored = {
        (b.measure, b.scope_key, b.academic_year): b
        for b in NationalBenchmark.objects.filter(measure__in=[str(m) for m in MEASURE_COLUMNS], academic_year__in=years)
    }
    for change in changes:
        key = (change.measure, NationalBenchmark.make_scope_key(change.scope, change.standard_id, change.level),
               change.academic_year)
        existing = stored.get(key)
        if existing is None:
            change.action = "new"
            continue
        before = _fraction_text(existing.rate)
        same = (
            before == change.rate
            and existing.numerator == change.numerator
            and existing.denominator == change.denominator
        )
        change.action = "unchanged" if same else "changed"
        change.before = "suppressed" if existing.rate is None else f"{existing.rate * 100:.1f}%"


def change_to_dict(change: NartChange) -> dict:
    """Return ``change`` as a JSON-safe dict (for the session between preview and confirm)."""
    return dict(change.__dict__)


def change_from_dict(data: dict) -> NartChange:
    """Return the ``NartChange`` of ``change_to_dict``."""
    return NartChange(**data)


@transaction.atomic
def apply_narts(*, changes: list[NartChange], filename: str = "") -> dict[str, int]:
    """Write the previewed benchmarks in one transaction; return ``{"created": n, "updated": n, "unchanged": n}``.

    Each benchmark is matched on (measure, scope, year) again inside the transaction, so
    a benchmark added since the preview is updated rather than duplicated. Saves go
    through ``save()`` so each change is in the benchmark's history. A suppressed rate
    is stored as ``None``, never 0. Every cohort is recomputed after the commit.
    """
    result = {"created": 0, "updated": 0, "unchanged": 0}
    note = f"Imported from {filename}." if filename else "Imported from a NARTs file."
    for change in changes:
        rate = None if change.rate is None else Decimal(change.rate)
        key = NationalBenchmark.make_scope_key(change.scope, change.standard_id, change.level)
        benchmark = (
            NationalBenchmark.objects.select_for_update()
            .filter(measure=change.measure, scope_key=key, academic_year=change.academic_year)
            .first()
        )
        values = {
            "rate": rate,
            "numerator": change.numerator,
            "denominator": change.denominator,
            "population": change.population,
            "source": SOURCE,
            "source_url": SOURCE_URL,
        }
        if benchmark is None:
            NationalBenchmark.objects.create(
                measure=change.measure,
                scope=change.scope,
                standard_id=change.standard_id,
                level=change.level,
                academic_year=change.academic_year,
                note=note,
                **values,
            )
            result["created"] += 1
            continue
        if all(getattr(benchmark, name) == value for name, value in values.items()):
            result["unchanged"] += 1
            continue
        for name, value in values.items():
            setattr(benchmark, name, value)
        benchmark.note = note
        benchmark.save()
        result["updated"] += 1
    queue_recompute()  # after the commit: the dashboard compares with the new figures
    return result
