"""``python manage.py send_reminders``: run the morning reminder job by hand."""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from academy.dates import uk_short_date
from coaching.reminders import send_reminders, send_signature_reminders


class Command(BaseCommand):
    help = (
        "Email each coach their overdue progress reviews and learners at risk, and everyone the plans and "
        "reviews waiting more than 7 days for their signature. At most one of each a day, however often this runs."
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
        failed = 0
        for what, send in (("Reminders", send_reminders), ("Signature reminders", send_signature_reminders)):
            run = send(today=today)
            self.stdout.write(
                f"{what} for {uk_short_date(run.date)}: {len(run.sent)} sent, "
                f"{len(run.already_sent)} already sent today, {len(run.failed)} failed."
            )
            failed += len(run.failed)
        if failed:
            raise CommandError(f"{failed} reminder(s) failed to send; see the log. Run again to retry.")
