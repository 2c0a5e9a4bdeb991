"""Validators for the identifiers of English apprenticeships.

Sources: ESFA ILR 2018/19 validation rule ULN_04 and derived-data rule DD01
(SkillsFundingAgency/DC-ILR-1819-ValidationService, ``DerivedData_01Rule``); the
Institute for Apprenticeships standards list for ``STxxxx`` references.
"""
import re

from django.core.exceptions import ValidationError

TEMPORARY_ULN = "9999999999"
_ULN_RE = re.compile(r"^[1-9][0-9]{9}$")
_STANDARD_RE = re.compile(r"^ST[0-9]{4}$")
_UKPRN_RE = re.compile(r"^1[0-9]{7}$")


def uln_check_digit_ok(uln: str) -> bool:
    """Return True when ``uln`` (a 10-character string) passes the ULN check digit.

    Rule DD01: weight digits 1–9 by 10, 9, …, 2 and take the sum modulo 11 = r.
    r = 0 is invalid; otherwise digit 10 must equal 10 − r. The temporary ULN
    ``9999999999`` is accepted (ILR rule ULN_04 allows it).
    """
    if uln == TEMPORARY_ULN:
        return True
    if not _ULN_RE.match(uln):
        return False
    remainder = sum(int(d) * w for d, w in zip(uln[:9], range(10, 1, -1))) % 11
    if remainder == 0:
        return False
    return int(uln[9]) == 10 - remainder


def validate_uln(value: str) -> None:
    """Raise ``ValidationError`` unless ``value`` is a valid 10-digit ULN (see ``uln_check_digit_ok``)."""
    value = str(value)
    if not re.fullmatch(r"[0-9]{10}", value):
        raise ValidationError("Enter a ULN of exactly 10 digits, like 1234567890.", code="uln_format")
    if value[0] == "0":
        raise ValidationError("A ULN cannot start with 0.", code="uln_leading_zero")
    if not uln_check_digit_ok(value):
        raise ValidationError(
            "This ULN fails the check digit: check it against the learner's record.", code="uln_check_digit"
        )


def validate_standard_reference(value: str) -> None:
    """Raise ``ValidationError`` unless ``value`` looks like ``ST`` + four digits (e.g. ST0118)."""
    if not _STANDARD_RE.match(value or ""):
        raise ValidationError("Enter a standard reference like ST0118.", code="standard_reference")


def validate_ukprn(value: str) -> None:
    """Raise ``ValidationError`` unless ``value`` is an 8-digit UKPRN starting with 1."""
    if not _UKPRN_RE.match(value or ""):
        raise ValidationError("Enter the provider's 8-digit UKPRN, starting with 1.", code="ukprn")
