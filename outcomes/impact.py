"""Business impact: recording impact records, their totals, and value for the levy.

Impact records (``outcomes.models.ImpactRecord``) are entered by apprenticeship leads.
Totals are computed by the database (one grouped query each), so pages do not grow
with the number of records.

Value for the levy compares the funding-band value of the enrolments with the money
impact recorded. Funding band: "the maximum the levy pays for a standard"; the levy is
"0.5% of an annual pay bill above £3m (a £15,000 allowance), plus a 10% government
top-up" (docs/rules.md, "Apprenticeship levy", citing IfATE funding bands and DfE
"Manage apprenticeships" help). Bands come from ``Standard.max_funding_gbp``; where it is
empty the band is unknown and those enrolments are left out, with a note, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q, Sum

from academy.changes import records_changed
from academy.models import Team
from cohorts.models import Enrolment

from .models import ALL_KEY, CohortMetrics, ImpactRecord, NationalBenchmark

Kind = ImpactRecord.Kind

LEVY_RATE = Decimal("0.005")  # 0.5% of the annual pay bill (docs/rules.md)
LEVY_ALLOWANCE_GBP = Decimal("15000")  # so only a pay bill above £3m pays (docs/rules.md)
GOVERNMENT_TOP_UP = Decimal("0.10")  # 10% added to the levy paid in (docs/rules.md)

# kind → (short unit label for tables, how totals are made)
KIND_UNITS = {
    Kind.MONEY: "£",
    Kind.HOURS_PER_YEAR: "hours a year",
    Kind.TIME_REDUCED: "%",
}
NOT_ADDED = (
    "Time reductions are percentages of different tasks, so they are not added up: "
    "the table gives how many there are and the largest."
)


def format_money(value: Decimal | int | float | None) -> str:
    """Return pounds as "£3,500,000" (whole pounds) or "£1,234.50" (with pence); ``None`` → "unknown"."""
    if value is None:
        return "unknown"
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount == amount.to_integral_value():
        return f"£{int(amount):,}"
    return f"£{amount:,.2f}"


def format_number(value: Decimal | int | float) -> str:
    """Return ``value`` with thousands separators: "1,250", or "2.5" (no trailing zeros)."""
    amount = Decimal(str(value))
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount.normalize():,f}"


def format_impact(kind: str, value: Decimal | int | float | None) -> str:
    """Return a value in its kind's unit: "£3,500,000", "260 hours a year", "50%"; ``None`` → ""."""
    if value is None:
        return ""
    if kind == Kind.MONEY:
        return format_money(value)
    if kind == Kind.HOURS_PER_YEAR:
        return f"{format_number(value)} hours a year"
    return f"{format_number(value)}%"


# --- Recording ------------------------------------------------------------------------


def record_impact(*, by, title: str, kind: str, value: Decimal, evidence: str, date, team: Team | None = None,
                  learners: Iterable = (), link: str = "") -> ImpactRecord:
    """Create and return an impact record entered by ``by`` (a lead), with its learners.

    ``value`` is in the kind's unit (£, hours a year, or % from 0 to 100); the database
    refuses a negative value or a percentage above 100 (``IntegrityError``).
    """
    with transaction.atomic():
        record = ImpactRecord.objects.create(
            title=title, kind=kind, value=value, evidence=evidence, date=date, team=team, link=link, recorded_by=by
        )
        record.learners.set(list(learners))
        records_changed()
    return record


def update_impact(*, record: ImpactRecord, by, learners: Iterable | None = None, **fields) -> ImpactRecord:
    """Change ``record``'s fields (title, kind, value, evidence, date, team, link) and learners; return it.

    The change is kept in the record's history (django-simple-history) with ``by`` as the user.
    """
    allowed = {"title", "kind", "value", "evidence", "date", "team", "link"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))} on an impact record.")
    with transaction.atomic():
        for name, value in fields.items():
            setattr(record, name, value)
        record._history_user = by
        record.save()
        if learners is not None:
            record.learners.set(list(learners))
        records_changed()
    return record


# --- Totals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KindTotal:
    """The total of one kind: ``count`` records; ``total`` (sum; ``None`` for time reduced, which is
    not added) and ``largest`` (the largest single value), in the kind's unit."""

    kind: str
    label: str
    count: int
    total: Decimal | None
    largest: Decimal | None

    @property
    def text(self) -> str:
        """Return "£3,500,000", "260 hours a year", or for time reduced "2 records, up to 50%"."""
        if not self.count:
            return "None recorded"
        if self.kind == Kind.TIME_REDUCED:
            noun = "record" if self.count == 1 else "records"
            return f"{self.count} {noun}, up to {format_impact(self.kind, self.largest)}"
        return format_impact(self.kind, self.total)


