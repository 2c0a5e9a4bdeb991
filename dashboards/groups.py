"""Dashboard rows per team and per coach, shared by the dashboard pages and their exports.

Both take the live figures of ``outcomes.readers.live_metrics(filters)`` (one query per
table, whatever the number of teams or coaches) and return ``presentation.group_row``
dicts, in name order.
"""
from __future__ import annotations

from academy.models import Team, User
from outcomes import metrics

from . import readers
from .presentation import group_row


def risk_cell(counts: dict | None, key) -> dict | None:
    """Return ``{"at_risk", "in_learning", "share"}`` for one group, or ``None`` without risk data.

    ``counts``: ``{key: (at_risk, in_learning)}`` from ``readers.at_risk_counts``; a group
    missing from it has no learner in learning (share ``None``).
    """
    if counts is None:
        return None
    return risk_share(*counts.get(key, (0, 0)))


def risk_share(at_risk: int, in_learning: int) -> dict:
    """Return ``{"at_risk", "in_learning", "share"}``; ``share`` is ``None`` with no learner in learning."""
    return {"at_risk": at_risk, "in_learning": in_learning, "share": at_risk / in_learning if in_learning else None}


def team_rows(filters, live: dict) -> list[dict]:
    """Return a row per team (only the filtered team when filtering by team), by name, teams not taking part included.

    A team takes part when ``row["enrolled"]`` or ``row["epa_completed"]`` is above 0.
    """
    teams = list(Team.objects.order_by("name"))
    if filters.team_id is not None:
        teams = [t for t in teams if t.pk == filters.team_id]
    groups = readers.group_snapshots(live["frames"], by="team_id", ids=[t.pk for t in teams],
                                     benchmarks=live["benchmarks"])
    return [group_row(team.name, groups[team.pk], key=f"team:{team.pk}") for team in teams]


def coach_rows(filters, live: dict, risk: dict | None) -> list[dict]:
    """Return a row per coach (only the filtered coach when filtering by coach), by name, each with its ``risk`` cell.

    Enrolments without a coach get a last row "No coach assigned" (unfiltered, and only
    when there are any). ``risk``: ``readers.at_risk_counts(filters)`` or ``None``.
    """
    coaches = list(User.objects.filter(role=User.Role.COACH).order_by("full_name", "email"))
    if filters.coach_id is not None:
        coaches = [c for c in coaches if c.pk == filters.coach_id]
    ids = [c.pk for c in coaches]
    names = {c.pk: str(c) for c in coaches}
    if filters.coach_id is None and live["frames"]["enrolments"]["coach_id"].isna().any():
        ids.append(metrics.NO_COACH)
        names[metrics.NO_COACH] = "No coach assigned"
    groups = readers.group_snapshots(live["frames"], by="coach_id", ids=ids, benchmarks=live["benchmarks"])
    rows = []
    for cid in ids:
        row = group_row(names[cid], groups[cid], key=f"coach:{cid}")
        row["risk"] = risk_cell(risk["by_coach"] if risk else None, cid)
        if row["enrolled"] or cid != metrics.NO_COACH:
            rows.append(row)
    return rows


# Sortable columns of the group tables: ?sort=<key> ascending, ?sort=-<key> descending.
# Each reads a value from a group row; rates without results sort last either way.
GROUP_SORTS = {
    "name": lambda row: row["label"].lower(),
    "enrolled": lambda row: row["enrolled"],
    "in-learning": lambda row: row["active"],
    "completed": lambda row: row["completed"],
    "withdrawn": lambda row: row["withdrawn"],
    "distinction-merit": lambda row: _rate_value(row, "distinction_merit_share"),
    "achievement": lambda row: _rate_value(row, "achievement_rate"),
    "pass": lambda row: _rate_value(row, "pass_rate"),
}


def _rate_value(row: dict, measure: str):
    rate = row["rates"][measure]
    return rate.rate if rate.has_results else None


def parse_group_sort(value: str | None) -> tuple[str, bool]:
    """Return ``(key, descending)`` from ``?sort=``; an unknown key gives ``("name", False)``."""
    value = (value or "").strip()
    key, descending = (value[1:], True) if value.startswith("-") else (value, False)
    return (key, descending) if key in GROUP_SORTS else ("name", False)


def sort_groups(rows: list[dict], key: str, descending: bool) -> list[dict]:
    """Return ``rows`` sorted by ``GROUP_SORTS[key]``, ties by name; rows without a value last."""
    read = GROUP_SORTS[key]
    known = [row for row in rows if read(row) is not None]
    unknown = [row for row in rows if read(row) is None]
    known.sort(key=lambda row: row["label"].lower())
    known.sort(key=read, reverse=descending)
    return known + sorted(unknown, key=lambda row: row["label"].lower())


def national_figures(rows: list[dict], measures: tuple[str, ...]) -> dict[str, str]:
    """Return, per measure, the national figure the rows were compared with ("60.5% (2023/24)"), or "" when none.

    Where rows were compared with different figures (a team's standards differ) the
    text says so: "varies by row".
    """
    figures = {}
    for measure in measures:
        seen = {(r["rates"][measure].benchmark_rate_text, r["rates"][measure].benchmark_year_text)
                for r in rows if r["rates"][measure].benchmark_rate is not None}
        if not seen:
            figures[measure] = ""
        elif len(seen) == 1:
            rate, year = seen.pop()
            figures[measure] = f"{rate} ({year})"
        else:
            figures[measure] = "varies by row"
    return figures
