"""Turn ``CohortMetrics`` snapshots into what the dashboard and its CSV export show.

Pure functions: they take snapshot objects (or their ``rates`` dicts) and return plain
dicts, lists and strings, with no database access. The statistics rules are in
``docs/rules.md`` ("Statistics"):

- a rate is compared only with a benchmark of the same measure (the snapshot stores the
  benchmark under the measure it belongs to, so a measure never borrows another's);
- a rate is shown with its numerator and denominator; an empty denominator shows
  "No results yet", never 0%;
- a comparison gives the 95% Wilson interval, the difference in percentage points and
  whether it is significant (exact binomial test); fewer than ``ACADEMY_SMALL_COHORT``
  (settings; 5) results are "too few to compare".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from academy.numbers import format_percent


NO_RESULTS = "No results yet"
ALL_COHORTS = "All cohorts"

ACHIEVEMENT_RATE = "achievement_rate"
FIRST_ATTEMPT_PASS_RATE = "first_attempt_pass_rate"
DISTINCTION_MERIT_SHARE = "distinction_merit_share"
PASS_RATE = "pass_rate"

# Measure key → (label, one-line definition, how to read "n of N", the national figure's name).
MEASURES: dict[str, dict[str, str]] = {
    DISTINCTION_MERIT_SHARE: {
        "label": "Distinction and merit share",
        "definition": (
            "The share of completed first-attempt end-point assessments (EPAs) graded distinction or merit."
        ),
        "count_noun": "completed first-attempt EPAs",
        "national_name": "national distinction and merit share",
    },
    ACHIEVEMENT_RATE: {
        "label": "Achievement rate",
        "definition": (
            "Achievers divided by leavers (learners who achieved, withdrew or failed), counted in the later of the "
            "planned and actual end year, as in the DfE qualification achievement rate methodology."
        ),
        "count_noun": "leavers achieved",
        "national_name": "national achievement rate",
    },
    FIRST_ATTEMPT_PASS_RATE: {
        "label": "First-attempt EPA pass rate",
        "definition": (
            "The share of completed end-point assessments passed (distinction, merit or pass) at the first attempt, "
            "as Ofqual counts it."
        ),
        "count_noun": "first-attempt EPAs passed",
        "national_name": "national first-attempt EPA pass rate",
    },
    PASS_RATE: {
        "label": "Pass rate",
        "definition": (
            "Achievers divided by completers (leavers who completed learning, whatever their end-point assessment "
            "grade), as in the DfE national achievement rate tables."
        ),
        "count_noun": "completers achieved",
        "national_name": "national pass rate",
    },
}
# The three headline measures (exports, board report and API iterate these; kept stable).
MEASURE_ORDER = (DISTINCTION_MERIT_SHARE, ACHIEVEMENT_RATE, FIRST_ATTEMPT_PASS_RATE)
# Every measure a snapshot holds, with the DfE pass rate (achievers ÷ completers) that the
# standards benchmarks compare; the dashboard pages show these. Old snapshots without
# ``pass_rate`` show "No results yet" for it until the next recompute.
ALL_MEASURES = (DISTINCTION_MERIT_SHARE, ACHIEVEMENT_RATE, PASS_RATE, FIRST_ATTEMPT_PASS_RATE)

NO_DM_BENCHMARK = (
    "No national distinction and merit figure is published in the sources we hold, so this share is not compared "
    "with a national figure. National achievement rates measure something different and are not compared with it."
)


def small_threshold() -> int:
    """Return the denominator below which a rate is too few to compare (settings ``ACADEMY_SMALL_COHORT``)."""
    return int(getattr(settings, "ACADEMY_SMALL_COHORT", 5))


def too_few_text() -> str:
    """Return "Too few to compare (fewer than 5)"."""
    return f"Too few to compare (fewer than {small_threshold()})"


def _float(value: Any) -> float | None:
    """Return ``value`` as a float (JSON may hold numbers or decimal strings), or ``None``."""
    if value is None or value == "":
        return None
    return float(value)


def format_p_value(p_value: float | None) -> str:
    """Return "p < 0.001" or "p = 0.023"; ``None`` → ""."""
    if p_value is None:
        return ""
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.3f}"


def format_computed_at(moment) -> str:
    """Return an aware datetime in Europe/London as "29 November 2026 at 10:15"; ``None`` → ""."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


