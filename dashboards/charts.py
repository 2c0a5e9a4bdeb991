"""Plotly figures for the dashboard, built from snapshot rows; no database access, no I/O.

Every function takes a list of cohort rows as made by ``dashboards.presentation.snapshot_row``
(dicts; ``rates`` may hold ``RateView`` objects or the raw snapshot dicts) and returns a
plotly figure as a JSON-safe dict (``{"data": [...], "layout": {...}}``), which the page
passes to ``static/js/dashboard.js`` with ``json_script``.

Colours come from the GOV.UK Design System palette; each has at least 3:1 contrast with
the white background (WCAG 2.2 1.4.11), and grades also differ by fill pattern so the
chart does not rely on colour alone. Every chart has a caption and a data table on the page.
"""
from __future__ import annotations

import json

import plotly.graph_objects as go

from .presentation import (
    ACHIEVEMENT_RATE,
    CHART_IDS,
    DISTINCTION_MERIT_SHARE,
    FIRST_ATTEMPT_PASS_RATE,
    MEASURES,
    RateView,
    benchmark_label,
    national_reference,
    rate_view,
)

TEXT_COLOUR = "#0b0c0c"  # 19.6:1 on white
RATE_COLOUR = "#1d70b8"  # 5.2:1
NATIONAL_COLOUR = "#0b0c0c"
HOURS_COLOUR = "#1d70b8"
# Grade → (label, colour, pattern). Contrast on white: 12.4, 3.2, 3.2, 4.9 to 1.
GRADES = (
    ("distinction", "Distinction", "#003078", ""),
    ("merit", "Merit", "#5694ca", "/"),
    ("passed", "Pass", "#85994b", ""),
    ("failed", "Fail", "#d4351c", "x"),
)


# The legend sits above the plot, left-aligned: outside the plot area plotly makes room for
# it, so it never covers tick labels or axis titles however long they are.
LEGEND = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom", "traceorder": "normal"}
# Rates are drawn on 0–104%: the 100% tick shows and a point at 100% is not cut in half.
PERCENT_AXIS = {"range": [0, 104], "tickvals": [0, 20, 40, 60, 80, 100],
                "ticktext": ["0%", "20%", "40%", "60%", "80%", "100%"], "automargin": True}
LABEL_WIDTH = 22  # characters a category label line may hold before it wraps
TEAM_LABEL_WIDTH = 30  # team names are one line mostly; the longest wrap to two
LEGEND_WIDTH = 60  # characters a legend entry line may hold before it wraps


def wrap(text: str, width: int = LABEL_WIDTH) -> str:
    """Return ``text`` with ``<br>`` between lines of at most ``width`` characters (words kept whole).

    A cohort name breaks first at its " — " ("Data Analyst L4 — January 2024" →
    "Data Analyst L4<br>January 2024"), so plotly draws full names instead of cutting them.
    """
    lines: list[str] = []
    for part in str(text).split(" — "):
        line = ""
        for word in part.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "<br>".join(line for line in lines if line)


def rows_height(names: list[str], *, extra: int = 80) -> int:
    """Return a height (px) for a chart with one row per name on its y axis, at least 320.

    Plotly gives every category an equal band, so each row is as tall as the longest
    wrapped name needs (24 px plus 18 px a line); ``extra`` is room for the legend, axis
    and margins.
    """
    lines = max((name.count("<br>") + 1 for name in names), default=1)
    return max(320, extra + len(names) * (24 + 18 * lines))


def _layout(title: str, **extra) -> dict:
    layout = {
        "template": "none",
        "title": {"text": title, "x": 0, "xref": "paper", "xanchor": "left"},
        "font": {"family": "Arial, sans-serif", "size": 16, "color": TEXT_COLOUR},
        "margin": {"t": 60, "r": 20, "b": 60, "l": 70},
        "legend": LEGEND,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }
    layout.update(extra)
    return layout


def _category_axis(title: str) -> dict:
    """Return an x axis of category labels (wrapped with ``wrap``) that makes room for them."""
    return {"title": {"text": title}, "automargin": True, "type": "category"}


# What plotly's validation turns ``"template": "none"`` into; set directly because the
# figures below skip validation (``_figure``).
_NO_TEMPLATE = {"data": {"scatter": [{"type": "scatter"}]}}


