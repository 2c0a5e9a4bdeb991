"""Import a staff spreadsheet (CSV/XLSX) or an ILR XML file from the command line.

The same check and import as the Import page (``cohorts.imports.pipeline``), for a
scheduled HR feed::

    python manage.py import_enrolments staff.csv --dry-run
    python manage.py import_enrolments ilr.xml --team "Revenues and Benefits"

Prints the summary and every error with its row; exits 1 when any row has an error
(writing nothing), and writes nothing with ``--dry-run``.
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from academy.models import Team, User
from cohorts.imports import pipeline, plans, runs
from cohorts.imports.reading import ImportFileError


class Command(BaseCommand):
    help = "Check and import staff and enrolments from a CSV/XLSX staff list or an ILR XML file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the CSV, XLSX or ILR XML file.")
        parser.add_argument("--dry-run", action="store_true", help="Check and print the preview; write nothing.")
        parser.add_argument("--team", help="Team name for learners an ILR file adds (ILR files carry no team).")
        parser.add_argument("--user", help="Email of the user recorded as making the import (default: none).")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        message = runs.size_message(len(content))
        if message:
            raise CommandError(message)
        extra = {}
        if options["team"]:
            team = Team.objects.filter(name__iexact=options["team"].strip()).first()
            if team is None:
                raise CommandError(f"There is no team called “{options['team']}”.")
            extra["team_id"] = team.pk
        user = None
        if options["user"]:
            user = User.objects.filter(email__iexact=options["user"].strip()).first()
            if user is None:
                raise CommandError(f"There is no user with the email {options['user']}.")
        try:
            plan = pipeline.build_plan(content=content, options=extra)
        except ImportFileError as error:
            raise CommandError(f"{path.name}: {error}") from None

        counts = plan.counts()
        plural = "s" if counts["total"] != 1 else ""
        self.stdout.write(f"{path.name}: checked {counts['total']:,} row{plural}: {pipeline.summary_line(counts)}.")
        for note in plan.notes:
            self.stdout.write(note)
        for row in plan.rows:
            if row.action == plans.NOT_IMPORTED:
                for note in row.notes:
                    self.stdout.write(f"{row.label}: not imported: {note}")
        lines = [line for row in plan.rows for line in row.error_lines()]
        for line in lines:
            self.stderr.write(line)
        if lines:
            raise CommandError(f"{counts['error']:,} row{'s' if counts['error'] != 1 else ''} with errors: "
                               "nothing was imported.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was imported.")
            return
        counts = pipeline.apply_plan(plan=plan, user=user, filename=path.name)
        self.stdout.write(self.style.SUCCESS(f"Imported: {pipeline.summary_line(counts)}."))