@dataclass
class TeamTotals:
    """One team's totals: ``team`` (name, or "No team") and a ``KindTotal`` per kind, in ``Kind`` order."""

    team: str
    team_id: int | None
    totals: list[KindTotal] = field(default_factory=list)


def _kind_total(kind: str, count: int, total, largest) -> KindTotal:
    return KindTotal(
        kind=kind,
        label=Kind(kind).label,
        count=count,
        total=None if kind == Kind.TIME_REDUCED or not count else Decimal(total or 0),
        largest=Decimal(largest) if largest is not None else None,
    )


def impact_totals(records=None) -> dict:
    """Return the totals of ``records`` (default: every impact record) by kind and by team.

    Returns ``{"by_kind": [KindTotal, ...] (one per kind, in ``Kind`` order),
    "by_team": [TeamTotals, ...] (teams by name, "No team" last), "count": int,
    "not_added": str}``. One grouped query (by team and kind; the totals by kind are
    added up from it), whatever the number of records.
    """
    records = ImpactRecord.objects.all() if records is None else records
    teams: dict = {}
    kinds: dict = {kind: {"n": 0, "total": Decimal(0), "largest": None} for kind in Kind.values}
    for row in records.order_by().values("team_id", "team__name", "kind").annotate(
        n=Count("id"), total=Sum("value"), largest=Max("value")
    ):
        teams.setdefault((row["team_id"], row["team__name"]), {})[row["kind"]] = row
        kind = kinds[row["kind"]]
        kind["n"] += row["n"]
        kind["total"] += row["total"] or 0
        if row["largest"] is not None and (kind["largest"] is None or row["largest"] > kind["largest"]):
            kind["largest"] = row["largest"]
    by_kind = [_kind_total(kind, kinds[kind]["n"], kinds[kind]["total"], kinds[kind]["largest"])
               for kind in Kind.values]
    by_team = []
    for (team_id, name), rows in sorted(teams.items(), key=lambda item: (item[0][1] is None, item[0][1] or "")):
        entry = TeamTotals(team=name or "No team", team_id=team_id)
        for kind in Kind.values:
            row = rows.get(kind, {})
            entry.totals.append(_kind_total(kind, row.get("n", 0), row.get("total"), row.get("largest")))
        by_team.append(entry)
    return {
        "by_kind": by_kind,
        "by_team": by_team,
        "count": sum(total.count for total in by_kind),
        "not_added": NOT_ADDED,
    }


# --- Value for the levy ---------------------------------------------------------------


@dataclass(frozen=True)
class StandardBand:
    """Enrolments on one standard and its funding band (whole pounds, ``None`` when unknown)."""

    reference: str
    title: str
    level: int
    enrolments: int
    band_gbp: int | None

    @property
    def value_gbp(self) -> int | None:
        return None if self.band_gbp is None else self.band_gbp * self.enrolments

    @property
    def label(self) -> str:
        return f"{self.title} ({self.reference})"

    @property
    def band_text(self) -> str:
        return format_money(self.band_gbp)

    @property
    def value_text(self) -> str:
        return format_money(self.value_gbp)


@dataclass
class LevyValue:
    """Value for the levy: the funding-band value of enrolments against the impact recorded.

    Money in pounds (``Decimal``). ``ratio`` is money impact ÷ funding-band value
    (``None`` when no band is known). ``hours_value_gbp`` is set only when an hourly
    cost is given. ``assumptions`` and ``notes`` are sentences to show with the figures.
    """

    standards: list[StandardBand]
    band_value_gbp: Decimal
    enrolments_counted: int
    enrolments_unknown_band: int
    money_impact_gbp: Decimal
    money_records: int
    hours_per_year: Decimal
    hours_records: int
    time_reduced_records: int
    hourly_cost_gbp: Decimal | None
    hours_value_gbp: Decimal | None
    ratio: Decimal | None
    pay_bill_gbp: Decimal | None = None
    annual_levy_gbp: Decimal | None = None
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio_text(self) -> str:
        """Return "£233 of money impact for every £1 of funding band" style text, or ""."""
        if self.ratio is None:
            return ""
        return f"{format_money(self.ratio.quantize(Decimal('0.01')))} recorded for every £1 of funding-band value"

    @property
    def left_out_text(self) -> str:
        """Say which enrolments the funding-band value leaves out and why, or "" when none are.

        E.g. "27 of 62 enrolments are left out of this total: the funding band of Data
        technician (ST0795) is not in the reference data Academy holds."
        """
        if not self.enrolments_unknown_band:
            return ""
        unknown = [band.label for band in self.standards if band.band_gbp is None and band.enrolments]
        total = self.enrolments_counted + self.enrolments_unknown_band
        names = " and ".join(unknown) if len(unknown) <= 2 else ", ".join(unknown[:-1]) + " and " + unknown[-1]
        which = "band" if len(unknown) == 1 else "bands"
        return (f"{self.enrolments_unknown_band} of {total} enrolments are left out of this total: the funding "
                f"{which} of {names} {'is' if len(unknown) == 1 else 'are'} not in the reference data Academy holds.")


