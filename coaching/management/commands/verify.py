"""``python manage.py verify``: recompute every signed document's SHA-256 and list those changed after signing.

Exit status 0 when every signed document still matches; 1 when any changed (for cron
or a funding audit). ``coaching.signing.find_altered`` does the work.
"""
from django.core.management.base import BaseCommand, CommandError

from academy.dates import uk_date
from coaching.models import TrainingPlan
from coaching.signing import find_altered


class Command(BaseCommand):
    help = "Check that no signed training plan or progress review changed after it was signed."

    def handle(self, *args, **options):
        altered, checked, skipped = find_altered()
        erased = f"; {skipped} of erased learners not checked" if skipped else ""
        if not altered:
            self.stdout.write(self.style.SUCCESS(f"{checked} signatures checked: every signed document is as it was "
                                                 f"signed{erased}."))
            return
        for item in altered:
            document = item.document
            if isinstance(document, TrainingPlan):
                what = f"Training plan version {document.number} (id {document.pk}) of enrolment {document.enrolment_id}"
            else:
                what = f"Progress review of {uk_date(document.date)} (id {document.pk}) of enrolment {document.enrolment_id}"
            signature = item.signature
            self.stdout.write(
                f"CHANGED AFTER SIGNING: {what}: signed by {signature.signer_name} "
                f"({signature.get_party_display().lower()}) on {uk_date(signature.signed_at.date())} with SHA-256 "
                f"{item.signed_sha256}; its content now hashes to {item.now_sha256}."
            )
        raise CommandError(f"{len(altered)} of {checked} signatures are on documents changed after signing{erased}.")