@dataclass(frozen=True)
class RateView:
    """One measure of one snapshot, ready to show.

    ``status`` is "none" (denominator 0), "small" (fewer than 5) or "ok". Rates are
    fractions 0–1; ``difference_pp`` is in percentage points (cohort minus national).
    ``benchmark`` is the snapshot's benchmark dict for this same measure, or ``None``.
    """

    measure: str
    numerator: int
    denominator: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    year: str | None
    benchmark: dict | None
    p_value: float | None
    significant: bool | None
    small: bool

    @property
    def label(self) -> str:
        return MEASURES[self.measure]["label"]

    @property
    def definition(self) -> str:
        return MEASURES[self.measure]["definition"]

    @property
    def status(self) -> str:
        if not self.denominator or self.rate is None:
            return "none"
        if self.small:
            return "small"
        return "ok"

    @property
    def has_results(self) -> bool:
        return self.status != "none"

    @property
    def rate_text(self) -> str:
        return NO_RESULTS if self.status == "none" else format_percent(self.rate)

    @property
    def count_text(self) -> str:
        """Return e.g. "46 of 50 completed first-attempt EPAs"."""
        return f"{self.numerator} of {self.denominator} {MEASURES[self.measure]['count_noun']}"

    @property
    def fraction_text(self) -> str:
        """Return "46 of 50" for tables, or "No results yet"."""
        return NO_RESULTS if self.status == "none" else f"{self.numerator} of {self.denominator}"

    @property
    def ci_text(self) -> str:
        """Return "83.4% to 96.8%", or "" without an interval."""
        if self.ci_low is None or self.ci_high is None or self.status == "none":
            return ""
        return f"{format_percent(self.ci_low)} to {format_percent(self.ci_high)}"

    @property
    def benchmark_rate(self) -> float | None:
        return _float(self.benchmark.get("rate")) if self.benchmark else None

    @property
    def benchmark_rate_text(self) -> str:
        return format_percent(self.benchmark_rate)

    @property
    def benchmark_year_text(self) -> str:
        """Return "2023/24" or "2023/24, March 2023 to February 2024" where a period is given."""
        if not self.benchmark:
            return ""
        year = self.benchmark.get("academic_year") or ""
        period = self.benchmark.get("period") or ""
        return f"{year}, {period}" if period and period != year else year

    @property
    def difference_pp(self) -> float | None:
        if self.status == "none" or self.benchmark_rate is None or self.rate is None:
            return None
        return (self.rate - self.benchmark_rate) * 100

    @property
    def difference_text(self) -> str:
        """Return "31.5 percentage points above the national rate", "0.0 percentage points…" or ""."""
        diff = self.difference_pp
        if diff is None:
            return ""
        rounded = round(diff, 1)
        if rounded == 0:
            return "the same as the national rate (to 0.1 percentage points)"
        direction = "above" if rounded > 0 else "below"
        return f"{abs(rounded):.1f} percentage points {direction} the national rate"

    @property
    def significance_text(self) -> str:
        """Return whether the difference is statistically significant, with the test and p-value."""
        if self.status == "none" or self.benchmark_rate is None:
            return ""
        if self.status == "small":
            return too_few_text()
        if self.significant is None or self.p_value is None:
            return "Significance not computed"
        word = "statistically significant" if self.significant else "not statistically significant"
        return f"{word.capitalize()} (exact binomial test, {format_p_value(self.p_value)})"


def rate_view(measure: str, data: dict | None) -> RateView:
    """Return a ``RateView`` for ``measure`` from one snapshot's ``rates[measure]`` dict (may be missing)."""
    data = data or {}
    denominator = int(data.get("denominator") or 0)
    small = data.get("small")
    if small is None:
        small = 0 < denominator < small_threshold()
    return RateView(
        measure=measure,
        numerator=int(data.get("numerator") or 0),
        denominator=denominator,
        rate=_float(data.get("rate")),
        ci_low=_float(data.get("ci_low")),
        ci_high=_float(data.get("ci_high")),
        year=data.get("year"),
        benchmark=data.get("benchmark") or None,
        p_value=_float(data.get("p_value")),
        significant=data.get("significant"),
        small=bool(small),
    )


def _per_learner(total, learners: int) -> float | None:
    if not learners:
        return None
    return float(total) / learners


