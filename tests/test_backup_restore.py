"""Backup and restore (docs/operations.md): ``scripts/backup.sh`` then ``scripts/restore.sh`` on the demo.

The demo academy is seeded into the PostgreSQL test database, backed up with pg_dump,
restored into a new scratch database, and the dashboard's figures are read from both by
the same ``manage.py shell`` script in a subprocess (``DATABASE_URL`` pointing at each):
every ``CohortMetrics`` snapshot and the ``/dashboard/export.csv`` a head of data
downloads. They must be equal, and the restored database must hold every row.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

SCRIPTS = Path(settings.BASE_DIR) / "scripts"
STEP_TIMEOUT_S = 120

# Run by `manage.py shell -c` against DATABASE_URL: print the dashboard's figures as JSON.
FIGURES_SCRIPT = """
import json
from django.test.utils import setup_test_environment
setup_test_environment()
from django.core import serializers
from django.test import Client
from academy.models import User
from cohorts.models import AssessmentResult, Cohort, Enrolment
from coaching.models import CoachingSession
from learners.models import Learner
from outcomes.models import CohortMetrics
client = Client()
client.force_login(User.objects.get(email="head@example.org"))
response = client.get("/dashboard/export.csv")
print("FIGURES=" + json.dumps({
    "status": response.status_code,
    "export_csv": response.content.decode(),
    "metrics": json.loads(serializers.serialize("json", CohortMetrics.objects.order_by("key"))),
    "rows": {m.__name__: m.objects.count() for m in (Cohort, Enrolment, Learner, CoachingSession, AssessmentResult)},
}))
"""


def _url(name: str) -> str:
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{credentials}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{quote(name, safe='')}"


def _run(command: list[str], *, database_url: str) -> str:
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="academy.settings_test")
    env.pop("CELERY_BROKER_URL", None)  # tasks in-process: no message leaves this test
    done = subprocess.run(
        command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT_S
    )
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _figures(database_url: str) -> dict:
    out = _run([sys.executable, "manage.py", "shell", "-c", FIGURES_SCRIPT], database_url=database_url)
    line = next(line for line in out.splitlines() if line.startswith("FIGURES="))
    return json.loads(line.removeprefix("FIGURES="))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_of_the_demo_restores_to_the_same_dashboard(tmp_path):
    """pg_dump of the seeded demo, pg_restore into a new database: same snapshots, same CSV export, same rows."""
    call_command("load_reference_data", verbosity=0)
    call_command("seed_demo", password="backup-test-password", verbosity=0)
    call_command("recompute_metrics", verbosity=0)
    source_url = _url(connection.settings_dict["NAME"])
    restored = f"{connection.settings_dict['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{restored}"')
    try:
        dump = tmp_path / "academy.dump"
        out = _run([str(SCRIPTS / "backup.sh"), str(dump)], database_url=source_url)
        assert f"Backed up to {dump}" in out and dump.stat().st_size > 0

        out = _run([str(SCRIPTS / "restore.sh"), str(dump)], database_url=_url(restored))
        assert "Restored" in out
        # A second restore into the now full database is refused, leaving it as it was.
        env = dict(os.environ, DATABASE_URL=_url(restored))
        again = subprocess.run([str(SCRIPTS / "restore.sh"), str(dump)], env=env, capture_output=True, text=True,
                               timeout=STEP_TIMEOUT_S)
        assert again.returncode == 1 and "not empty" in again.stderr

        original = _figures(source_url)
        copy = _figures(_url(restored))
        assert original["status"] == 200
        assert original["rows"]["Enrolment"] > 0 and original["rows"]["CoachingSession"] > 0
        assert len(original["metrics"]) > 1 and original["export_csv"].count("\n") > 1
        assert copy["rows"] == original["rows"]
        assert copy["metrics"] == original["metrics"]
        assert copy["export_csv"] == original["export_csv"]
        # The restored database is complete: nothing is left to migrate.
        _run([sys.executable, "manage.py", "migrate", "--check"], database_url=_url(restored))
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
