"""ULN check digit (ESFA ILR rules ULN_04 / DD01) and other identifier validators."""
import pytest
from django.core.exceptions import ValidationError

from academy.dates import academic_year, parse_academic_year
from academy.validators import uln_check_digit_ok, validate_standard_reference, validate_uln

# 9900000705 is the ULN of ESFA's fictitious test learner in the 2018/19 sample ILR file
# (shared/data/ilr_sample_apprenticeship_1819_ILRFile.xml):
# 9*10 + 9*9 + 7*3 = 192; 192 mod 11 = 5; check digit 10 - 5 = 5.
VALID = ["9900000705", "1000000000", "1000000078", "9999999999"]
INVALID_CHECK = ["9900000704", "9900000706", "1000000001", "1234567890"]


@pytest.mark.parametrize("uln", VALID)
def test_it_accepts_valid_ulns(uln):
    assert uln_check_digit_ok(uln) is True
    validate_uln(uln)  # does not raise


@pytest.mark.parametrize("uln", INVALID_CHECK)
def test_it_rejects_a_wrong_check_digit(uln):
    assert uln_check_digit_ok(uln) is False
    with pytest.raises(ValidationError) as info:
        validate_uln(uln)
    assert info.value.code == "uln_check_digit"


def test_it_rejects_remainder_zero():
    """A first nine digits summing to 0 mod 11 have no valid check digit (DD01: r = 0 is invalid)."""
    nine = next(
        f"{n:09d}" for n in range(100000000, 100001000)
        if sum(int(d) * w for d, w in zip(f"{n:09d}", range(10, 1, -1))) % 11 == 0
    )
    for last in "0123456789":
        assert uln_check_digit_ok(nine + last) is False


@pytest.mark.parametrize(
    "value,code",
    [("990000070", "uln_format"), ("99000007055", "uln_format"), ("99000O0705", "uln_format"), ("0900000705", "uln_leading_zero")],
)
def test_it_rejects_bad_formats_with_a_reason(value, code):
    with pytest.raises(ValidationError) as info:
        validate_uln(value)
    assert info.value.code == code


def test_standard_reference():
    validate_standard_reference("ST0118")
    with pytest.raises(ValidationError):
        validate_standard_reference("ST118")


def test_academic_years():
    import datetime as dt

    assert academic_year(dt.date(2024, 7, 31)) == "2023/24"
    assert academic_year(dt.date(2024, 8, 1)) == "2024/25"
    assert parse_academic_year("2023/24") == 2023
    assert parse_academic_year("202324") == 2023
    with pytest.raises(ValueError):
        parse_academic_year("2023/25")