def snapshot_row(snapshot) -> dict:
    """Return one display row for a ``CohortMetrics`` snapshot.

    Keys: ``label`` (cohort name or "All cohorts"), ``cohort``, ``standard`` (reference or ""),
    ``standard_title``, ``level`` (int or None), the counts, ``rates`` (measure → ``RateView``),
    ``sessions_per_learner`` and ``hours_per_learner`` (floats or None; per enrolled learner),
    ``otj_logged`` / ``otj_planned`` (floats, hours) and ``otj_share`` (fraction or None).
    The cohort's standard must be loaded with ``select_related("cohort__standard")``.
    """
    cohort = snapshot.cohort
    standard = cohort.standard if cohort is not None else None
    rates = snapshot.rates or {}
    otj_planned = float(snapshot.otj_hours_planned or 0)
    otj_logged = float(snapshot.otj_hours_logged or 0)
    return {
        "key": snapshot.key,
        "label": cohort.name if cohort is not None else ALL_COHORTS,
        "cohort": cohort,
        "standard": standard.reference if standard else "",
        "standard_title": standard.title if standard else "",
        "level": standard.level if standard else None,
        "enrolled": snapshot.enrolled,
        "active": snapshot.active,
        "on_break": snapshot.on_break,
        "at_gateway_or_epa": snapshot.at_gateway_or_epa,
        "withdrawn": snapshot.withdrawn,
        "completed": snapshot.completed,
        "leavers": snapshot.leavers,
        "achievers": snapshot.achievers,
        "epa_completed": snapshot.epa_completed,
        "distinction": snapshot.distinction,
        "merit": snapshot.merit,
        "passed": snapshot.passed,
        "failed": snapshot.failed,
        "coaching_sessions": snapshot.coaching_sessions,
        "coaching_hours": float(snapshot.coaching_hours or 0),
        "sessions_per_learner": _per_learner(snapshot.coaching_sessions, snapshot.enrolled),
        "hours_per_learner": _per_learner(snapshot.coaching_hours or 0, snapshot.enrolled),
        "otj_logged": otj_logged,
        "otj_planned": otj_planned,
        "otj_share": otj_logged / otj_planned if otj_planned else None,
        "rates": {measure: rate_view(measure, rates.get(measure)) for measure in ALL_MEASURES},
        "computed_at": snapshot.computed_at,
    }


def dashboard_summary(snapshots: Iterable) -> dict:
    """Split snapshots into the all-cohorts row and the cohort rows.

    Returns ``{"overall": row | None, "cohorts": [row, ...], "last_computed": datetime | None,
    "last_computed_text": str}``; cohort rows keep the order given.
    """
    overall = None
    cohorts = []
    last = None
    for snapshot in snapshots:
        row = snapshot_row(snapshot)
        if snapshot.cohort_id is None:
            overall = row
        else:
            cohorts.append(row)
        if last is None or snapshot.computed_at > last:
            last = snapshot.computed_at
    return {"overall": overall, "cohorts": cohorts, "last_computed": last, "last_computed_text": format_computed_at(last)}


# Charts' text alternatives ------------------------------------------------------------

CHART_IDS = {
    DISTINCTION_MERIT_SHARE: "chart-distinction-merit",
    ACHIEVEMENT_RATE: "chart-achievement",
    FIRST_ATTEMPT_PASS_RATE: "chart-first-attempt",
    PASS_RATE: "chart-pass-rate",
}


def benchmark_key(rate: RateView) -> tuple:
    """Return what makes two benchmarks the same figure (id, rate, year, source)."""
    bench = rate.benchmark or {}
    return (bench.get("id"), rate.benchmark_rate, bench.get("academic_year"), bench.get("source"))


def national_reference(rates: list[RateView]) -> tuple[str, RateView | None]:
    """Return how the national figure is drawn for these cohort rates (those with results).

    ``("single", rate)`` when every cohort with results has the same benchmark (a horizontal
    line; ``rate`` carries it), ``("mixed", None)`` when cohorts have different benchmarks
    or some have none (one mark per benchmarked cohort), ``("none", None)`` when no cohort
    has a benchmark.
    """
    with_results = [rate for rate in rates if rate.has_results]
    benchmarked = [rate for rate in with_results if rate.benchmark_rate is not None]
    if not benchmarked:
        return "none", None
    # One line across the chart only where it is every cohort's figure: a level 3 figure
    # is never drawn across level 4 cohorts that have none.
    if len(benchmarked) == len(with_results) and len({benchmark_key(rate) for rate in benchmarked}) == 1:
        return "single", benchmarked[0]
    return "mixed", None


