"""manage.py apply_retention [--dry-run] [--years N] [--today DD/MM/YYYY]: anonymise old learner records."""
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from academy.dates import uk_date
from privacy.services import apply_retention, retention_cutoff


class Command(BaseCommand):
    help = (
        "Anonymise learners whose last enrolment ended at least N years ago "
        "(default: the ACADEMY_RETENTION_YEARS setting). --dry-run lists them and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List who would be anonymised; change nothing.")
        parser.add_argument("--years", type=int, default=None, help="Years after the last enrolment ended.")
        parser.add_argument("--today", default=None, help="Count from this date (DD/MM/YYYY) instead of today.")

    def handle(self, *args, dry_run=False, years=None, today=None, **options):
        years = settings.ACADEMY_RETENTION_YEARS if years is None else years
        if years < 1:
            raise CommandError("--years must be at least 1.")
        if today:
            try:
                today = dt.datetime.strptime(today, "%d/%m/%Y").date()
            except ValueError as exc:
                raise CommandError("--today must be a date like 27/03/2026.") from exc
        else:
            today = timezone.localdate()
        cutoff = retention_cutoff(years=years, today=today)
        candidates = apply_retention(years=years, today=today, dry_run=dry_run)
        verb = "Would anonymise" if dry_run else "Anonymised"
        self.stdout.write(
            f"{verb} {len(candidates)} learner(s) whose last enrolment ended on or before "
            f"{uk_date(cutoff)} ({years} years before {uk_date(today)})."
        )
        for candidate in candidates:
            self.stdout.write(f"  learner {candidate.learner_id}: last enrolment ended {uk_date(candidate.last_end_date)}")
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
