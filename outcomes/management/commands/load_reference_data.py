"""Load the apprenticeship standards and national benchmarks shipped in ``academy/data/``.

Usage: ``python manage.py load_reference_data [--data-dir DIR]``. Safe to run again:
unchanged rows are not saved, and benchmarks entered by hand are never touched.
Provenance of every file: ``academy/data/SOURCES.md``.
"""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from academy.changes import records_changed
from cohorts.reference import LoadReport, ReferenceDataError, load_standards
from outcomes.reference import load_benchmarks

IFA_FILE = "ifa_apprenticeship_standards_2018-05-08.csv"
SUPPLEMENTARY_FILE = "standards_supplementary.csv"
NARTS_FILE = "national_achievement_rates_transcribed.csv"
OFQUAL_FILE = "ofqual_epa_statistics_headlines_transcribed.csv"


class Command(BaseCommand):
    help = "Load apprenticeship standards (IfA list) and national benchmarks (DfE NARTs, Ofqual) from CSV files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="Folder holding the reference CSV files (default: academy/data in the project).",
        )

    def handle(self, *args, data_dir=None, verbosity=1, **options):
        data_dir = Path(data_dir) if data_dir else Path(settings.BASE_DIR) / "academy" / "data"
        try:
            # One transaction: a failure in the benchmarks also undoes the standards.
            with transaction.atomic():
                reports = [
                    load_standards(path_ifa=data_dir / IFA_FILE, path_supplementary=data_dir / SUPPLEMENTARY_FILE),
                    load_benchmarks(path_narts_headlines=data_dir / NARTS_FILE, path_ofqual=data_dir / OFQUAL_FILE),
                ]
                records_changed()  # the dashboards read standards and benchmarks
        except ReferenceDataError as exc:
            raise CommandError(f"{exc}. Nothing was loaded.") from None
        for report in reports:
            self._print(report, verbosity)

    def _print(self, report: LoadReport, verbosity: int) -> None:
        self.stdout.write(self.style.SUCCESS(report.summary()))
        if verbosity >= 2:
            for skipped in report.skipped:
                self.stdout.write(f"  skipped {skipped}")
        elif verbosity == 1 and report.skipped:
            # The source files hold rows that are not data (retired versions, suppressed
            # figures); leaving them out is expected, so one line says so, not one per row.
            self.stdout.write(f"  {len(report.skipped)} source rows left out as expected (each with its reason: "
                              "run with -v 2 to list them).")