def benchmark_label(rate: RateView) -> str:
    """Return e.g. "National 60.5% (2023/24, DfE apprenticeship national achievement rate tables)"."""
    source = (rate.benchmark or {}).get("source", "")
    return f"National {rate.benchmark_rate_text} ({rate.benchmark_year_text}, {source})"


def rate_chart_sections(cohort_rows: list[dict], measures: tuple[str, ...] = MEASURE_ORDER) -> list[dict]:
    """Return, per measure (``MEASURE_ORDER`` by default), the caption and table rows describing its rate chart.

    Each dict: ``id`` (the chart's element id), ``measure``, ``label``, ``caption`` and
    ``rows`` (``{"label": cohort name, "rate": RateView}`` for every cohort).
    """
    sections = []
    for measure in measures:
        meta = MEASURES[measure]
        rows = [{"label": row["label"], "rate": row["rates"][measure]} for row in cohort_rows]
        how, reference = national_reference([row["rate"] for row in rows])
        caption = (
            f"Each dot is a cohort's {meta['label'].lower()}; the bar through it is its 95% confidence interval. "
            "Cohorts with no results yet are left out; an open marker is a cohort with too few results to compare "
            f"(fewer than {small_threshold()})."
        )
        if how == "single":
            caption += f" The dashed line is the {meta['national_name']}: {benchmark_label(reference)}."
        elif how == "mixed":
            caption += (
                f" A short black dash on a cohort marks the {meta['national_name']} for its standard or level; "
                "cohorts without a dash have no national figure of this measure loaded."
            )
        elif measure == DISTINCTION_MERIT_SHARE:
            caption += " No national distinction and merit figure is published in our sources, so no line is drawn."
        else:
            caption += f" No {meta['national_name']} is loaded, so no line is drawn."
        sections.append(
            {"id": CHART_IDS[measure], "measure": measure, "label": meta["label"], "caption": caption, "rows": rows,
             "cohorts_benchmarked": how != "none"}
        )
    return sections


# Dashboard pages, scope of the national figure, group rows ------------------------------

# (URL name, tab label) of the dashboard's pages, in tab order.
DASHBOARD_PAGES = (
    ("outcomes:dashboard", "Overview"),
    ("outcomes:dashboard_standards", "Standards and levels"),
    ("outcomes:dashboard_trends", "Trends"),
    ("outcomes:dashboard_teams", "Teams"),
    ("outcomes:dashboard_coaching", "Coaching"),
)


def dashboard_tabs(current: str, querystring: str) -> list[dict]:
    """Return the dashboard's page links with the filters carried: ``{"label", "url", "current"}``."""
    suffix = f"?{querystring}" if querystring else ""
    return [
        {"label": label, "url": reverse(name) + suffix, "current": name == current} for name, label in DASHBOARD_PAGES
    ]


def benchmark_scope_text(rate: RateView) -> str:
    """Return which national figure was used and why: the fallback order is standard, then level, then all.

    E.g. "For the standard", "For level 4 (none published for the standard for 2023/24)",
    "For all standards (none published for the standard or its level for 2023/24)"; "" without
    one. The year is the benchmark's: matching takes the year first, then the scope
    (``outcomes.benchmarking.match_benchmark``).
    """
    bench = rate.benchmark or {}
    scope = bench.get("scope")
    if not bench or rate.benchmark_rate is None:
        return ""
    if scope == "standard":
        return "For the standard"
    if scope == "level":
        return f"For {bench.get('scope_label', 'the level')} (none published for the standard for {bench.get('academic_year')})"
    return f"For all standards (none published for the standard or its level for {bench.get('academic_year')})"


def verdict_text(rate: RateView) -> str:
    """Return the one-line comparison with the national figure, or why there is none."""
    if rate.status == "none":
        return NO_RESULTS
    if not rate.benchmark or rate.benchmark_rate is None:
        if rate.measure == DISTINCTION_MERIT_SHARE:
            return "No national figure published"
        return "No national figure loaded"
    if rate.status == "small":
        return too_few_text()
    return f"{rate.difference_text.capitalize()}; {rate.significance_text[0].lower()}{rate.significance_text[1:]}"


def group_row(label: str, snapshot, *, key: str = "") -> dict:
    """Return a ``snapshot_row`` for an unsaved snapshot of a group (team, coach, standard) labelled ``label``."""
    row = snapshot_row(snapshot)
    row["label"] = label
    row["key"] = key or label
    return row