def _figure(*, layout: dict) -> go.Figure:
    """Return an empty figure that skips plotly's property validation (most of a chart's build time).

    The properties used here are checked once by the tests (``go.Figure(figure_dict)``
    validates every figure the dashboard draws), not on every request.
    """
    if layout.get("template") == "none":
        layout = {**layout, "template": _NO_TEMPLATE}
    return go.Figure(layout=layout, _validate=False)


def _trace(kind: str, **props) -> dict:
    """Return a trace of type ``kind`` ("bar", "scatter") as a plain dict (validated in the tests, not here)."""
    return {"type": kind, **props}


def _as_dict(fig: go.Figure) -> dict:
    """Return the figure as plain JSON types (lists, floats, strings)."""
    return json.loads(fig.to_json())


def _rate(row: dict, measure: str) -> RateView:
    value = (row.get("rates") or {}).get(measure)
    return value if isinstance(value, RateView) else rate_view(measure, value)


def _add_note(fig: go.Figure, note: str) -> None:
    """Write ``note`` (if any) as the title's subtitle: what the chart does not show, and why.

    The page says the same in the chart's caption; the browser leaves the title out (the
    page has its heading), the PNG download keeps both.
    """
    if note:
        title = dict(fig.layout.title.to_plotly_json()) if fig.layout.title else {}
        fig.update_layout(title={**title, "subtitle": {"text": note, "font": {"size": 13, "color": TEXT_COLOUR}}})


def _interval_error(rates: list[RateView]) -> dict:
    """Return plotly error bars from each rate to its 95% Wilson bounds, in percentage points.

    For ``error_y`` (vertical charts) or ``error_x`` (the forest plot); a bound that is not
    known draws no bar on that side.
    """
    return {
        "type": "data",
        "symmetric": False,
        "array": [round(((r.ci_high if r.ci_high is not None else r.rate) - r.rate) * 100, 2) for r in rates],
        "arrayminus": [round((r.rate - (r.ci_low if r.ci_low is not None else r.rate)) * 100, 2) for r in rates],
        "color": RATE_COLOUR,
        "thickness": 2,
        "width": 6,
    }


SMALL_HOVER = "<br>Too few to compare: an open marker"


def _rate_trace(shown: list[tuple[str, RateView]], *, name: str, symbol: str, horizontal: bool = False) -> dict:
    """Return the markers trace of ``(label, rate)`` pairs: rate in %, 95% interval bars, counts on hover.

    Labels go on the x axis, or on the y axis with ``horizontal`` (the forest plot).
    """
    labels, values = ("y", "x") if horizontal else ("x", "y")
    return _trace(
        "scatter",
        name=name,
        **{labels: [label for label, _ in shown], values: [round(rate.rate * 100, 2) for _, rate in shown]},
        mode="markers",
        cliponaxis=False,
        marker={"color": RATE_COLOUR, "size": 11, "line": {"color": RATE_COLOUR, "width": 2},
                "symbol": [f"{symbol}-open" if rate.small else symbol for _, rate in shown]},
        **{f"error_{values}": _interval_error([rate for _, rate in shown])},
        customdata=[[rate.numerator, rate.denominator, rate.ci_text, SMALL_HOVER if rate.small else ""]
                    for _, rate in shown],
        hovertemplate=f"%{{{labels}}}<br>%{{{values}:.1f}}% (%{{customdata[0]}} of %{{customdata[1]}})<br>"
                      "95% interval %{customdata[2]}%{customdata[3]}<extra></extra>",
    )


def grade_distribution_figure(rows: list[dict]) -> dict:
    """Return a stacked bar chart of first-attempt EPA grades per cohort.

    One bar trace per grade (Distinction, Merit, Pass, Fail, in that order); ``x`` is the
    cohort labels, ``y`` the counts of completed first-attempt EPAs with that grade.
    """
    labels = [wrap(row["label"]) for row in rows]
    fig = _figure(layout=_layout(
        "First-attempt end-point assessment grades by cohort",
        barmode="stack",
        xaxis=_category_axis("Cohort"),
        yaxis={"title": {"text": "First-attempt EPAs"}, "rangemode": "tozero", "tickformat": "d", "automargin": True},
    ))
    for key, name, colour, pattern in GRADES:
        fig.add_trace(_trace("bar", 
            name=name,
            x=labels,
            y=[int(row.get(key) or 0) for row in rows],
            marker={"color": colour, "line": {"color": "#ffffff", "width": 1},
                    "pattern": {"shape": pattern, "fgcolor": "#ffffff", "fillmode": "overlay", "solidity": 0.3}},
            hovertemplate=f"%{{x}}<br>{name}: %{{y}}<extra></extra>",
        ))
    return _as_dict(fig)


