"""One builder per dashboard page: what each page shows, built once for its HTML view, its
CSV/XLSX and PNG downloads and the board report.

Each function takes the figures already read (``dashboards.readers``) and returns plain
rows (``presentation.group_row`` dicts) and plotly figure dicts; the views paginate and
render them, the downloads turn them into ``Table`` objects and PNG images.
"""
from __future__ import annotations

from outcomes import metrics

from . import groups, readers
from .charts import monthly_intake_figure, monthly_results_figure, per_learner_figure, share_over_time_figure
from .presentation import DISTINCTION_MERIT_SHARE, group_row

# --- Standards and levels ---------------------------------------------------------------


def standard_groups(standards: dict, totals: dict, cohort_snapshots) -> list[dict]:
    """Return every standard (by level, then title) with its all-cohorts total row and the given cohorts under it.

    ``standards``: id → ``Standard``; ``totals``: id → snapshot summing all the standard's
    cohorts; ``cohort_snapshots``: the cohorts to list under their standard, in the order
    given. Returns ``[{"standard", "total": row, "cohorts": [rows]}]``; a standard with
    no cohort given still shows its total.
    """
    by_standard = {pk: {"standard": standard, "cohorts": []} for pk, standard in standards.items() if pk in totals}
    for snapshot in cohort_snapshots:
        by_standard[snapshot.cohort.standard_id]["cohorts"].append(
            group_row(snapshot.cohort.name, snapshot, key=snapshot.key)
        )
    out = []
    ordered = sorted(by_standard.items(), key=lambda item: (item[1]["standard"].level, item[1]["standard"].title))
    for standard_id, group in ordered:
        standard = group["standard"]
        label = f"{standard.title} ({standard.reference}), level {standard.level}: all cohorts"
        group["total"] = group_row(label, totals[standard_id], key=f"standard:{standard_id}")
        out.append(group)
    return out


def standard_rows(groups_: list[dict]) -> list[dict]:
    """Return the rows of ``standard_groups`` in page order: each standard's total, then its cohorts."""
    rows = []
    for group in groups_:
        rows.append(group["total"])
        rows.extend(group["cohorts"])
    return rows


# --- Trends -------------------------------------------------------------------------------


def monthly_rows(live: dict) -> tuple:
    """Return ``(trends frame, months)`` for ``live`` figures.

    ``months``: one dict a month: "label" ("March 2025"), "month" (its first day, ISO
    "2025-03-01", for a date axis) and the counts.
    """
    trends = metrics.monthly_trends(live["frames"])
    months = [{"label": month.strftime("%B %Y"), "month": month.strftime("%Y-%m-01"), **{k: int(v) for k, v in row.items()}}
              for month, row in trends.to_dict("index").items()]
    return trends, months


def trends_figures(months: list[dict], cohort_rows: list[dict]) -> dict:
    """Return the trends page's three charts by element id (none when there is nothing to draw)."""
    if not (months or cohort_rows):
        return {}
    return {
        "chart-intake": monthly_intake_figure(months),
        "chart-results-month": monthly_results_figure(months),
        "chart-dm-over-time": share_over_time_figure(cohort_rows, DISTINCTION_MERIT_SHARE),
    }


# --- Teams --------------------------------------------------------------------------------


def team_groups(filters, live: dict) -> dict:
    """Return every team's row (``groups.team_rows``), split into those taking part and the names of the others."""
    rows = groups.team_rows(filters, live)
    return {
        "rows": rows,
        "taking_part": [row for row in rows if row["enrolled"] > 0 or row["epa_completed"] > 0],
        "not_taking_part": [row["label"] for row in rows if row["enrolled"] == 0 and row["epa_completed"] == 0],
    }


# --- Coaching -----------------------------------------------------------------------------


def coaching_groups(filters, live: dict, cohort_rows: list[dict]) -> dict:
    """Mark ``cohort_rows`` with their share at risk today and return the coach rows and the overall share.

    Returns ``{"risk": readers.at_risk_counts(filters), "coach_rows": [rows],
    "overall_risk": groups.risk_share(...) or None}``; each cohort row gets ``"risk"``.
    """
    risk = readers.at_risk_counts(filters)
    for row in cohort_rows:
        row["risk"] = groups.risk_cell(risk["by_cohort"] if risk else None, row["cohort"].pk)
    return {
        "risk": risk,
        "coach_rows": groups.coach_rows(filters, live, risk),
        "overall_risk": groups.risk_share(*risk["total"]) if risk else None,
    }


def coaching_figures(cohort_rows: list[dict], coach_rows: list[dict]) -> dict:
    """Return the coaching page's two charts by element id (none when there is nothing to draw)."""
    if not (cohort_rows or coach_rows):
        return {}
    return {
        "chart-coaching-cohort": per_learner_figure(cohort_rows, title="Coaching hours per learner by cohort",
                                                    axis="Cohort"),
        "chart-coaching-coach": per_learner_figure(coach_rows, title="Coaching hours per learner by coach",
                                                   axis="Coach"),
    }
