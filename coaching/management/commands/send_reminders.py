"""``python manage.py send_reminders``: run the morning reminder job by hand."""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from academy.dates import uk_short_date
from coaching.reminders import send_reminders


class Command(BaseCommand):
    help = (
        "Email each coach their overdue progress reviews and learners at risk. "
        "A coach gets at most one reminder a day, however often this runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Send as of this date (29/11/2026 or 2026-11-29); default today.")

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
                try:
                    today = dt.datetime.strptime(options["date"], fmt).date()
                    break
                except ValueError:
                    continue
            else:
                raise CommandError(f"--date: '{options['date']}' is not a date like 27/03/2026.")
        run = send_reminders(today=today)
        self.stdout.write(
            f"Reminders for {uk_short_date(run.date)}: {len(run.sent)} sent, "
            f"{len(run.already_sent)} already sent today, {len(run.failed)} failed."
        )
        if run.failed:
            raise CommandError(f"{len(run.failed)} reminder(s) failed to send; see the log. Run again to retry.")
