"""Measure the staff import on a generated file against a plain bulk insert of the same rows.

    python manage.py benchmark_import --rows 10000

Generates a realistic staff list (employee numbers with leading zeros, valid ULNs on
most rows, UK dates, an enrolment on one cohort per row), then in ONE rolled-back
transaction (nothing is left behind):

1. runs it through the real web path: ``runs.run_check`` (the preview, stored on an
   ``ImportRun``) then ``runs.run_apply`` (which checks again and writes in one
   transaction);
2. rolls that back to a savepoint and inserts the same learners and enrolments with
   ``bulk_create`` (no validation, no history) as the floor to compare with.

Prints ``name value unit`` lines and ``ratio import_vs_bulk VALUE`` (import time ÷ bulk
insert time; higher is slower). A measurement, not a test: numbers vary by machine.
"""
import csv
import datetime as dt
import io
import time
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from academy.models import Team
from cohorts.imports import plans, runs
from cohorts.models import Cohort, Enrolment, ImportRun, Standard
from learners.models import Learner

FIRST = ["Priya", "Tom", "Aisha", "Grace", "Omar", "Lena", "Siân", "José", "Chloe", "Kwame", "Ewan", "Fatima"]
LAST = ["Sharma", "Baker", "Khan", "Hopper", "Reid", "Ford", "O’Connor", "Núñez", "Evans", "Mensah", "Price"]


def _uln(n: int) -> str:
    """Return a ULN passing the check digit (ILR rule DD01) for ``n``, or "" when none fits."""
    digits = f"{200000000 + n:09d}"
    remainder = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1))) % 11
    return "" if remainder in (0, 1) else digits + str(10 - remainder)


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmark the staff import (rows per second) against a bulk insert of the same rows."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10000)

    def handle(self, *args, **options):
        rows = options["rows"]
        try:
            with transaction.atomic():
                results = self._measure(rows)
                raise _Rollback
        except _Rollback:
            pass
        for name, value, unit in results:
            self.stdout.write(f"{name} {value} {unit}".rstrip())

    def _measure(self, rows: int):
        team = Team.objects.create(name="Benchmark team (rolled back)")
        standard = Standard.objects.filter(reference="ST0118").first() or Standard.objects.create(
            reference="ST0118", title="Data analyst", level=4)
        cohort = Cohort.objects.create(name="Benchmark cohort (rolled back)", standard=standard,
                                       provider="Benchmark provider", start_date=dt.date(2024, 1, 8))
        content = self._csv(rows, team.name, cohort.name)

        savepoint = transaction.savepoint()
        started = time.perf_counter()
        run = ImportRun.objects.create(kind=ImportRun.Kind.SPREADSHEET, filename="benchmark.csv", content=content,
                                       size_bytes=len(content))
        runs.run_check(run.pk)
        checked = time.perf_counter()
        ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.IMPORTING)
        run = runs.run_apply(run.pk)
        finished = time.perf_counter()
        assert run.status == ImportRun.Status.DONE, run.message
        created = Learner.objects.filter(team=team).count()
        assert created == rows, f"{created} learners imported, expected {rows}"
        transaction.savepoint_rollback(savepoint)

        learners = [
            Learner(employee_number=f"{i:07d}", first_name=FIRST[i % len(FIRST)], last_name=LAST[i % len(LAST)],
                    work_email=f"bench.person{i}@council.example.org", uln=_uln(i), team=team)
            for i in range(1, rows + 1)
        ]
        bulk_started = time.perf_counter()
        Learner.objects.bulk_create(learners, batch_size=plans.BATCH_SIZE)
        Enrolment.objects.bulk_create(
            [Enrolment(learner=learner, cohort=cohort, start_date=cohort.start_date,
                       planned_end_date=dt.date(2026, 1, 8), planned_otj_hours=Decimal("400"))
             for learner in learners],
            batch_size=plans.BATCH_SIZE,
        )
        bulk_seconds = time.perf_counter() - bulk_started

        import_seconds = finished - started
        return [
            ("database", connection.vendor, ""),
            ("rows", rows, "rows"),
            ("file_size", len(content), "bytes"),
            ("check_seconds", f"{checked - started:.3f}", "s"),
            ("apply_seconds", f"{finished - checked:.3f}", "s"),
            ("import_seconds", f"{import_seconds:.3f}", "s"),
            ("import_rate", f"{rows / import_seconds:.0f}", "rows/s"),
            ("bulk_insert_seconds", f"{bulk_seconds:.3f}", "s"),
            ("bulk_insert_rate", f"{rows / bulk_seconds:.0f}", "rows/s"),
            ("ratio", "import_vs_bulk", f"{import_seconds / bulk_seconds:.1f}"),
        ]

    def _csv(self, rows: int, team: str, cohort: str) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Employee No", "Forename", "Surname", "Email Address", "ULN", "Team", "Line manager",
                         "Cohort", "Start date", "Planned end date", "Planned OTJ hours", "Grade"])
        for i in range(1, rows + 1):
            writer.writerow([f"{i:07d}", FIRST[i % len(FIRST)], LAST[i % len(LAST)],
                             f"bench.person{i}@council.example.org", _uln(i), team, "Sam Jones", cohort,
                             "08/01/2024", "08/01/2026", "400", "SO1"])
        return out.getvalue().encode("utf-8-sig")