def annual_levy(pay_bill_gbp: Decimal) -> Decimal:
    """Return the annual apprenticeship levy for a pay bill in pounds: 0.5% of it less the £15,000 allowance, at least 0.

    Source: docs/rules.md, "Apprenticeship levy" (DfE "Manage apprenticeships" help).
    The 10% government top-up is added to the levy account, not paid by the employer.
    """
    return max(Decimal(pay_bill_gbp) * LEVY_RATE - LEVY_ALLOWANCE_GBP, Decimal(0)).quantize(Decimal("0.01"))


def levy_value(*, hourly_cost_gbp: Decimal | None = None, pay_bill_gbp: Decimal | None = None,
               enrolments=None, records=None) -> LevyValue:
    """Return the value for the levy of ``enrolments`` (default: all) against ``records`` (default: all).

    Funding-band value = Σ over enrolments of their standard's ``max_funding_gbp``,
    assuming each enrolment draws its standard's full band (an upper bound on the levy
    spent: withdrawn learners and negotiated prices below the band draw less).
    Enrolments on a standard without a known band are counted apart and left out.
    Money impact = Σ of money records (£). Hours saved a year are shown apart and turned
    into money only when ``hourly_cost_gbp`` (pounds an hour, given by the user) is given;
    they are never added to the money impact. ``pay_bill_gbp``, when given, adds the
    annual levy (``annual_levy``) for context. Two grouped queries.
    """
    enrolments = Enrolment.objects.all() if enrolments is None else enrolments
    rows = (
        enrolments.order_by()
        .values(
            "cohort__standard__reference",
            "cohort__standard__title",
            "cohort__standard__level",
            "cohort__standard__max_funding_gbp",
        )
        .annotate(n=Count("id"))
    )
    standards = sorted(
        (
            StandardBand(
                reference=row["cohort__standard__reference"],
                title=row["cohort__standard__title"],
                level=row["cohort__standard__level"],
                enrolments=row["n"],
                band_gbp=row["cohort__standard__max_funding_gbp"],
            )
            for row in rows
        ),
        key=lambda band: band.reference,
    )
    band_value = Decimal(sum(band.value_gbp for band in standards if band.value_gbp is not None))
    counted = sum(band.enrolments for band in standards if band.band_gbp is not None)
    unknown = sum(band.enrolments for band in standards if band.band_gbp is None)
    totals = {total.kind: total for total in impact_totals(records)["by_kind"]}
    money = totals[Kind.MONEY].total or Decimal(0)
    hours = totals[Kind.HOURS_PER_YEAR].total or Decimal(0)
    hours_value = None
    if hourly_cost_gbp is not None:
        hours_value = (hours * Decimal(hourly_cost_gbp)).quantize(Decimal("0.01"))
    assumptions = [
        "Each enrolment is counted at its standard's full funding band (the most the levy pays for it). "
        "This is an upper bound: a withdrawn learner, or a price agreed below the band, draws less.",
        "Funding bands are those held for each standard in Academy's reference data "
        "(the Institute for Apprenticeships list); bands change over time and an enrolment is funded at the band "
        "in force when it started.",
        "Money impact is the sum of the impact records of the kind \"money recovered or saved\", as recorded by "
        "apprenticeship leads with their evidence; it is not audited by Academy.",
        "Hours saved a year are shown apart and are not added to the money impact"
        + (
            f"; they are valued here at {format_money(hourly_cost_gbp)} an hour, the hourly cost you gave."
            if hourly_cost_gbp is not None
            else " unless you give an hourly cost."
        ),
        "Time reductions (%) are not turned into money.",
    ]
    notes = []
    for band in standards:
        if band.band_gbp is None:
            noun = "enrolment is" if band.enrolments == 1 else "enrolments are"
            notes.append(
                f"{band.title} ({band.reference}): funding band unknown in our data, so its {band.enrolments} "
                f"{noun} left out of the funding-band value."
            )
    ratio = (money / band_value) if band_value else None
    return LevyValue(
        standards=standards,
        band_value_gbp=band_value,
        enrolments_counted=counted,
        enrolments_unknown_band=unknown,
        money_impact_gbp=money,
        money_records=totals[Kind.MONEY].count,
        hours_per_year=hours,
        hours_records=totals[Kind.HOURS_PER_YEAR].count,
        time_reduced_records=totals[Kind.TIME_REDUCED].count,
        hourly_cost_gbp=Decimal(hourly_cost_gbp) if hourly_cost_gbp is not None else None,
        hours_value_gbp=hours_value,
        ratio=ratio,
        pay_bill_gbp=Decimal(pay_bill_gbp) if pay_bill_gbp is not None else None,
        annual_levy_gbp=annual_levy(pay_bill_gbp) if pay_bill_gbp is not None else None,
        assumptions=assumptions,
        notes=notes,
    )


