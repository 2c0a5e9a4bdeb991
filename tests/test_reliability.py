"""Reliability of the Celery jobs: killed workers, database errors and a Redis restart.

The outside-service tests run real ``celery -A academy worker`` processes (prefork pool,
one child) against the pytest-django PostgreSQL test database, and hold PostgreSQL table
locks to stop the production task ``outcomes.tasks.recompute_metrics`` half-way through:
it has read every table and computed the metrics, and waits to write the snapshots.

- A worker killed with SIGKILL mid-task: its message was never acknowledged
  (``acks_late``), so Redis hands it to the next worker once the visibility timeout has
  passed (``CELERY_BROKER_TRANSPORT_OPTIONS``; the tests use 3 s via
  ``CELERY_VISIBILITY_TIMEOUT``). The task then succeeds exactly once.
- A pool process killed mid-task: ``task_reject_on_worker_lost`` puts the message back at
  once and the same worker runs it again, once.
- A database error (a lock timeout, through ``PGOPTIONS``) makes the task retry with
  back-off until it succeeds.
- Redis restarted while tasks wait in the queue: with an append-only file
  (``appendonly yes``, ``appendfsync always``) every queued task survives and runs once.
  The Redis on port 6379 used by ``.ci/run`` keeps nothing on disk, so this test runs its
  own ``redis-server`` on a spare port in a temporary folder (docs/operations.md).

On the SQLite default the service tests skip; ``.ci/run`` runs them with ``CI=1``. Each
is bounded (well under 90 s) and stops every process it started; on failure it prints
the worker logs.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction

from cohorts.models import Enrolment
from tests import factories

WORKER_READY_TIMEOUT_S = 45
TASK_TIMEOUT_S = 45
VISIBILITY_TIMEOUT_S = 3
REDIS_TEST_PORT = int(os.environ.get("RELIABILITY_REDIS_PORT", "6390"))
METRICS_TABLE = "outcomes_cohortmetrics"
RECOMPUTE = "outcomes.tasks.recompute_metrics"


# --- Every task: acknowledged late, redelivered when its worker dies, retried on DB errors ---


def _academy_tasks():
    from academy.celery import app

    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_is_acknowledged_late_requeued_on_worker_loss_and_retried_on_database_errors():
    """Each Academy task keeps its message until it finished and retries DB outages with back-off and jitter."""
    tasks = _academy_tasks()
    assert set(tasks) >= {
        RECOMPUTE,
        "cohorts.tasks.check_import",
        "cohorts.tasks.apply_import",
        "cohorts.tasks.fail_stalled_imports",
        "coaching.tasks.send_reminders",
        "privacy.tasks.apply_retention",
    }
    for name, task in tasks.items():
        assert task.acks_late is True, name
        assert task.reject_on_worker_lost is True, name
        assert {OperationalError, InterfaceError} <= set(task.autoretry_for), name
        assert task.retry_backoff is True and task.retry_jitter is True, name
        assert 1 <= task.max_retries <= 5, name


def test_the_broker_settings_redeliver_a_dead_workers_task():
    """Settings: reject on worker loss, prefetch one, and a visibility timeout longer than any task."""
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    if "CELERY_VISIBILITY_TIMEOUT" not in os.environ:
        assert timeout == 3600
        assert timeout > settings.CELERY_TASK_TIME_LIMIT  # never redelivered while still running


@pytest.mark.django_db
def test_the_metrics_task_retries_a_database_error_then_succeeds(monkeypatch):
    """Two OperationalErrors, then success: the task runs three times and returns the rows written (in-process)."""
    from outcomes import metrics
    from outcomes.models import CohortMetrics
    from outcomes.tasks import recompute_metrics

    factories.EnrolmentFactory()
    real = metrics.recompute_metrics
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) <= 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(metrics, "recompute_metrics", flaky)
    # In-process, each retry runs at once inside the previous attempt (no countdown) and
    # the outer attempts report RETRY; the real worker test below waits for the back-off.
    from academy.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    recompute_metrics.apply(args=[None])
    assert len(calls) == 3
    assert CohortMetrics.objects.count() == 2  # the cohort's snapshot and the all-cohorts row


# --- Real workers -------------------------------------------------------------------


def _test_database_url() -> str:
    """Return a postgres:// URL for the database this test session uses (``test_<name>``)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(db['NAME'], safe='')}"