def rate_interval_figure(rows: list[dict], measure: str) -> dict:
    """Return each cohort's rate (in %) with its 95% Wilson interval, against the national figure.

    Traces: "Cohort rate (95% interval)" — markers at ``rate × 100`` with asymmetric error
    bars to ``ci_high``/``ci_low``, only for cohorts with a non-zero denominator; then the
    national figure for the same measure, when loaded: a horizontal line named with its
    rate, year and source when every cohort has the same benchmark, otherwise one short
    dash per cohort ("National benchmark for the cohort"). Without a benchmark no national
    trace is drawn and the layout carries a note (for the distinction and merit share: no
    national figure is published in our sources).
    """
    label = MEASURES[measure]["label"]
    shown = [(wrap(row["label"]), _rate(row, measure)) for row in rows]
    shown = [(name, rate) for name, rate in shown if rate.has_results]
    names = [name for name, _ in shown]
    fig = _figure(layout=_layout(
        f"{label} by cohort, with 95% confidence intervals",
        xaxis=_category_axis("Cohort"),
        yaxis={"title": {"text": "Rate (%)"}, **PERCENT_AXIS},
    ))
    fig.add_trace(_rate_trace(shown, name="Cohort rate (95% interval)", symbol="circle"))
    benchmarked = [(name, rate) for name, rate in shown if rate.benchmark_rate is not None]
    how, reference = national_reference([rate for _, rate in shown])
    note = ""
    if how == "single":
        fig.add_trace(_trace("scatter",
            name=wrap(benchmark_label(reference), LEGEND_WIDTH),
            x=names,
            y=[round(reference.benchmark_rate * 100, 2)] * len(names),
            mode="lines",
            line={"color": NATIONAL_COLOUR, "dash": "dash", "width": 2},
            hovertemplate=f"{benchmark_label(reference)}<extra></extra>",
        ))
    elif how == "mixed":
        fig.add_trace(_trace("scatter", 
            name="National benchmark for the cohort",
            x=[name for name, _ in benchmarked],
            y=[round(rate.benchmark_rate * 100, 2) for _, rate in benchmarked],
            mode="markers",
            marker={"color": NATIONAL_COLOUR, "symbol": "line-ew-open", "size": 28, "line": {"width": 3}},
            customdata=[[benchmark_label(rate)] for _, rate in benchmarked],
            hovertemplate="%{x}<br>%{customdata[0]}<extra></extra>",
        ))
    elif measure == DISTINCTION_MERIT_SHARE:
        note = "No national distinction and merit figure is published in our sources."
    else:
        note = f"No {MEASURES[measure]['national_name']} is loaded, so none is drawn."
    if not names:
        note = (note + " " if note else "") + "No cohort has results yet."
    _add_note(fig, note)
    return _as_dict(fig)


def coaching_hours_figure(rows: list[dict]) -> dict:
    """Return a bar chart of attended coaching hours per enrolled learner, per cohort.

    One bar trace; ``y`` is ``coaching_hours ÷ enrolled`` rounded to 0.1 hours, 0 where no
    learner is enrolled.
    """
    return per_learner_figure(rows, title="Coaching hours per learner by cohort", axis="Cohort",
                              y_title="Hours per enrolled learner")


