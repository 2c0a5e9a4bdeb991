"""``python manage.py recompute_metrics [--cohort ID]``: rebuild the metrics snapshots now."""
from django.core.management.base import BaseCommand

from outcomes.metrics import recompute_metrics


class Command(BaseCommand):
    help = (
        "Recompute the cohort metrics snapshots synchronously (not through the broker) and print one "
        "line per snapshot. With --cohort, only that cohort and the all-cohorts row."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cohort", type=int, metavar="ID", help="Recompute only this cohort (and all cohorts).")

    def handle(self, *args, cohort=None, **options):
        rows = recompute_metrics(cohort_id=cohort)
        for row in rows:
            share = row.rates.get("distinction_merit_share", {})
            name = row.cohort.name if row.cohort_id else "All cohorts"
            self.stdout.write(
                f"{row.key} {name}: enrolled {row.enrolled}, "
                f"distinction/merit {share.get('numerator', 0)}/{share.get('denominator', 0)}"
            )
        self.stdout.write(self.style.SUCCESS(f"{len(rows)} snapshot(s) written."))