class Worker:
    """A ``celery -A academy worker`` subprocess (prefork, one child) in its own process group, logging to a file."""

    def __init__(self, *, name: str, broker_url: str, extra_env: dict | None = None):
        self.name = name
        self.log_path = Path(tempfile.mkstemp(prefix=f"academy-{name}-", suffix=".log")[1])
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "academy.settings",
                "DATABASE_URL": _test_database_url(),
                "CELERY_BROKER_URL": broker_url,
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
                "SECRET_KEY": os.environ.get("SECRET_KEY") or "celery-worker-test-key-not-for-production",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("REDIS_CACHE_URL", None)
        env.update(extra_env or {})
        command = [
            sys.executable, "-m", "celery", "-A", "academy", "worker", "--loglevel=INFO",
            "--pool=prefork", "--concurrency=1", "-Q", "celery", "-n", f"{name}-{os.getpid()}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, timeout: float) -> None:
        """Return once ``pattern`` (a regular expression) is in the log; fail if the worker exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log()):
                return
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited with code {self.process.returncode}")
            time.sleep(0.2)
        raise AssertionError(f"worker {self.name}: no {pattern!r} in its log after {timeout} s")

    def wait_until_ready(self) -> None:
        self.wait_for_log(r" ready\.", WORKER_READY_TIMEOUT_S)

    def pool_pids(self) -> list[int]:
        """Return the pids of the worker's pool processes (children of the main process)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no warm shutdown, no acknowledgement, no requeue by the worker."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the worker (warm shutdown, SIGKILL after 15 s); keep the log for ``show``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # any pool process left behind
        except ProcessLookupError:
            pass

    def show(self) -> str:
        return f"--- worker {self.name} log ({self.log_path}) ---\n{self.log()}\n--- end of {self.name} log ---"


class _Workers(list):
    """The workers a test started (``workers_cleaned_up`` stops them)."""

    def start(self, **kwargs) -> "Worker":
        """Start a ``Worker(**kwargs)``, keep it for clean-up and return it once it is ready."""
        worker = Worker(**kwargs)
        self.append(worker)
        worker.wait_until_ready()
        return worker


def _cohort_and_empty_queue():
    """Return a cohort with results, with no queued task and no metrics snapshot left from before."""
    from academy.celery import app
    from outcomes.models import CohortMetrics

    cohort = _cohort_with_results()
    app.control.purge()
    CohortMetrics.objects.all().delete()
    return cohort


@contextmanager
def workers_cleaned_up():
    """Yield a ``_Workers`` list; stop them all at the end, print their logs if the block failed, remove the logs."""
    started = _Workers()
    try:
        yield started
    except BaseException:
        for worker in started:
            print(worker.show())
        raise
    finally:
        for worker in started:
            worker.stop()
            worker.log_path.unlink(missing_ok=True)


@contextmanager
def metrics_table_locked():
    """Hold a SHARE lock on the snapshots table: readers and ``SELECT … FOR UPDATE`` pass, writers wait.

    Opens its own transaction on the test's connection and releases the lock on exit.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {METRICS_TABLE} IN SHARE MODE")  # noqa: S608 - a constant
        yield


def _writers_waiting_on_metrics() -> int:
    """Return how many other sessions wait for a lock on the snapshots table (a recompute stopped half-way)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = %s AND NOT l.granted AND l.pid <> pg_backend_pid()",
            [METRICS_TABLE],
        )
        return cursor.fetchone()[0]


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _cohort_with_results():
    """Return a cohort of 3 enrolments (2 completed with a distinction and a merit) and its expected counts."""
    from cohorts.models import AssessmentResult

    cohort = factories.CohortFactory(start_date=dt.date(2023, 9, 4))
    for grade in (AssessmentResult.Grade.DISTINCTION, AssessmentResult.Grade.MERIT):
        enrolment = factories.EnrolmentFactory(
            cohort=cohort, status=Enrolment.Status.COMPLETED, actual_end_date=dt.date(2025, 7, 31)
        )
        factories.AssessmentResultFactory(enrolment=enrolment, grade=grade, date=dt.date(2025, 7, 15))
    factories.EnrolmentFactory(cohort=cohort, status=Enrolment.Status.ACTIVE)
    return cohort


def _succeeded(log: str, task_id: str) -> int:
    return len(re.findall(rf"Task {re.escape(RECOMPUTE)}\[{re.escape(task_id)}\] succeeded", log))


