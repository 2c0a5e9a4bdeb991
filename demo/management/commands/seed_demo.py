"""``manage.py seed_demo [--password P] [--keep-existing]``: replace the demo academy (see ``demo.seed``)."""
import os

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from academy.dates import uk_date
from cohorts.models import Standard
from demo.seed import (
    DEMO_TODAY,
    REQUIRED_STANDARDS,
    DemoError,
    add_missing_portal_people,
    demo_logins,
    demo_present,
    seed_demo,
)

DEFAULT_PASSWORD = "academy-demo-2026"


def _reference_command_available() -> bool:
    return "load_reference_data" in get_commands()


class Command(BaseCommand):
    help = (
        "Replace the deterministic demo academy: 62 learners in 27 teams on six data cohorts, "
        "coaching history and EPA results (92% distinction/merit). Non-demo rows are never changed. "
        f"The password defaults to $DEMO_PASSWORD, else {DEFAULT_PASSWORD!r}."
    )

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for the seven demo users.")
        parser.add_argument(
            "--keep-existing", action="store_true",
            help="If a demo academy is already there, keep it and everything added since (make run); "
            "without this the demo is rebuilt (make reset-demo).",
        )

    def handle(self, *args, password=None, keep_existing=False, **options):
        password = password or os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        if keep_existing and demo_present():
            added = add_missing_portal_people(password=password)
            self.stdout.write("\n".join([
                *([f"Added the demo's apprentice and line manager sign-ins ({', '.join(added)})."] if added else []),
                "The demo academy is already here: kept, with everything added since "
                "(make reset-demo rebuilds it).",
                "",
                "Sign in with the demo password (set when it was built; "
                f"{DEFAULT_PASSWORD!r} unless DEMO_PASSWORD was set) as:",
                *(f"  {email:<20} {role} ({name})" for email, role, name in demo_logins()),
            ]))
            return
        if Standard.objects.filter(reference__in=REQUIRED_STANDARDS).count() < len(REQUIRED_STANDARDS):
            if not _reference_command_available():
                raise CommandError("Run load_reference_data first")
            self.stdout.write("Standards ST0118 and ST0795 are missing: running load_reference_data.")
            call_command("load_reference_data", stdout=self.stdout, stderr=self.stderr)
        try:
            report = seed_demo(password=password)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc

        by_status = ", ".join(f"{count} {status}" for status, count in sorted(report.enrolments_by_status.items()))
        share = f"{report.first_attempt_distinction_merit}/{report.first_attempt_results}"
        lines = [
            f"Demo academy seeded (the demo's today is {uk_date(DEMO_TODAY)}).",
            f"  users: {report.users}",
            f"  teams: {report.teams}",
            f"  learners: {report.learners}",
            f"  cohorts: {report.cohorts}",
            f"  enrolments: {report.enrolments} ({by_status})",
            f"  status changes: {report.status_changes}",
            f"  coaching sessions: {report.coaching_sessions}",
            f"  EPA results: {report.assessment_results} "
            f"(first attempts {report.first_attempt_results}, distinction or merit {share})",
            "  metrics recomputed" if report.metrics_recomputed else "  metrics not recomputed (no outcomes.metrics)",
            "",
            f"Sign in with password {password!r} as:",
            *(f"  {email:<20} {role} ({name})" for email, role, name in report.logins),
        ]
        if report.learners_replaced:
            lines.insert(1, f"  replaced the previous demo ({report.learners_replaced} learners)")
        self.stdout.write("\n".join(lines))
