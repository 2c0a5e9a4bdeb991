"""The dashboard's and impact pages' tables, as ``academy.exports.Table`` (charts as PNG: ``dashboards.chart_images``).

``dashboard_tables`` builds the tables the dashboard shows from ``dashboards.presentation``
rows, and ``impact_tables`` those of the impact pages, so a download always holds what
the page holds; ``academy.exports.write_csv`` / ``write_xlsx`` write them.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from academy.exports import DATE, DECIMAL, FLOAT, INT, MONEY, RATE, TEXT, Column, Table
from outcomes.impact import (
    KIND_UNITS,
    NOT_ADDED,
    format_money,
    format_number,
    impact_records_for_list,
    impact_totals,
    levy_value,
)

from .presentation import (
    ACHIEVEMENT_RATE,
    CHART_IDS,
    DISTINCTION_MERIT_SHARE,
    FIRST_ATTEMPT_PASS_RATE,
    MEASURE_ORDER,
    MEASURES,
    NO_DM_BENCHMARK,
    RateView,
)

# --- The dashboard's own CSV (/dashboard/export.csv) ----------------------------------

SUMMARY_COLUMNS = [
    Column("cohort", kind=TEXT),
    Column("standard", kind=TEXT),
    Column("level", kind=TEXT),
    *(Column(key, kind=INT) for key in ("enrolled", "leavers", "achievers")),
    *(Column(key, kind=RATE) for key in (
        "achievement_rate", "achievement_ci_low", "achievement_ci_high", "national_achievement_rate")),
    *(Column(key, kind=INT) for key in ("epa_completed", "distinction", "merit", "pass", "fail")),
    *(Column(key, kind=RATE) for key in (
        "distinction_merit_rate", "dm_ci_low", "dm_ci_high", "first_attempt_pass_rate",
        "national_first_attempt_pass_rate")),
    Column("national_source", kind=TEXT),
]


def _benchmark_source(label: str, rate: RateView) -> str | None:
    if not rate.has_results or not rate.benchmark or rate.benchmark_rate is None:
        return None
    year = rate.benchmark.get("academic_year") or ""
    return f"{label}: {rate.benchmark.get('source', '')} ({year})"


def _summary_row(row: dict, *, level) -> list:
    achievement = row["rates"][ACHIEVEMENT_RATE]
    first = row["rates"][FIRST_ATTEMPT_PASS_RATE]
    dm = row["rates"][DISTINCTION_MERIT_SHARE]

    def rates(rate: RateView, *, ci: bool) -> list:
        if not rate.has_results:
            return [None, None, None] if ci else [None]
        return [rate.rate, rate.ci_low, rate.ci_high] if ci else [rate.rate]

    sources = [
        source
        for source in (
            _benchmark_source("Achievement rate", achievement),
            _benchmark_source("First-attempt pass rate", first),
        )
        if source
    ]
    return [
        row["label"], row["standard"], level, row["enrolled"], row["leavers"], row["achievers"],
        *rates(achievement, ci=True), _national(achievement),
        row["epa_completed"], row["distinction"], row["merit"], row["passed"], row["failed"],
        *rates(dm, ci=True), *rates(first, ci=False), _national(first),
        "; ".join(sources),
    ]


def summary_table(summary: dict) -> Table:
    """Return the dashboard's own CSV as a ``Table`` named "dashboard" (columns in ``SUMMARY_COLUMNS``).

    One row per cohort, then "All cohorts" where its snapshot exists (its standards and
    levels ``;``-joined). Rates are fractions 0–1; a rate, interval or national figure
    is empty where its denominator is 0 or no benchmark of the same measure applies.
    """
    cohorts = summary["cohorts"]
    rows = [_summary_row(row, level=row["level"]) for row in cohorts]
    overall = summary.get("overall")
    if overall is not None:
        standards = ";".join(sorted({row["standard"] for row in cohorts if row["standard"]}))
        levels = ";".join(str(level) for level in sorted({row["level"] for row in cohorts if row["level"] is not None}))
        rows.append(_summary_row({**overall, "standard": standards}, level=levels))
    return Table("dashboard", "Dashboard by cohort", SUMMARY_COLUMNS, rows)


# --- The dashboard's tables -----------------------------------------------------------


def _rate_or_none(rate) -> float | None:
    return rate.rate if rate.has_results else None


def _national(rate) -> float | None:
    return rate.benchmark_rate if rate.has_results else None


def _source(rate) -> str:
    if not rate.has_results or not rate.benchmark or rate.benchmark_rate is None:
        return ""
    return f"{rate.benchmark.get('source', '')} ({rate.benchmark_year_text})"


def dashboard_tables(summary: dict) -> dict[str, Table]:
    """Return the dashboard's tables by name, built from ``presentation.dashboard_summary``.

    Names: ``enrolments`` (enrolments by cohort), ``results`` (rates, coaching and
    off-the-job hours by cohort), ``grades`` (first-attempt EPA grades), one per measure
    (``distinction-merit``, ``achievement``, ``first-attempt``: rate, n of N, 95% Wilson
    interval, national figure with year and source, difference and p-value) and
    ``coaching``. Cohort rows come first in the dashboard's order, then "All cohorts"
    where the all-cohorts snapshot exists. Rates are empty (not 0) where the
    denominator is 0.
    """
    rows = list(summary["cohorts"])
    if summary.get("overall") is not None:
        rows.append(summary["overall"])
    definitions = [f"{MEASURES[m]['label']}: {MEASURES[m]['definition']}" for m in MEASURE_ORDER]

    enrolments = Table(
        "enrolments",
        "Enrolments by cohort",
        [
            Column("cohort", "Cohort"),
            Column("standard", "Standard"),
            Column("standard_title", "Standard title"),
            Column("level", "Level", INT),
            Column("enrolled", "Enrolled", INT),
            Column("active", "Active", INT),
            Column("on_break", "On a break", INT),
            Column("at_gateway_or_epa", "At gateway or EPA", INT),
            Column("withdrawn", "Withdrawn", INT),
            Column("completed", "Completed", INT),
        ],
        [
            [r["label"], r["standard"], r["standard_title"], r["level"], r["enrolled"], r["active"], r["on_break"],
             r["at_gateway_or_epa"], r["withdrawn"], r["completed"]]
            for r in rows
        ],
    )
    results_columns = [Column("cohort", "Cohort")]
    for measure in MEASURE_ORDER:
        label = MEASURES[measure]["label"]
        results_columns += [
            Column(f"{measure}", label, RATE),
            Column(f"{measure}_numerator", f"{label}: numerator", INT),
            Column(f"{measure}_denominator", f"{label}: denominator", INT),
        ]
    results_columns += [
        Column("coaching_sessions", "Coaching sessions attended", INT),
        Column("sessions_per_learner", "Coaching sessions per learner", DECIMAL),
        Column("coaching_hours", "Coaching hours", DECIMAL),
        Column("hours_per_learner", "Coaching hours per learner", DECIMAL),
        Column("otj_hours_logged", "Off-the-job hours logged", DECIMAL),
        Column("otj_hours_planned", "Off-the-job hours planned", DECIMAL),
    ]
    results = Table(
        "results",
        "Results and coaching by cohort",
        results_columns,
        [
            [r["label"]]
            + [
                value
                for measure in MEASURE_ORDER
                for value in (
                    _rate_or_none(r["rates"][measure]),
                    r["rates"][measure].numerator,
                    r["rates"][measure].denominator,
                )
            ]
            + [r["coaching_sessions"], r["sessions_per_learner"], r["coaching_hours"], r["hours_per_learner"],
               r["otj_logged"], r["otj_planned"]]
            for r in rows
        ],
        notes=definitions,
    )
    grades = Table(
        "grades",
        "First-attempt end-point assessment grades by cohort",
        [
            Column("cohort", "Cohort"),
            Column("distinction", "Distinction", INT),
            Column("merit", "Merit", INT),
            Column("pass", "Pass", INT),
            Column("fail", "Fail", INT),
            Column("epa_completed", "Completed first-attempt EPAs", INT),
        ],
        [[r["label"], r["distinction"], r["merit"], r["passed"], r["failed"], r["epa_completed"]] for r in rows],
    )
    tables = {t.name: t for t in (enrolments, results, grades)}
    # One table per measure, named as its chart: "distinction-merit", "achievement", "first-attempt", …
    names = {measure: CHART_IDS.get(measure, measure).removeprefix("chart-") for measure in MEASURE_ORDER}
    for measure in MEASURE_ORDER:
        label = MEASURES[measure]["label"]
        table = Table(
            names[measure],
            f"{label} by cohort, with 95% confidence intervals",
            [
                Column("cohort", "Cohort"),
                Column("rate", label, RATE),
                Column("numerator", "Numerator", INT),
                Column("denominator", "Denominator", INT),
                Column("ci_low", "95% interval, low", RATE),
                Column("ci_high", "95% interval, high", RATE),
                Column("national_rate", "National figure", RATE),
                Column("national_source", "National figure: source and year"),
                Column("difference_pp", "Difference (percentage points)", DECIMAL),
                Column("p_value", "p-value (exact binomial test)", FLOAT),
                Column("comparison", "Compared with the national figure"),
            ],
            notes=[f"{label}: {MEASURES[measure]['definition']}"]
            + ([NO_DM_BENCHMARK] if measure == "distinction_merit_share" else []),
        )
        for r in rows:
            rate = r["rates"][measure]
            has = rate.has_results
            table.rows.append([
                r["label"],
                _rate_or_none(rate),
                rate.numerator,
                rate.denominator,
                rate.ci_low if has else None,
                rate.ci_high if has else None,
                _national(rate),
                _source(rate),
                rate.difference_pp,
                rate.p_value if has and rate.benchmark_rate is not None else None,
                rate.significance_text if has else rate.rate_text,
            ])
        tables[table.name] = table
    tables["coaching"] = Table(
        "coaching",
        "Coaching by cohort",
        [
            Column("cohort", "Cohort"),
            Column("enrolled", "Enrolled", INT),
            Column("coaching_sessions", "Sessions attended", INT),
            Column("coaching_hours", "Coaching hours", DECIMAL),
            Column("hours_per_learner", "Hours per learner", DECIMAL),
        ],
        [[r["label"], r["enrolled"], r["coaching_sessions"], r["coaching_hours"], r["hours_per_learner"]]
         for r in rows],
    )
    return tables


def tables_for(names: Iterable[str], tables: dict[str, Table]) -> list[Table]:
    """Return the tables named, in the order given, skipping names not present."""
    return [tables[name] for name in names if name in tables]


def impact_tables(*, hourly_cost_gbp: Decimal | None = None) -> dict:
    """Return the impact pages' tables by name, as ``Table``.

    ``impact-records`` (every record: title, kind, value in its unit, team, learners,
    evidence, link, date, recorded by), ``impact-by-kind``, ``impact-by-team`` (one row
    per team and kind; time reduced has no total, only count and largest) and
    ``levy-value`` (enrolments and funding band by standard, then the totals; an
    unknown band is empty, never 0). Assumptions are written as the tables' notes.
    """
    records = Table(
        "impact-records",
        "Impact records",
        [
            Column("title", "What changed"),
            Column("kind", "Kind"),
            Column("value", "Value", DECIMAL),
            Column("unit", "Unit"),
            Column("team", "Team"),
            Column("learners", "Learners involved", INT),
            Column("evidence", "Evidence"),
            Column("link", "Link"),
            Column("date", "Date", DATE),
            Column("recorded_by", "Recorded by"),
        ],
    )
    for record in impact_records_for_list():
        records.rows.append([
            record.title, record.get_kind_display(), record.value, KIND_UNITS[record.kind],
            record.team.name if record.team else "", record.learner_count, record.evidence, record.link,
            record.date, str(record.recorded_by) if record.recorded_by else "",
        ])
    totals = impact_totals()
    by_kind = Table(
        "impact-by-kind",
        "Impact by kind",
        [Column("kind", "Kind"), Column("records", "Records", INT), Column("total", "Total", DECIMAL),
         Column("largest", "Largest single value", DECIMAL), Column("unit", "Unit")],
        [[t.label, t.count, t.total, t.largest, KIND_UNITS[t.kind]] for t in totals["by_kind"]],
        notes=[NOT_ADDED],
    )
    by_team = Table(
        "impact-by-team",
        "Impact by team",
        [Column("team", "Team"), Column("kind", "Kind"), Column("records", "Records", INT),
         Column("total", "Total", DECIMAL), Column("largest", "Largest single value", DECIMAL),
         Column("unit", "Unit")],
        [
            [team.team, t.label, t.count, t.total, t.largest, KIND_UNITS[t.kind]]
            for team in totals["by_team"]
            for t in team.totals
            if t.count
        ],
        notes=[NOT_ADDED],
    )
    value = levy_value(hourly_cost_gbp=hourly_cost_gbp)
    levy = Table(
        "levy-value",
        "Value for the levy",
        [Column("item", "Item"), Column("standard", "Standard"), Column("enrolments", "Enrolments", INT),
         Column("band", "Funding band (£)", MONEY), Column("value", "Value (£)", MONEY), Column("note", "Note", TEXT)],
        notes=value.assumptions + value.notes,
    )
    for band in value.standards:
        levy.rows.append([
            f"{band.title} (level {band.level})", band.reference, band.enrolments, band.band_gbp, band.value_gbp,
            "" if band.band_gbp is not None else "Funding band unknown: left out",
        ])
    levy.rows.append(["Funding-band value of enrolments", "", value.enrolments_counted, None,
                      value.band_value_gbp, "Each enrolment at its standard's full band"])
    levy.rows.append(["Money recovered or saved (impact records)", "", None, None, value.money_impact_gbp,
                      f"{value.money_records} record" + ("" if value.money_records == 1 else "s")])
    if value.hours_value_gbp is not None:
        levy.rows.append(["Hours saved a year, valued at the hourly cost given", "", None, None,
                          value.hours_value_gbp,
                          f"{format_number(value.hours_per_year)} hours a year at {format_money(value.hourly_cost_gbp)} an hour"])
    else:
        levy.rows.append(["Hours saved a year (not valued in pounds)", "", None, None, None,
                          f"{format_number(value.hours_per_year)} hours a year"])
    return {t.name: t for t in (records, by_kind, by_team, levy)}
