"""Serializers of the API: plain, read-only, reading only what the views' querysets have loaded.

Learners appear as a stable pseudonym (``pseudonym``); names, emails, employee numbers
and ULNs only in the ``...WithIdentity`` serializers, which the views use for leads.
"""
from __future__ import annotations

from django.conf import settings
from django.utils.crypto import salted_hmac
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

PSEUDONYM_SALT = "academy.api.learner-pseudonym"


def pseudonym(learner_id: int) -> str:
    """Return the learner's stable pseudonym, "L-" and 16 hex digits: an HMAC-SHA256 of the id.

    Keyed by ``settings.ACADEMY_PSEUDONYM_KEY`` (default ``SECRET_KEY``), so the same
    learner has the same pseudonym in every response and export while the key is kept,
    and the id cannot be recovered from it without the key.
    """
    secret = getattr(settings, "ACADEMY_PSEUDONYM_KEY", "") or settings.SECRET_KEY
    return "L-" + salted_hmac(PSEUDONYM_SALT, str(learner_id), secret=secret, algorithm="sha256").hexdigest()[:16]


class StandardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="For example ST0118.")
    title = serializers.CharField()
    level = serializers.IntegerField()
    max_funding_gbp = serializers.IntegerField(
        allow_null=True, help_text="The funding band in whole pounds; null when unknown."
    )


class CohortSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    standard = StandardSerializer()
    provider = serializers.CharField()
    provider_ukprn = serializers.CharField()
    start_date = serializers.DateField()
    enrolments = serializers.IntegerField(source="enrolment_count", help_text="Enrolments on the cohort (all).")


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EnrolmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    learner = serializers.SerializerMethodField(help_text="The learner's stable pseudonym, e.g. L-3f2a9c0d1b7e4a65.")
    team = serializers.SerializerMethodField()
    cohort = serializers.IntegerField(source="cohort_id")
    standard = serializers.CharField(source="cohort.standard.reference")
    level = serializers.IntegerField(source="cohort.standard.level")
    coach = serializers.SerializerMethodField()
    status = serializers.CharField()
    start_date = serializers.DateField()
    planned_end_date = serializers.DateField()
    actual_end_date = serializers.DateField(allow_null=True)
    planned_otj_hours = serializers.DecimalField(max_digits=7, decimal_places=2, coerce_to_string=False)
    withdrawal_reason = serializers.CharField(help_text="ILR WithdrawReason code, empty unless withdrawn.")

    def get_learner(self, enrolment) -> str:
        return pseudonym(enrolment.learner_id)

    @extend_schema_field(NamedRefSerializer)
    def get_team(self, enrolment) -> dict:
        team = enrolment.learner.team
        return {"id": team.pk, "name": team.name}

    @extend_schema_field(NamedRefSerializer(allow_null=True))
    def get_coach(self, enrolment) -> dict | None:
        coach = enrolment.coach
        return None if coach is None else {"id": coach.pk, "name": str(coach)}


class LearnerIdentitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    work_email = serializers.EmailField()
    employee_number = serializers.CharField()
    uln = serializers.CharField(help_text="Unique Learner Number; empty until known.")


class EnrolmentWithIdentitySerializer(EnrolmentSerializer):
    """An enrolment with the learner's identity (``learner_identity``), for leads only."""

    learner_identity = LearnerIdentitySerializer(
        source="learner", help_text="Only for tokens of apprenticeship leads; absent otherwise."
    )


class ResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    enrolment = serializers.IntegerField(source="enrolment_id")
    learner = serializers.SerializerMethodField(help_text="The learner's stable pseudonym.")
    cohort = serializers.IntegerField(source="enrolment.cohort_id")
    standard = serializers.CharField(source="enrolment.cohort.standard.reference")
    grade = serializers.CharField(help_text="distinction, merit, pass or fail.")
    date = serializers.DateField()
    attempt = serializers.IntegerField()

    def get_learner(self, result) -> str:
        return pseudonym(result.enrolment.learner_id)


class ResultWithIdentitySerializer(ResultSerializer):
    """A result with the learner's identity, for leads only."""

    learner_identity = LearnerIdentitySerializer(
        source="enrolment.learner", help_text="Only for tokens of apprenticeship leads; absent otherwise."
    )


class MetricsSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='"all" for all cohorts, or "cohort:<id>".')
    cohort = serializers.IntegerField(source="cohort_id", allow_null=True)
    cohort_name = serializers.SerializerMethodField()
    standard = serializers.SerializerMethodField()
    enrolled = serializers.IntegerField()
    active = serializers.IntegerField()
    on_break = serializers.IntegerField()
    at_gateway_or_epa = serializers.IntegerField()
    completed = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    leavers = serializers.IntegerField()
    achievers = serializers.IntegerField()
    epa_completed = serializers.IntegerField()
    distinction = serializers.IntegerField()
    merit = serializers.IntegerField()
    passed = serializers.IntegerField()
    failed = serializers.IntegerField()
    coaching_sessions = serializers.IntegerField()
    coaching_hours = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)
    otj_hours_logged = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)
    otj_hours_planned = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)
    rates = serializers.DictField(
        help_text="Per measure: numerator, denominator, rate (0–1), ci_low, ci_high (95% Wilson), and where a "
        "benchmark of the same measure is loaded: benchmark, difference, p_value, significant."
    )
    computed_at = serializers.DateTimeField()

    def get_cohort_name(self, snapshot) -> str | None:
        return snapshot.cohort.name if snapshot.cohort is not None else None

    def get_standard(self, snapshot) -> str | None:
        return snapshot.cohort.standard.reference if snapshot.cohort is not None else None