def _assert_snapshot(cohort) -> None:
    from outcomes.models import CohortMetrics

    rows = list(CohortMetrics.objects.filter(key=f"cohort:{cohort.id}"))
    assert len(rows) == 1
    assert (rows[0].enrolled, rows[0].completed, rows[0].distinction, rows[0].merit) == (3, 2, 1, 1)
    assert CohortMetrics.objects.filter(key="all").count() == 1


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_is_killed_mid_way_completes_once_on_a_new_worker(redis_required):
    """kill -9 of the whole worker while the metrics task waits to write; a new worker runs it once."""
    from academy.celery import app
    from outcomes.models import CohortMetrics

    cohort = _cohort_and_empty_queue()
    with workers_cleaned_up() as workers:
        first = workers.start(name="doomed", broker_url=redis_required)
        with metrics_table_locked():
            task_id = app.send_task(RECOMPUTE, args=[cohort.id]).id
            sent_at = time.monotonic()
            first.wait_for_log(rf"Task {RECOMPUTE}\[{task_id}\] received", TASK_TIMEOUT_S)
            _wait_until(lambda: _writers_waiting_on_metrics() > 0, TASK_TIMEOUT_S, "the task to wait to write")
            first.kill()
        assert not CohortMetrics.objects.exists(), "the killed task must have written nothing"
        # Redis gives the unacknowledged message back once the visibility timeout has passed.
        time.sleep(max(0.0, VISIBILITY_TIMEOUT_S + 1 - (time.monotonic() - sent_at)))
        second = workers.start(name="successor", broker_url=redis_required)
        second.wait_for_log(rf"Task {RECOMPUTE}\[{task_id}\] succeeded", TASK_TIMEOUT_S)
        time.sleep(VISIBILITY_TIMEOUT_S + 1)  # room for a wrong second delivery to show up
        assert _succeeded(first.log(), task_id) == 0
        assert _succeeded(second.log(), task_id) == 1
        assert len(re.findall(rf"Task {RECOMPUTE}\[{task_id}\] received", second.log())) == 1
        _assert_snapshot(cohort)


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_task_whose_pool_process_is_killed_is_requeued_and_completes_once(redis_required):
    """kill -9 of the pool process running the task: reject_on_worker_lost requeues it; it succeeds once."""
    from academy.celery import app
    from outcomes.models import CohortMetrics

    cohort = _cohort_and_empty_queue()
    with workers_cleaned_up() as workers:
        worker = workers.start(name="pool-kill", broker_url=redis_required, extra_env={"CELERY_VISIBILITY_TIMEOUT": "3600"})
        with metrics_table_locked():
            task_id = app.send_task(RECOMPUTE, args=[cohort.id]).id
            worker.wait_for_log(rf"Task {RECOMPUTE}\[{task_id}\] received", TASK_TIMEOUT_S)
            _wait_until(lambda: _writers_waiting_on_metrics() > 0, TASK_TIMEOUT_S, "the task to wait to write")
            children = worker.pool_pids()
            assert len(children) == 1, children
            os.kill(children[0], signal.SIGKILL)
            worker.wait_for_log(r"WorkerLostError|Process .* exited", TASK_TIMEOUT_S)
        worker.wait_for_log(rf"Task {RECOMPUTE}\[{task_id}\] succeeded", TASK_TIMEOUT_S)
        time.sleep(2)
        log = worker.log()
        assert _succeeded(log, task_id) == 1
        assert len(re.findall(rf"Task {RECOMPUTE}\[{task_id}\] received", log)) == 2  # once, then the requeue
        _assert_snapshot(cohort)


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_database_error_is_retried_with_back_off_until_the_task_succeeds(redis_required):
    """With a 300 ms lock timeout the locked write fails (OperationalError); the task retries, then succeeds."""
    from academy.celery import app
    from outcomes.models import CohortMetrics

    cohort = _cohort_and_empty_queue()
    with workers_cleaned_up() as workers:
        worker = workers.start(name="retry", broker_url=redis_required, extra_env={"PGOPTIONS": "-c lock_timeout=300"})
        with metrics_table_locked():
            task_id = app.send_task(RECOMPUTE, args=[cohort.id]).id
            worker.wait_for_log(rf"Task {RECOMPUTE}\[{task_id}\] retry: Retry in", TASK_TIMEOUT_S)
            assert not CohortMetrics.objects.exists()
        worker.wait_for_log(rf"Task {RECOMPUTE}\[{task_id}\] succeeded", TASK_TIMEOUT_S)
        log = worker.log()
        assert "lock timeout" in log  # the real PostgreSQL error that caused the retry
        assert _succeeded(log, task_id) == 1
        _assert_snapshot(cohort)


