"""Create (or replace) a user's API token and print it: ``manage.py create_api_token EMAIL``."""
from django.core.management.base import BaseCommand, CommandError

from academy.models import User
from dashboards.api.tokens import issue_token


class Command(BaseCommand):
    help = "Create or replace the API token of the user with EMAIL (an apprenticeship lead or head of data) and print it."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):

        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"No user has the email address {email}.")
        if not user.has_perm("academy.use_api"):
            raise CommandError(f"{email} may not use the API: only apprenticeship leads and heads of data may.")
        self.stdout.write(issue_token(user=user))
