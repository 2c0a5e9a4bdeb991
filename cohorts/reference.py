"""Load apprenticeship standards from the published Institute for Apprenticeships list.

Sources (provenance in ``academy/data/SOURCES.md``):

- ``ifa_apprenticeship_standards_2018-05-08.csv``: the Institute for Apprenticeships'
  export "Apprenticeship Standards accurate as of 08 May 2018" (546 rows), from
  openregister/apprenticeship-data ``lists/ApprenticeshipStandards.csv``, OGL v3.0.
- ``standards_supplementary.csv``: the same columns, for standards approved after May 2018
  that the academy needs (ST0795 Data technician); only sourced values are filled.

Nothing is guessed: a value the source leaves open ("TBC", "", "N/A", a duration of 0)
is stored as ``None``; a row whose reference or level is outside the rules is skipped
and reported with its row number.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from cohorts.models import Standard

IFA_SOURCE = "Institute for Apprenticeships, Apprenticeship Standards accurate as of 08 May 2018"
SUPPLEMENTARY_SOURCE = "Academy supplementary standards list (academy/data/standards_supplementary.csv)"
OUR_STANDARD_SOURCES = frozenset({IFA_SOURCE, SUPPLEMENTARY_SOURCE})

IFA_COLUMNS = (
    "Name",
    "Reference",
    "Standard Approved",
    "Assessment Plan Approved",
    "Approved for Delivery Date",
    "Route",
    "Level",
    "Integrated Degree",
    "Maximum Funding (£)",
    "Funding Band",
    "Typical Duration",
    "LARS code for providers only",
    "Link",
)

# Values the IfA list uses where a figure is not set yet.
UNKNOWN_VALUES = frozenset({"", "tbc", "n/a", "na", "-"})
# The IfA list dates decommissioned standards 01-01-0001: a placeholder, not a date.
PLACEHOLDER_DATES = frozenset({"01-01-0001"})
_REFERENCE_RE = re.compile(r"^ST[0-9]{4}$")


class ReferenceDataError(Exception):
    """A reference file cannot be read as a whole (missing file or columns); nothing was written."""


@dataclass(frozen=True)
class SkippedRow:
    """One row left out of a load: ``file`` name, spreadsheet ``row`` number (header = 1), ``reason``."""

    file: str
    row: int
    reason: str

    def __str__(self):
        return f"{self.file} row {self.row}: {self.reason}"


@dataclass
class LoadReport:
    """What one loader did: counts of rows ``created``, ``updated``, ``unchanged``, and ``skipped`` rows.

    ``skipped`` lists every row not written, with its file, row number and reason.
    """

    name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)

    def skip(self, file: str, row: int, reason: str) -> None:
        self.skipped.append(SkippedRow(file=file, row=row, reason=reason))

    def summary(self) -> str:
        return (
            f"{self.name}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped"
        )


def read_csv(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Return ``[(row_number, row_dict), …]`` for a UTF-8 CSV file; row 1 is the header.

    Raises ``ReferenceDataError`` when the file is missing or lacks a ``required`` column.
    Values are stripped of surrounding spaces.
    """
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ReferenceDataError(f"Cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [name for name in required if name not in (reader.fieldnames or [])]
        if missing:
            raise ReferenceDataError(f"{path.name} has no column {', '.join(repr(m) for m in missing)}")
        rows = []
        for row in reader:
            values = {key: (value or "").strip() for key, value in row.items() if key is not None}
            rows.append((reader.line_num, values))
    return rows


def is_unknown(value: str) -> bool:
    """Return True for the values a publisher uses for "not known": "", "TBC", "N/A"."""
    return value.strip().lower() in UNKNOWN_VALUES


def _whole_number(value: str, what: str) -> int | None:
    """Return ``value`` as an int (commas and £ allowed), ``None`` when unknown; ``ValueError`` otherwise."""
    if is_unknown(value):
        return None
    text = value.replace(",", "").replace("£", "").strip()
    if not text.isdigit():
        raise ValueError(f"{what} '{value}' is not a whole number")
    return int(text)


def _date(value: str) -> dt.date | None:
    """Return a dd-mm-yyyy date, ``None`` when unknown or a placeholder; ``ValueError`` otherwise."""
    if is_unknown(value) or value in PLACEHOLDER_DATES:
        return None
    try:
        return dt.datetime.strptime(value, "%d-%m-%Y").date()
    except ValueError:
        raise ValueError(f"approved for delivery date '{value}' is not a date like 23-03-2016") from None


def _tidy(text: str) -> str:
    """Collapse runs of spaces (the UTF-16 → CSV conversion left double spaces where commas were)."""
    return " ".join(text.split())


def parse_standard_row(row: dict[str, str]) -> dict:
    """Return the ``Standard`` field values of one IfA-format row.

    Raises ``ValueError`` with a reason when the row breaks a rule: a reference that is
    not ``ST`` + four digits (e.g. versioned "ST0242_03"), a level outside 2–7 (the list
    gives 0 for withdrawn or undeveloped standards), or a value that cannot be read.
    A typical duration of 0 means "not set" in the IfA list and becomes ``None``.
    """
    reference = row["Reference"]
    if not _REFERENCE_RE.match(reference):
        raise ValueError(f"reference '{reference}' is not ST followed by four digits")
    title = _tidy(row["Name"])
    if not title:
        raise ValueError(f"{reference} has no name")
    level_text = row["Level"]
    if not level_text.isdigit() or not 2 <= int(level_text) <= 7:
        raise ValueError(f"{reference} level '{level_text}' is not 2 to 7")
    duration = _whole_number(row["Typical Duration"], "typical duration")
    return {
        "reference": reference,
        # Keep the published name; only a lower-case first letter ("clock maker") is raised.
        "title": title[0].upper() + title[1:],
        "level": int(level_text),
        "route": _tidy(row["Route"]) if not is_unknown(row["Route"]) else "",
        "typical_duration_months": duration or None,
        "max_funding_gbp": _whole_number(row["Maximum Funding (£)"], "maximum funding"),
        "lars_code": _whole_number(row["LARS code for providers only"], "LARS code"),
        # "integrated degree" only; "non-integrated degree", "TBC" and blank are not integrated.
        "integrated_degree": row["Integrated Degree"].strip().lower() == "integrated degree",
        "approved_for_delivery": _date(row["Approved for Delivery Date"]),
        "url": row["Link"] if not is_unknown(row["Link"]) else "",
    }


def _parse_file(path: Path, source: str, report: LoadReport) -> dict[str, tuple[int, dict]]:
    """Return ``{reference: (row_number, values)}`` for the valid rows of one file; report the others.

    A reference listed twice (the IfA list keeps a closed version beside its successor,
    e.g. ST0313) keeps the row approved for delivery later, or the later row when the
    dates do not decide; the other row is reported.
    """
    parsed: dict[str, tuple[int, dict]] = {}
    for number, row in read_csv(path, IFA_COLUMNS):
        try:
            values = parse_standard_row(row)
        except ValueError as exc:
            report.skip(path.name, number, str(exc))
            continue
        values["source"] = source
        reference = values["reference"]
        if reference in parsed:
            other_number, other = parsed[reference]
            if (other["approved_for_delivery"] or dt.date.min) > (values["approved_for_delivery"] or dt.date.min):
                report.skip(path.name, number, f"{reference} is listed again at row {other_number}, approved later")
                continue
            report.skip(path.name, other_number, f"{reference} is listed again at row {number}, approved later")
        parsed[reference] = (number, values)
    return parsed


def load_standards(*, path_ifa: Path, path_supplementary: Path | None = None) -> LoadReport:
    """Create or update ``Standard`` rows from the IfA list and the supplementary file.

    Keys on ``reference``. In one transaction: either every valid row is written or,
    when a file cannot be read (``ReferenceDataError``), none is. Rules:

    - a row breaking a rule (see ``parse_standard_row``) is skipped and reported;
    - the supplementary file only adds standards missing from the IfA list;
    - a LARS code already held by another standard is reported, not written (it is unique);
    - an existing standard whose ``source`` is set to something other than these
      loaders' sources was entered by hand and is left as it is (reported);
    - a row whose values all match the database counts as unchanged and is not saved,
      so a second run reports 0 created and 0 updated.
    """
    report = LoadReport(name="Standards")
    rows = _parse_file(Path(path_ifa), IFA_SOURCE, report)
    files = {IFA_SOURCE: Path(path_ifa).name}
    if path_supplementary is not None:
        files[SUPPLEMENTARY_SOURCE] = Path(path_supplementary).name
        for reference, (number, values) in _parse_file(Path(path_supplementary), SUPPLEMENTARY_SOURCE, report).items():
            if reference in rows:
                report.skip(files[SUPPLEMENTARY_SOURCE], number, f"{reference} is already in the IfA list")
                continue
            rows[reference] = (number, values)

    with transaction.atomic():
        existing = {s.reference: s for s in Standard.objects.select_for_update()}
        lars_owner = {s.lars_code: s.reference for s in existing.values() if s.lars_code is not None}
        for reference, (number, values) in sorted(rows.items(), key=lambda item: item[1][0]):
            file_name = files[values["source"]]
            standard = existing.get(reference)
            if standard is not None and standard.source and standard.source not in OUR_STANDARD_SOURCES:
                report.skip(file_name, number, f"{reference} was entered by hand (source '{standard.source}'); kept")
                continue
            lars = values["lars_code"]
            if lars is not None and lars_owner.get(lars, reference) != reference:
                report.skip(file_name, number, f"{reference} LARS code {lars} already belongs to {lars_owner[lars]}")
                continue
            if standard is None:
                standard = Standard.objects.create(**values)
                report.created += 1
            else:
                changed = [name for name, value in values.items() if getattr(standard, name) != value]
                if not changed:
                    report.unchanged += 1
                    continue
                if standard.lars_code is not None and standard.lars_code != lars:
                    lars_owner.pop(standard.lars_code, None)
                for name in changed:
                    setattr(standard, name, values[name])
                standard.save(update_fields=changed)
                report.updated += 1
            if lars is not None:
                lars_owner[lars] = reference
    report.skipped.sort(key=lambda skipped: (skipped.file != files[IFA_SOURCE], skipped.row))
    return report