# --- Redis restarted while tasks are queued ------------------------------------------


class PersistentRedis:
    """A ``redis-server`` on loopback ``port`` with an append-only file fsynced on every write, in a temp folder.

    ``append_only=False`` gives the configuration of the development Redis (nothing on disk).
    """

    def __init__(self, port: int, *, append_only: bool = True):
        self.port = port
        self.append_only = append_only
        self.dir = Path(tempfile.mkdtemp(prefix="academy-redis-aof-"))
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir),
             "--appendonly", "yes" if self.append_only else "no", "--appendfsync", "always", "--save", "",
             "--daemonize", "no",
             "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        _wait_until(self.answers, 15, f"redis-server on port {self.port}")

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def crash(self) -> None:
        """SIGKILL the server: no shutdown save, only what the append-only file already holds survives."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def queue_length(self, queue: str = "celery") -> int:
        import redis

        return redis.Redis.from_url(self.url).llen(queue)

    def cleanup(self) -> None:
        self.crash()
        shutil.rmtree(self.dir, ignore_errors=True)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_queued_tasks_survive_a_redis_crash_and_each_runs_once():
    """Queue 5 recomputes and 1 reminder run, SIGKILL and restart Redis (AOF on): every task runs once."""
    from celery import Celery

    from outcomes.models import CohortMetrics

    if not _port_free(REDIS_TEST_PORT):
        pytest.fail(f"port {REDIS_TEST_PORT} is taken: set RELIABILITY_REDIS_PORT to a free one")
    cohorts = [_cohort_with_results() for _ in range(5)]
    CohortMetrics.objects.all().delete()
    server = PersistentRedis(REDIS_TEST_PORT)
    publisher = Celery("reliability-publisher", broker=server.url, set_as_current=False)
    publisher.conf.update(task_serializer="json", accept_content=["json"], broker_connection_retry_on_startup=True)
    with workers_cleaned_up() as workers:
        try:
            server.start()
            # An explicit connection: Celery prefers the CELERY_BROKER_URL variable to broker=.
            with publisher.connection_for_write(server.url) as conn:
                ids = [publisher.send_task(RECOMPUTE, args=[c.id], connection=conn).id for c in cohorts]
                ids.append(publisher.send_task("coaching.tasks.send_reminders", connection=conn).id)
            publisher.close()
            assert server.queue_length() == 6
            server.crash()
            server.start()  # same folder: Redis replays its append-only file
            assert server.queue_length() == 6, "Redis lost queued tasks across the restart"
            worker = workers.start(name="after-redis-restart", broker_url=server.url)
            for task_id in ids:
                worker.wait_for_log(rf"\[{re.escape(task_id)}\] succeeded", TASK_TIMEOUT_S)
            time.sleep(1)
            log = worker.log()
            for task_id in ids:
                assert len(re.findall(rf"\[{re.escape(task_id)}\] succeeded", log)) == 1, task_id
            assert server.queue_length() == 0
            for cohort in cohorts:
                _assert_snapshot(cohort)
        finally:
            for worker in workers:
                worker.stop()
            server.cleanup()


@pytest.mark.celery_worker
@pytest.mark.django_db
def test_without_an_append_only_file_a_redis_crash_loses_the_queue():
    """The counter-example that makes AOF a production requirement (docs/operations.md): nothing survives."""
    from celery import Celery

    if not _port_free(REDIS_TEST_PORT):
        pytest.fail(f"port {REDIS_TEST_PORT} is taken: set RELIABILITY_REDIS_PORT to a free one")
    server = PersistentRedis(REDIS_TEST_PORT, append_only=False)
    publisher = Celery("reliability-publisher", broker=server.url, set_as_current=False)
    try:
        server.start()
        with publisher.connection_for_write(server.url) as conn:
            for _ in range(3):
                publisher.send_task(RECOMPUTE, args=[None], connection=conn)
        publisher.close()
        assert server.queue_length() == 3
        server.crash()
        server.start()
        assert server.queue_length() == 0
    finally:
        server.cleanup()
