"""Shared set-up for the import tests: the reference rows the fixture files name."""
import datetime as dt
from pathlib import Path

from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    """Return the bytes of ``tests/fixtures/<name>`` (e.g. ``"imports/staff_basic.csv"``)."""
    return (FIXTURES / name).read_bytes()


def make_world():
    """Create the teams, the standard ST0118 (LARS 80) and the cohort the fixture files name."""
    revenues = factories.TeamFactory(name="Revenues and Benefits")
    care = factories.TeamFactory(name="Adult Social Care")
    standard = factories.StandardFactory(reference="ST0118", lars_code=80, title="Data analyst", level=4)
    cohort = factories.CohortFactory(name="Data Analyst L4 — January 2024", standard=standard,
                                     start_date=dt.date(2024, 1, 8))
    return {"revenues": revenues, "care": care, "standard": standard, "cohort": cohort}