def dashboard_figures(rows: list[dict], measures: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Return every dashboard figure by element id: grades, a rate chart per measure, coaching hours.

    ``measures`` defaults to the three headline measures (``presentation.MEASURE_ORDER``);
    the dashboard page passes ``ALL_MEASURES`` to add the pass rate.
    """
    if measures is None:
        measures = (DISTINCTION_MERIT_SHARE, ACHIEVEMENT_RATE, FIRST_ATTEMPT_PASS_RATE)
    return {
        "chart-grades": grade_distribution_figure(rows),
        **{
            CHART_IDS[measure]: rate_interval_figure(rows, measure)
            for measure in measures
        },
        "chart-coaching": coaching_hours_figure(rows),
    }



# --- Standards and levels: forest plot --------------------------------------------------


def forest_figure(rows: list[dict], measure: str) -> dict:
    """Return a forest plot of ``measure``: one line per row (standard totals and cohorts), against national marks.

    ``rows`` are ``snapshot_row``-shaped dicts (label, rates) in display order (top to
    bottom). Traces: "Rate (95% interval)" — markers at ``rate × 100`` with asymmetric
    horizontal error bars to the Wilson bounds, for rows with results; "National figure" —
    a black vertical tick per row at the national rate of the benchmark that row was
    compared with (standard, else level, else all standards). Rows without results are
    left out; the y axis keeps the given order.
    """
    label = MEASURES[measure]["label"]
    shown = [(wrap(row["label"], 30), _rate(row, measure)) for row in rows]
    shown = [(name, rate) for name, rate in shown if rate.has_results]
    names = [name for name, _ in shown]
    fig = _figure(layout=_layout(
        f"{label}: cohorts against the national figure",
        xaxis={"title": {"text": "Rate (%)"}, **PERCENT_AXIS},
        yaxis={"type": "category", "autorange": "reversed", "automargin": True, "categoryorder": "array",
               "categoryarray": names},
        height=rows_height(names, extra=140),
        margin={"t": 60, "r": 20, "b": 80, "l": 20},
    ))
    fig.add_trace(_rate_trace(shown, name="Rate (95% interval)", symbol="square", horizontal=True))
    benchmarked = [(name, rate) for name, rate in shown if rate.benchmark_rate is not None]
    if benchmarked:
        fig.add_trace(_trace("scatter", 
            name="National figure used for the row",
            y=[name for name, _ in benchmarked],
            x=[round(rate.benchmark_rate * 100, 2) for _, rate in benchmarked],
            mode="markers",
            marker={"color": NATIONAL_COLOUR, "symbol": "line-ns-open", "size": 22, "line": {"width": 3}},
            customdata=[[benchmark_label(rate), (rate.benchmark or {}).get("scope_label", "")]
                        for _, rate in benchmarked],
            hovertemplate="%{y}<br>%{customdata[0]}<br>Scope: %{customdata[1]}<extra></extra>",
        ))
    note = ""
    if not benchmarked:
        note = ("No national distinction and merit figure is published in our sources."
                if measure == DISTINCTION_MERIT_SHARE else f"No {MEASURES[measure]['national_name']} is loaded.")
    if not names:
        note = (note + " " if note else "") + "No results yet."
    _add_note(fig, note)
    return _as_dict(fig)


# --- Trends ------------------------------------------------------------------------------


def _month_axis(title: str) -> dict:
    """Return a date x axis by month: plotly spaces its ticks for the width, so labels stay level on a phone."""
    return {"title": {"text": title}, "type": "date", "tickformat": "%b %Y", "automargin": True}


def _month_bar(months: list[dict], key: str, **props) -> dict:
    """Return a bar trace of ``key`` per month, one bar per calendar month, hover "March 2025"."""
    return _trace("bar", x=[m["month"] for m in months], y=[int(m.get(key) or 0) for m in months],
                  xperiod="M1", xperiodalignment="middle", **props)


def monthly_intake_figure(months: list[dict]) -> dict:
    """Return a bar chart of enrolments started per month.

    ``months`` items have ``month`` (ISO first day, "2025-03-01") and ``started``.
    """
    fig = _figure(layout=_layout(
        "Intake by month",
        xaxis=_month_axis("Month started"),
        yaxis={"title": {"text": "Enrolments started"}, "rangemode": "tozero", "tickformat": "d", "automargin": True},
        showlegend=False,
    ))
    fig.add_trace(_month_bar(months, "started",
        name="Enrolments started",
        marker={"color": HOURS_COLOUR},
        hovertemplate="%{x|%B %Y}<br>%{y} started<extra></extra>",
    ))
    return _as_dict(fig)


def monthly_results_figure(months: list[dict]) -> dict:
    """Return stacked bars of first-attempt EPA grades per month (``months`` items: ``month`` and grade counts)."""
    fig = _figure(layout=_layout(
        "First-attempt end-point assessment results by month",
        barmode="stack",
        xaxis=_month_axis("Month of the result"),
        yaxis={"title": {"text": "First-attempt results"}, "rangemode": "tozero", "tickformat": "d",
               "automargin": True},
    ))
    for key, name, colour, pattern in GRADES:
        fig.add_trace(_month_bar(months, key,
            name=name,
            marker={"color": colour, "line": {"color": "#ffffff", "width": 1},
                    "pattern": {"shape": pattern, "fgcolor": "#ffffff", "fillmode": "overlay", "solidity": 0.3}},
            hovertemplate=f"%{{x|%B %Y}}<br>{name}: %{{y}}<extra></extra>",
        ))
    return _as_dict(fig)


def share_over_time_figure(rows: list[dict], measure: str = DISTINCTION_MERIT_SHARE) -> dict:
    """Return each cohort's ``measure`` (in %) with its 95% interval, placed at the cohort's start date.

    ``rows`` are cohort rows with ``cohort`` (for ``start_date``); cohorts with no results
    are left out. Shows whether later intakes do better than earlier ones.
    """
    label = MEASURES[measure]["label"]
    shown = [(row, _rate(row, measure)) for row in rows if row.get("cohort") is not None]
    shown = [(row, rate) for row, rate in shown if rate.has_results]
    fig = _figure(layout=_layout(
        f"{label} by cohort, over time",
        xaxis={"title": {"text": "Cohort start date"}, "type": "date", "automargin": True},
        yaxis={"title": {"text": "Rate (%)"}, **PERCENT_AXIS},
    ))
    fig.add_trace(_trace("scatter", 
        name="Cohort (95% interval)",
        x=[row["cohort"].start_date.isoformat() for row, _ in shown],
        y=[round(rate.rate * 100, 2) for _, rate in shown],
        mode="markers+lines",
        cliponaxis=False,
        line={"color": RATE_COLOUR, "width": 1, "dash": "dot"},
        marker={"color": RATE_COLOUR, "size": 11},
        error_y=_interval_error([rate for _, rate in shown]),
        customdata=[[row["label"], rate.numerator, rate.denominator] for row, rate in shown],
        hovertemplate="%{customdata[0]}<br>%{y:.1f}% (%{customdata[1]} of %{customdata[2]})<extra></extra>",
    ))
    if not shown:
        _add_note(fig, "No cohort has results yet.")
    return _as_dict(fig)


# --- Teams and coaching ------------------------------------------------------------------


def teams_figure(rows: list[dict]) -> dict:
    """Return grouped horizontal bars of enrolments and completions per team (teams taking part only)."""
    names = [wrap(row["label"], TEAM_LABEL_WIDTH) for row in rows]
    fig = _figure(layout=_layout(
        "Enrolments and completions by team",
        barmode="group",
        xaxis={"title": {"text": "Learners"}, "rangemode": "tozero", "tickformat": "d"},
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        height=rows_height(names),
        margin={"t": 60, "r": 20, "b": 80, "l": 20},
    ))
    for key, name, colour in (("enrolled", "Enrolled", "#1d70b8"), ("completed", "Completed", "#003078")):
        fig.add_trace(_trace("bar", 
            name=name, orientation="h", y=names, x=[int(row[key]) for row in rows], marker={"color": colour},
            hovertemplate=f"%{{y}}<br>{name}: %{{x}}<extra></extra>",
        ))
    return _as_dict(fig)


def per_learner_figure(rows: list[dict], *, title: str, axis: str,
                       y_title: str = "Coaching hours per enrolled learner") -> dict:
    """Return bars of coaching hours per enrolled learner for each row (cohorts or coaches); ``axis`` names the x axis."""
    fig = _figure(layout=_layout(
        title,
        xaxis=_category_axis(axis),
        yaxis={"title": {"text": y_title}, "rangemode": "tozero", "automargin": True},
        showlegend=False,
    ))
    fig.add_trace(_trace("bar",
        name="Coaching hours per learner",
        x=[wrap(row["label"]) for row in rows],
        y=[round(row["hours_per_learner"] or 0, 1) for row in rows],
        marker={"color": HOURS_COLOUR},
        hovertemplate="%{x}<br>%{y:.1f} hours per learner<extra></extra>",
    ))
    return _as_dict(fig)
