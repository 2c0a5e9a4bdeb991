"""Academic years: 1 August to 31 July (ESFA funding rules; DfE achievement rate tables)."""
import datetime as dt


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
