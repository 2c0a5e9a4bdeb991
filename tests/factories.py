"""factory_boy factories for every domain model.

Each factory builds a valid row with the fewest fields; tests set what they assert on.
ULNs come from ``valid_uln(n)``, which computes the check digit (ILR rule DD01).
"""
import datetime as dt
from decimal import Decimal

import factory

from academy.models import Team, User
from coaching.models import CoachingSession, OffTheJobActivity
from cohorts.models import AssessmentResult, Cohort, Enrolment, Standard
from learners.models import Learner
from outcomes.models import NationalBenchmark


def valid_uln(n: int) -> str:
    """Return the ``n``-th valid ULN (10 digits, check digit per DD01), skipping bases whose remainder is 0."""
    base = 100000000 + n * 7
    while True:
        digits = f"{base:09d}"
        remainder = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1))) % 11
        if remainder != 0:  # r = 0 has no valid check digit
            return digits + str(10 - remainder)
        base += 1


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name", locale="en_GB")
    role = User.Role.COACH
    password = factory.django.Password("correct-horse-battery")


class LeadFactory(UserFactory):
    role = User.Role.LEAD


class CoachFactory(UserFactory):
    role = User.Role.COACH


class HeadOfDataFactory(UserFactory):
    role = User.Role.HEAD_OF_DATA


class ApprenticeFactory(UserFactory):
    role = User.Role.LEARNER


class LineManagerFactory(UserFactory):
    role = User.Role.LINE_MANAGER


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class StandardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Standard
        django_get_or_create = ("reference",)

    reference = factory.Sequence(lambda n: f"ST9{n % 1000:03d}")  # 6 characters however many tests ran
    title = factory.Sequence(lambda n: f"Test standard {n}")
    level = 4
    typical_duration_months = 24
    max_funding_gbp = 15000


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    name = factory.Sequence(lambda n: f"Cohort {n}")
    standard = factory.SubFactory(StandardFactory)
    provider = "Example Training Ltd"
    start_date = dt.date(2024, 1, 8)


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Learner

    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    work_email = factory.Sequence(lambda n: f"learner{n}@council.example.org")
    employee_number = factory.Sequence(lambda n: f"E{n:06d}")
    uln = factory.Sequence(valid_uln)
    team = factory.SubFactory(TeamFactory)


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    learner = factory.SubFactory(LearnerFactory)
    cohort = factory.SubFactory(CohortFactory)
    coach = factory.SubFactory(CoachFactory)
    start_date = factory.LazyAttribute(lambda o: o.cohort.start_date)
    planned_end_date = factory.LazyAttribute(lambda o: o.start_date + dt.timedelta(days=730))
    planned_otj_hours = Decimal("400")
    status = Enrolment.Status.ACTIVE


class CoachingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoachingSession

    enrolment = factory.SubFactory(EnrolmentFactory)
    coach = factory.LazyAttribute(lambda o: o.enrolment.coach)
    date = factory.LazyAttribute(lambda o: o.enrolment.start_date + dt.timedelta(days=14))
    duration_minutes = 60
    otj_hours = Decimal("1.00")


class OffTheJobActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OffTheJobActivity

    enrolment = factory.SubFactory(EnrolmentFactory)
    date = factory.LazyAttribute(lambda o: o.enrolment.start_date + dt.timedelta(days=7))
    category = OffTheJobActivity.Category.SELF_STUDY
    hours = Decimal("2.00")
    description = "Self-study"
    recorded_by = factory.LazyAttribute(lambda o: o.enrolment.coach)


class AssessmentResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssessmentResult

    enrolment = factory.SubFactory(EnrolmentFactory, status=Enrolment.Status.END_POINT_ASSESSMENT)
    grade = AssessmentResult.Grade.MERIT
    date = factory.LazyAttribute(lambda o: o.enrolment.planned_end_date)
    attempt = 1


class NationalBenchmarkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NationalBenchmark

    measure = NationalBenchmark.Measure.ACHIEVEMENT_RATE
    scope = NationalBenchmark.Scope.ALL
    academic_year = "2023/24"
    rate = Decimal("0.6050")
    source = "Test source"
