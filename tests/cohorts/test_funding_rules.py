"""Funding rules by start date (``cohorts.funding_rules``): each figure and the rule that produced it."""
import datetime as dt
from decimal import Decimal

import pytest

from cohorts import funding_rules as fr

D = dt.date


def test_it_uses_20_percent_of_contracted_hours_for_starts_before_august_2022():
    """52 weeks less 5.6 weeks' leave = 46.4 working weeks; 20% of 37 h × 46.4 = 343.4 hours."""
    figure = fr.otj_minimum(start_date=D(2022, 7, 31), planned_end_date=D(2022, 7, 31) + dt.timedelta(weeks=52),
                            contracted_hours_per_week=Decimal(37))
    assert figure.value == Decimal("343.4")
    assert figure.rule_id == "otj-20pc-2021"
    assert "2021/22" in figure.source


def test_it_uses_6_hours_a_week_for_full_time_starts_from_august_2022():
    figure = fr.otj_minimum(start_date=D(2022, 8, 1), planned_end_date=D(2022, 8, 1) + dt.timedelta(weeks=52),
                            contracted_hours_per_week=Decimal(30))
    assert (figure.value, figure.rule_id) == (Decimal("278.4"), "otj-6h-2022")  # 6 × 46.4
    assert "2022/23" in figure.source


def test_it_uses_20_percent_for_part_time_starts_from_august_2022():
    figure = fr.otj_minimum(start_date=D(2023, 1, 9), planned_end_date=D(2023, 1, 9) + dt.timedelta(weeks=52),
                            contracted_hours_per_week=Decimal("29.5"))
    assert (figure.value, figure.rule_id) == (Decimal("273.8"), "otj-20pc-part-time-2022")  # 5.9 × 46.4


def test_it_leaves_break_days_out_of_the_working_weeks():
    figure = fr.otj_minimum(start_date=D(2023, 1, 9), planned_end_date=D(2023, 1, 9) + dt.timedelta(weeks=56),
                            contracted_hours_per_week=Decimal(37), break_days=28)
    assert figure.value == Decimal("278.4")


def test_it_says_so_when_contracted_hours_are_missing():
    figure = fr.otj_minimum(start_date=D(2024, 1, 8), planned_end_date=D(2025, 1, 8), contracted_hours_per_week=None)
    assert figure.value is None
    assert "not recorded" in figure.text


@pytest.mark.parametrize(
    ("published", "reduction", "expected"),
    [(400, 0, Decimal("400.0")), (400, 100, Decimal("300.0")), (250, 100, Decimal("187.0")), (None, 0, Decimal(187))],
)
def test_it_uses_the_standard_minimum_never_below_187_from_august_2025(published, reduction, expected):
    figure = fr.otj_minimum(start_date=D(2025, 8, 1), planned_end_date=D(2026, 8, 1), contracted_hours_per_week=None,
                            standard_minimum_hours=published, prior_learning_reduction_hours=Decimal(reduction))
    assert figure.value == expected
    assert figure.rule_id == "otj-fixed-2025"
    assert "2025/26" in figure.source


def test_the_day_before_august_2025_still_follows_the_2022_rule():
    figure = fr.otj_minimum(start_date=D(2025, 7, 31), planned_end_date=D(2026, 7, 31), contracted_hours_per_week=37,
                            standard_minimum_hours=400)
    assert figure.rule_id == "otj-6h-2022"


def test_review_interval_is_12_weeks_then_3_calendar_months():
    assert fr.review_interval(start_date=D(2025, 7, 31)).value == ("weeks", 12)
    assert fr.review_interval(start_date=D(2025, 8, 1)).value == ("months", 3)
    assert fr.review_interval(start_date=D(2021, 1, 4)).rule_id == "review-12w"
    assert "rule 92" in fr.review_interval(start_date=D(2025, 8, 1)).source


def test_review_due_dates_count_from_the_start_or_the_last_review():
    assert fr.review_due_date(start_date=D(2024, 1, 8), last_review_date=None).value == D(2024, 4, 1)  # + 84 days
    assert fr.review_due_date(start_date=D(2024, 1, 8), last_review_date=D(2024, 3, 1)).value == D(2024, 5, 24)
    assert fr.review_due_date(start_date=D(2025, 9, 15), last_review_date=None).value == D(2025, 12, 15)
    # 3 calendar months from 30 November is the last day of February.
    due = fr.review_due_date(start_date=D(2025, 9, 1), last_review_date=D(2025, 11, 30))
    assert due.value == D(2026, 2, 28)
    assert "30 November 2025" in due.text


def test_minimum_duration_is_12_months_then_8():
    assert fr.minimum_duration(start_date=D(2025, 7, 31)).value == 12
    assert fr.minimum_duration(start_date=D(2025, 8, 1)).value == 8
    assert fr.meets_minimum_duration(start_date=D(2025, 8, 1), planned_end_date=D(2026, 4, 1)) is True
    assert fr.meets_minimum_duration(start_date=D(2025, 7, 1), planned_end_date=D(2026, 6, 30)) is False


def test_an_enrolment_plan_is_checked_against_its_start_years_rules():
    errors = fr.check_enrolment_plan(start_date=D(2024, 1, 8), planned_end_date=D(2024, 12, 31),
                                     planned_otj_hours=Decimal(100), contracted_hours_per_week=Decimal(37))
    assert set(errors) == {"planned_end_date", "planned_otj_hours"}
    assert "at least 12 months" in errors["planned_end_date"]
    assert "6 hours a week" in errors["planned_otj_hours"]
    assert fr.check_enrolment_plan(start_date=D(2025, 9, 1), planned_end_date=D(2026, 5, 1),
                                   planned_otj_hours=Decimal(187), contracted_hours_per_week=None) == {}
