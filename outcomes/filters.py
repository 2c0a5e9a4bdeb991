"""The dashboard's filters as values: which enrolments, results and sessions a figure counts.

``DashboardFilters`` is what the metrics reading (``outcomes.metrics.load_frames``,
``enrolment_filter``) understands; the dashboard pages parse it from the URL
(``dashboards.filters``). What each filter means is in ``dashboards.filters`` and on the
page (``DashboardFilters.descriptions``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from academy.dates import uk_date


@dataclass(frozen=True)
class DashboardFilters:
    """The dashboard's filters; ``None`` means "not filtered on this".

    ``date_from``/``date_to`` are dates (inclusive); the rest are ids, ``level`` an int 2–7.
    Labels (``cohort_label`` …) are for the page and are not part of the filtering.
    """

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    standard_id: int | None = None
    level: int | None = None
    cohort_id: int | None = None
    team_id: int | None = None
    coach_id: int | None = None
    standard_label: str = ""
    cohort_label: str = ""
    team_label: str = ""
    coach_label: str = ""

    @property
    def is_filtered(self) -> bool:
        """Return True when any filter is set."""
        return any(
            value is not None
            for value in (self.date_from, self.date_to, self.standard_id, self.level, self.cohort_id, self.team_id,
                          self.coach_id)
        )

    @property
    def has_date_range(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def params(self) -> dict[str, str]:
        """Return the URL parameters of the set filters (dates as dd/mm/yyyy), in a fixed order."""
        pairs = (
            ("from", self.date_from.strftime("%d/%m/%Y") if self.date_from else None),
            ("to", self.date_to.strftime("%d/%m/%Y") if self.date_to else None),
            ("standard", self.standard_id),
            ("level", self.level),
            ("cohort", self.cohort_id),
            ("team", self.team_id),
            ("coach", self.coach_id),
        )
        return {name: str(value) for name, value in pairs if value is not None}

    @property
    def querystring(self) -> str:
        """Return the filters as a query string without "?" (empty when unfiltered), to carry across pages."""
        return urlencode(self.params())

    def descriptions(self) -> list[str]:
        """Return one plain-English line per set filter, e.g. "Team: Revenues and Benefits"."""
        lines = []
        if self.date_from or self.date_to:
            start = uk_date(self.date_from) if self.date_from else "the beginning"
            end = uk_date(self.date_to) if self.date_to else "today"
            lines.append(
                f"Dates: {start} to {end} (learners in learning in this period; results and sessions dated in it)"
            )
        if self.standard_id is not None:
            lines.append(f"Standard: {self.standard_label}")
        if self.level is not None:
            lines.append(f"Level: {self.level}")
        if self.cohort_id is not None:
            lines.append(f"Cohort: {self.cohort_label}")
        if self.team_id is not None:
            lines.append(f"Team: {self.team_label}")
        if self.coach_id is not None:
            lines.append(f"Coach: {self.coach_label}")
        return lines

    def as_dict(self) -> dict:
        """Return the filters as JSON-safe values (dates ISO), for audit records and APIs."""
        data = asdict(self)
        for key in ("date_from", "date_to"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data
