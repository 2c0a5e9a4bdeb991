"""Dates as Academy uses them: UK dates on pages, calendar months, academic years (1 August to 31 July).

Academic years follow the ESFA funding rules and the DfE achievement rate tables
(docs/rules.md).
"""
import calendar
import datetime as dt


def uk_date(day: dt.date) -> str:
    """Return ``day`` as a UK date for the page: "29 November 2026"."""
    return f"{day.day} {day:%B %Y}"


def uk_short_date(day: dt.date) -> str:
    """Return ``day`` as a UK date as typed: "29/11/2026"."""
    return f"{day:%d/%m/%Y}"


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` moved by ``months`` calendar months, clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def academic_year_start(day: dt.date) -> int:
    """Return the calendar year in which the academic year containing ``day`` began.

    >>> academic_year_start(dt.date(2024, 7, 31)), academic_year_start(dt.date(2024, 8, 1))
    (2023, 2024)
    """
    return day.year if day.month >= 8 else day.year - 1


def academic_year_label(start_year: int) -> str:
    """Return the label used by DfE for the academic year starting in ``start_year``: 2023 → "2023/24"."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def academic_year(day: dt.date) -> str:
    """Return the academic year label ("2023/24") containing ``day``."""
    return academic_year_label(academic_year_start(day))


def parse_academic_year(label: str) -> int:
    """Return the start year of a label such as "2023/24", "2023-24" or "202324".

    Raises ``ValueError`` naming the label when it is not an academic year.
    """
    text = label.strip().replace("-", "/")
    if len(text) == 6 and text.isdigit():
        text = f"{text[:4]}/{text[4:]}"
    try:
        first, second = text.split("/")
        start = int(first)
        if len(first) != 4 or int(second) != (start + 1) % 100:
            raise ValueError
    except ValueError:
        raise ValueError(f"'{label}' is not an academic year like 2023/24") from None
    return start