def default_hourly_cost() -> Decimal | None:
    """Return ``settings.ACADEMY_HOURLY_COST_GBP`` as a ``Decimal`` (pounds an hour), or ``None`` when unset."""
    value = getattr(settings, "ACADEMY_HOURLY_COST_GBP", None)
    if value in (None, ""):
        return None
    return Decimal(str(value))


# --- Tables for export ----------------------------------------------------------------


def impact_records_for_list(records=None):
    """Return impact records (default: all) with team and recorder loaded and ``learner_count``
    annotated, newest first: one query for any number of records."""
    records = ImpactRecord.objects.all() if records is None else records
    return (
        records.select_related("team", "recorded_by")
        .annotate(learner_count=Count("learners", distinct=True))
        .order_by("-date", "-id")
    )


@dataclass
class ProgrammeReach:
    """What the academy has done, for the top of the impact page: from the stored all-cohorts
    snapshot (``CohortMetrics`` key "all", written by the metrics job) and one count of teams.

    Counts are enrolments (a learner on two standards counts twice). ``achievement`` and
    ``distinction_merit`` are the snapshot's rate dicts (``numerator``, ``denominator``,
    ``rate`` as a fraction, ``benchmark`` with ``rate``, ``academic_year``, ``source``,
    ``source_url`` where a national figure of the same measure is loaded), or ``None``
    without results. Hours are decimal hours.
    """

    computed_at: object
    enrolled: int
    in_learning: int
    completed: int
    withdrawn: int
    teams_reached: int
    teams_total: int
    coaching_sessions: int
    coaching_hours: Decimal
    otj_hours_logged: Decimal
    achievement: dict | None
    distinction_merit: dict | None


def programme_reach() -> ProgrammeReach | None:
    """Return the academy's reach and results, or ``None`` before the metrics job has run (two queries)."""
    snapshot = CohortMetrics.objects.filter(key=ALL_KEY).first()
    if snapshot is None:
        return None
    teams = Team.objects.aggregate(
        total=Count("pk", distinct=True),
        reached=Count("pk", filter=Q(learners__enrolments__isnull=False), distinct=True),
    )

    def rate(measure: str) -> dict | None:
        found = (snapshot.rates or {}).get(measure)
        return found if found and found.get("denominator") else None

    return ProgrammeReach(
        computed_at=snapshot.computed_at,
        enrolled=snapshot.enrolled,
        in_learning=snapshot.active + snapshot.on_break + snapshot.at_gateway_or_epa,
        completed=snapshot.completed,
        withdrawn=snapshot.withdrawn,
        teams_reached=teams["reached"],
        teams_total=teams["total"],
        coaching_sessions=snapshot.coaching_sessions,
        coaching_hours=snapshot.coaching_hours,
        otj_hours_logged=snapshot.otj_hours_logged,
        achievement=rate(NationalBenchmark.Measure.ACHIEVEMENT_RATE),
        distinction_merit=rate(NationalBenchmark.Measure.DISTINCTION_MERIT_SHARE),
    )
