"""The outside services: PostgreSQL's database-level rules and a real Celery worker on Redis.

On the embedded default (SQLite, no broker) these tests skip with a reason; ``.ci/run``
runs them against PostgreSQL and Redis with ``CI=1``, where a missing service fails.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from cohorts.models import Enrolment
from tests import factories, services

WORKER_READY_TIMEOUT_S = 60
SNAPSHOT_TIMEOUT_S = 60


# --- The skip-or-fail rule itself ---------------------------------------------------


@pytest.mark.parametrize(
    ("ci_value", "expected"),
    [
        ("", pytest.skip.Exception),
        ("0", pytest.skip.Exception),
        ("1", pytest.fail.Exception),
        ("true", pytest.fail.Exception),
    ],
)
def test_it_skips_a_missing_service_but_fails_it_under_ci(monkeypatch, ci_value, expected):
    """Without CI a missing service skips the test; with CI set it fails it."""
    monkeypatch.setenv("CI", ci_value)
    with pytest.raises(expected) as excinfo:
        services.skip_or_fail("needs Redis: test reason")
    assert "needs Redis: test reason" in str(excinfo.value)


def test_it_skips_postgres_tests_on_the_sqlite_default_even_under_ci(monkeypatch):
    """With DATABASE_URL unset the SQLite run is deliberate, so PostgreSQL tests skip even under CI."""
    monkeypatch.setenv("CI", "1")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(pytest.skip.Exception) as excinfo:
        services.require_postgres()
    assert "DATABASE_URL is not set" in str(excinfo.value)


def test_it_fails_a_missing_broker_under_ci(monkeypatch):
    """Under CI, a test needing Redis fails when CELERY_BROKER_URL is unset."""
    monkeypatch.setenv("CI", "1")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    with pytest.raises(pytest.fail.Exception) as excinfo:
        services.require_redis()
    assert "CELERY_BROKER_URL" in str(excinfo.value)


# --- PostgreSQL: the rules the database itself enforces -----------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_runs_on_postgresql_with_the_database_rules_in_place():
    """The connection is PostgreSQL and the triggers and CHECK constraints from the migrations exist."""
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname IN (%s, %s) ORDER BY tgname",
            ["cohorts_enrolment_no_withdraw_with_result", "outcomes_result_not_on_withdrawn"],
        )
        triggers = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'cohorts_enrolment'::regclass AND contype = 'c'"
        )
        enrolment_checks = {row[0] for row in cursor.fetchall()}
    assert triggers == ["cohorts_enrolment_no_withdraw_with_result", "outcomes_result_not_on_withdrawn"]
    assert {
        "enrolment_planned_end_after_start",
        "enrolment_status_valid",
        "enrolment_withdrawn_has_reason",
        "enrolment_ended_has_actual_end_date",
    } <= enrolment_checks


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_rejects_a_result_on_a_withdrawn_enrolment_in_postgresql():
    """The PostgreSQL trigger refuses an EPA result on a withdrawn enrolment, whatever the ORM does."""
    enrolment = factories.EnrolmentFactory(
        status=Enrolment.Status.WITHDRAWN,
        withdrawal_reason=Enrolment.WithdrawalReason.PERSONAL,
        actual_end_date=dt.date(2024, 6, 1),
    )
    with pytest.raises(IntegrityError, match="no end-point assessment result on a withdrawn enrolment"):
        with transaction.atomic():
            factories.AssessmentResultFactory(enrolment=enrolment)


# --- A real Celery worker on Redis --------------------------------------------------


def _test_database_url() -> str:
    """Return a postgres:// URL for the database this test session uses (``test_<name>``)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(db['NAME'], safe='')}"


class WorkerProcess:
    """A ``celery -A academy worker`` subprocess logging to a temporary file."""

    def __init__(self, *, database_url: str, broker_url: str):
        self.log_path = Path(tempfile.mkstemp(prefix="academy-celery-worker-", suffix=".log")[1])
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "academy.settings",
                "DATABASE_URL": database_url,
                "CELERY_BROKER_URL": broker_url,
                "SECRET_KEY": os.environ.get("SECRET_KEY") or "celery-worker-test-key-not-for-production",
                "PYTHONUNBUFFERED": "1",
            }
        )
        command = [
            sys.executable, "-m", "celery", "-A", "academy", "worker",
            "--loglevel=INFO", "--pool=solo", "--concurrency=1", "-Q", "celery",
            "-n", f"pytest-{os.getpid()}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self, timeout: float) -> None:
        """Return once the worker logs "ready."; raise ``AssertionError`` if it exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.process.poll() is not None:
                code = self.process.returncode
                raise AssertionError(f"the Celery worker exited with code {code} before it was ready")
            time.sleep(0.25)
        raise AssertionError(f"the Celery worker was not ready after {timeout} s")

    def stop(self) -> None:
        """Stop the worker (warm shutdown, then kill after 20 s) and remove its log file."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log_path.unlink(missing_ok=True)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_it_recomputes_cohort_metrics_on_a_real_worker(redis_required):
    """A task queued on Redis is run by a separate worker process that writes the cohort's metrics snapshot."""
    from academy.celery import app
    from cohorts.models import AssessmentResult
    from outcomes.models import CohortMetrics
    from outcomes.tasks import recompute_metrics

    assert app.conf.task_always_eager is False, "with CELERY_BROKER_URL set, tasks must go to the broker"
    cohort = factories.CohortFactory(start_date=dt.date(2023, 9, 4))
    for grade in (AssessmentResult.Grade.DISTINCTION, AssessmentResult.Grade.MERIT):
        enrolment = factories.EnrolmentFactory(
            cohort=cohort, status=Enrolment.Status.COMPLETED, actual_end_date=dt.date(2025, 7, 31)
        )
        factories.AssessmentResultFactory(enrolment=enrolment, grade=grade, date=dt.date(2025, 7, 15))
    factories.EnrolmentFactory(cohort=cohort, status=Enrolment.Status.ACTIVE)
    # Drop whatever signals queued while building the rows: the snapshot must come from our task.
    app.control.purge()
    assert not CohortMetrics.objects.filter(cohort=cohort).exists()

    worker = WorkerProcess(database_url=_test_database_url(), broker_url=redis_required)
    try:
        worker.wait_until_ready(WORKER_READY_TIMEOUT_S)
        recompute_metrics.delay(cohort.id)
        deadline = time.monotonic() + SNAPSHOT_TIMEOUT_S
        snapshot = None
        while snapshot is None and time.monotonic() < deadline:
            snapshot = CohortMetrics.objects.filter(cohort=cohort).first()
            if snapshot is None:
                time.sleep(0.5)
        assert snapshot is not None, f"no CohortMetrics snapshot for cohort {cohort.id} after {SNAPSHOT_TIMEOUT_S} s"
        assert (snapshot.enrolled, snapshot.completed) == (3, 2)
        assert (snapshot.distinction, snapshot.merit) == (1, 1)
        assert "recompute_metrics" in worker.log()
    except BaseException:
        print(f"--- Celery worker log ({worker.log_path}) ---\n{worker.log()}\n--- end of worker log ---")
        raise
    finally:
        worker.stop()
