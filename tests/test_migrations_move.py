"""Moving models between apps (``SeparateDatabaseAndState``, unchanged ``db_table``) keeps every row.

A throwaway PostgreSQL database is migrated to main as it was before the restructuring
(``OLD_NODES`` for the project's apps, Django's and the other libraries' apps fully),
filled with the demo academy, and described: every table's row count and columns, every
constraint, index, trigger and sequence, the ``django_content_type`` and
``auth_permission`` rows, and ``django_migrations``. Then ``manage.py migrate`` brings it
to the latest migrations and the description is taken again. Nothing may be lost or
changed: no table disappears or is renamed, the only new tables belong to newly applied
migrations, every row count is the same (content types and permissions may only grow, for
new models), every constraint, index, trigger and column keeps its definition, and the
content type of a moved model keeps its id (so permissions, admin log entries and
anything else pointing at it stay attached) under its new app label.

The checks are generic: a model counts as moved when its content type row keeps its id
but changes app label; such a model must now live in that app (current code) and its
table must be one that existed before. ``learners.CoachingSession`` (and its history
model) moving to ``coaching`` is asserted by name as the example.

How the old database is built, and why:

- Only ``manage.py`` runs against it, in subprocesses with ``DATABASE_URL`` pointing at it
  (``CELERY_BROKER_URL`` and ``REDIS_CACHE_URL`` removed, so nothing leaves the test). The
  old migrations are applied by one ``manage.py shell`` process calling ``migrate`` once
  per app (``migrate <app> <node>`` for the project's apps, ``migrate <app>`` for the
  others), which is exactly what the separate commands would do, minus ten start-ups of
  Django (several seconds each on a busy machine).
- ``post_migrate`` creates content types and permissions from the *migration state*, so
  the old database has them under the old app labels (e.g. ``learners.coachingsession``),
  as a real deployment of old main would.
- Every step before the move runs from the code of main before the restructuring (the
  parent of the commit that added ``learners/migrations/0005_coaching_models_moved.py``),
  checked out with ``git worktree`` and run with this virtualenv: since then models have
  gained columns (a learner's line manager account, the state of off-the-job training),
  so today's classes cannot write the old schema. ``load_reference_data`` and
  ``seed_demo`` fill it; the demo is written with ``bulk_create``, which records no
  history, so the test re-saves a few rows of every model with ``simple_history`` to
  write history rows, grants a user the moved model's permission and writes an admin log
  entry pointing at its content type. Without the git history (an export, not a clone)
  the test skips, or fails under CI.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.apps import apps
from django.conf import settings

pytestmark = pytest.mark.postgres

# Main before the restructuring: the last migration of each project app.
OLD_NODES = {
    "academy": "0002_team_version_historicalteam_auditevent",
    "cohorts": "0003_historicalcohort_historicalenrolment_importrun_and_more",
    "learners": "0004_otj_activity_version",
    "outcomes": "0005_metrics_fingerprint",
}
# Main just after the restructuring: the last migration of each project app that moved
# models. The schema is compared here; later migrations change it on purpose (new roles,
# new columns), so they run after the comparison and only have to keep every row.
MOVED_NODES = {
    "academy": "0003_dashboard_generation_moved",
    "coaching": "0001_initial",
    "cohorts": "0004_assessment_result_moved",
    "learners": "0005_coaching_models_moved",
    "outcomes": "0008_dashboard_generation_moved",
}
# The asserted example of a move: (old app label, new app label, models).
EXAMPLE_MOVE = ("learners", "coaching", ("coachingsession", "historicalcoachingsession"))
EXAMPLE_PERMISSION = "change_coachingsession"
EXAMPLE_HISTORY_TABLE = "learners_historicalcoachingsession"
STEP_TIMEOUT_S = 120
DEMO_PASSWORD = "migration-move-test-password"

# Run by `manage.py shell -c` on the old database (see the module docstring).
OLD_MIGRATE_SCRIPT = """
from django.core.management import call_command
for app, node in {steps!r}:
    call_command("migrate", app, *([node] if node else []), interactive=False, verbosity=0)
"""

# Run by `manage.py shell -c`: migrate to several nodes in one plan with one post_migrate, as
# `manage.py migrate` does for one target. Per-app calls would let post_migrate create content
# types for moved models under their new label before the migration renaming the old one runs.
TARGETS_MIGRATE_SCRIPT = """
import sys
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
targets = {targets!r}
executor = MigrationExecutor(connection)
plan = executor.migration_plan(targets)
state = executor._create_project_state(with_applied_migrations=True)
emit_pre_migrate_signal(0, False, connection.alias, stdout=sys.stdout, apps=state.apps, plan=plan)
state = executor.migrate(targets, plan=plan, state=state.clone())
state.clear_delayed_apps_cache()
emit_post_migrate_signal(0, False, connection.alias, stdout=sys.stdout, apps=state.apps, plan=plan)
"""

EXTRAS_SCRIPT = """
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

project = {project!r}
saved = 0
for model in apps.get_models():
    if model._meta.app_label in project and hasattr(model, "history") and not model._meta.proxy:
        for row in model._default_manager.order_by("pk")[:2]:
            row.save()
            saved += 1
old_label, _, (name, _) = {example!r}
# Looked up by the old label on purpose: get_for_model() would create a row under the new one.
content_type = ContentType.objects.get(app_label=old_label, model=name)
model = next(m for m in apps.get_models() if m._meta.db_table == {table!r})
session = model._default_manager.order_by("pk").first()
user = get_user_model()._default_manager.order_by("pk").first()
user.user_permissions.add(Permission.objects.get(content_type=content_type, codename={codename!r}))
LogEntry.objects.create(user=user, content_type=content_type, object_id=str(session.pk),
                        object_repr=str(session)[:200], action_flag=CHANGE, change_message="migration move test")
print(f"EXTRAS saved={{saved}}")
"""


# --- Running manage.py against the throwaway database ---------------------------------

def _server() -> dict:
    db = settings.DATABASES["default"]
    return {"host": db.get("HOST") or "127.0.0.1", "port": int(db.get("PORT") or 5432),
            "user": db.get("USER") or "postgres", "password": db.get("PASSWORD") or ""}


def _url(name: str) -> str:
    server = _server()
    user = quote(server["user"], safe="")
    credentials = f"{user}:{quote(server['password'], safe='')}@" if server["password"] else f"{user}@"
    return f"postgres://{credentials}{server['host']}:{server['port']}/{quote(name, safe='')}"


def _connect(name: str, **kwargs) -> psycopg.Connection:
    server = _server()
    return psycopg.connect(host=server["host"], port=server["port"], user=server["user"],
                           password=server["password"] or None, dbname=name, connect_timeout=5, **kwargs)


def _admin_connection() -> psycopg.Connection:
    """A connection to a database other than the throwaway one, to create and drop it."""
    try:
        return _connect("postgres", autocommit=True)
    except psycopg.OperationalError:
        return _connect(settings.DATABASES["default"]["NAME"], autocommit=True)


def _env(database: str) -> dict:
    env = dict(os.environ, DATABASE_URL=_url(database), DJANGO_SETTINGS_MODULE="academy.settings_test")
    env.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
    for name in ("CELERY_BROKER_URL", "REDIS_CACHE_URL", "DEMO_PASSWORD"):
        env.pop(name, None)
    return env


def _manage(database: str, *args: str, cwd=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=cwd or settings.BASE_DIR, env=_env(database),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait(process: subprocess.Popen, *, check: bool = True) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=STEP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"{process.args[1:]} did not finish in {STEP_TIMEOUT_S}s:\n{out}\n{err}")
    if check:
        assert process.returncode == 0, f"{process.args[1:]} failed ({process.returncode}):\n{out}\n{err}"
    return process.returncode, out, err


def _run(database: str, *args: str, cwd=None) -> str:
    return _wait(_manage(database, *args, cwd=cwd))[1]


MOVE_MIGRATION = "learners/migrations/0005_coaching_models_moved.py"


@pytest.fixture
def old_main(tmp_path):
    """A ``git worktree`` of main before the restructuring (see the module docstring), removed afterwards."""
    from tests.services import skip_or_fail

    def git(*args):
        return subprocess.run(["git", "-C", str(settings.BASE_DIR), *args], capture_output=True, text=True,
                              timeout=STEP_TIMEOUT_S)

    added = git("log", "--diff-filter=A", "--format=%H", "-1", "--", MOVE_MIGRATION)
    if added.returncode != 0 or not added.stdout.strip():
        skip_or_fail(f"needs the git history to check out main before {MOVE_MIGRATION} (run from a clone)")
    path = tmp_path / "old-main"
    checkout = git("worktree", "add", "--detach", str(path), f"{added.stdout.strip()}^")
    assert checkout.returncode == 0, checkout.stderr
    try:
        yield path
    finally:
        git("worktree", "remove", "--force", str(path))


def _project_apps() -> list[str]:
    """Labels of the apps in this repository (not in the virtualenv, which may live inside it)."""
    base = Path(settings.BASE_DIR).resolve()
    project = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        in_venv = "site-packages" in path.parts or Path(sys.prefix).resolve() in path.parents
        if base in path.parents and not in_venv:
            project.append(config.label)
    return project


def _old_migrate_steps() -> list[tuple[str, str | None]]:
    """``(app, node)`` for each project app in ``OLD_NODES``, then ``(app, None)``: every other app, fully."""
    from django.db.migrations.loader import MigrationLoader

    migrated = MigrationLoader(None, ignore_no_migrations=True).migrated_apps
    project = set(_project_apps())
    others = sorted(app for app in migrated if app not in project)
    return [*OLD_NODES.items(), *((app, None) for app in others)]


# --- Describing the database ----------------------------------------------------------

def _describe(database: str) -> dict:
    """Tables with row counts and columns, constraints, indexes, triggers, sequences, content types, permissions."""
    with _connect(database) as conn, conn.cursor() as cur:
        cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")
        tables = sorted(row[0] for row in cur.fetchall())
        counts = {}
        for table in tables:
            cur.execute(f'SELECT count(*) FROM public."{table}"')
            counts[table] = cur.fetchone()[0]
        cur.execute("SELECT table_name, column_name, data_type, is_nullable, column_default, character_maximum_length, "
                    "numeric_precision, numeric_scale, is_identity FROM information_schema.columns "
                    "WHERE table_schema = 'public'")
        columns = {(r[0], r[1]): r[2:] for r in cur.fetchall()}
        cur.execute("SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE connamespace = 'public'::regnamespace AND conrelid <> 0")
        constraints = {(r[0], r[1]): (r[2], r[3]) for r in cur.fetchall()}
        cur.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        indexes = {(r[0], r[1]): r[2] for r in cur.fetchall()}
        cur.execute("SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                    "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND NOT t.tgisinternal")
        triggers = {(r[0], r[1]): r[2] for r in cur.fetchall()}
        cur.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
        sequences = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT id, app_label, model FROM django_content_type")
        content_types = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        cur.execute("SELECT id, content_type_id, codename FROM auth_permission")
        permissions = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        cur.execute("SELECT app, name FROM django_migrations")
        migrations = {(r[0], r[1]) for r in cur.fetchall()}
    return {"counts": counts, "columns": columns, "constraints": constraints, "indexes": indexes,
            "triggers": triggers, "sequences": sequences, "content_types": content_types,
            "permissions": permissions, "migrations": migrations}


def _changed(before: dict, after: dict) -> list[str]:
    """Keys of ``before`` missing from ``after`` or with another value there."""
    return [f"{key}: {value!r} -> {after.get(key, '(missing)')!r}"
            for key, value in sorted(before.items(), key=lambda item: str(item[0])) if after.get(key) != value]


# --- The test -------------------------------------------------------------------------

@pytest.fixture
def scratch_database():
    """The name of a new, empty PostgreSQL database, dropped (WITH (FORCE)) afterwards."""
    name = f"academy_migrate_move_{uuid.uuid4().hex[:10]}"
    with _admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_moving_models_between_apps_keeps_every_table_row_and_content_type(scratch_database, old_main):
    """Old main + the demo academy, then ``migrate``: same tables, rows, constraints, indexes; content types renamed."""
    db = scratch_database
    project = _project_apps()
    old_label, new_label, example_models = EXAMPLE_MOVE

    # 1. Main before the restructuring, with the demo academy in it.
    _run(db, "shell", "-c", OLD_MIGRATE_SCRIPT.format(steps=_old_migrate_steps()), cwd=old_main)
    _run(db, "load_reference_data", cwd=old_main)
    _run(db, "seed_demo", "--password", DEMO_PASSWORD, cwd=old_main)
    out = _run(db, "shell", "-c", EXTRAS_SCRIPT.format(project=project, example=EXAMPLE_MOVE,
                                                       table=f"{old_label}_{example_models[0]}",
                                                       codename=EXAMPLE_PERMISSION), cwd=old_main)
    assert "EXTRAS saved=" in out, out

    before = _describe(db)
    assert before["migrations"] >= set(OLD_NODES.items()), "the old migrations were not applied"
    assert not {(app, name) for app, name in before["migrations"] if app in project} - {
        (app, name) for app, name in before["migrations"] if app in OLD_NODES
    }, "a project app outside OLD_NODES was migrated before the restructuring"
    assert before["counts"][EXAMPLE_HISTORY_TABLE] > 0, "no history rows for the example model"
    assert before["counts"]["learners_coachingsession"] > 0, "the demo wrote no coaching sessions"
    old_ids = {key: ct_id for ct_id, key in before["content_types"].items()}
    example_ids = {name: old_ids.get((old_label, name)) for name in example_models}
    assert all(example_ids.values()), f"content types missing before the move: {example_ids}"
    example_permissions = {pid: perm for pid, perm in before["permissions"].items()
                           if perm[0] == example_ids[example_models[0]]}
    assert EXAMPLE_PERMISSION in {codename for _, codename in example_permissions.values()}, example_permissions

    # 2. Main just after the restructuring.
    _run(db, "shell", "-c", TARGETS_MIGRATE_SCRIPT.format(targets=sorted(MOVED_NODES.items())))
    after = _describe(db)
    newly_applied = sorted(after["migrations"] - before["migrations"])
    summary = (f"{len(before['counts'])} tables and {sum(before['counts'].values())} rows before; "
               f"migrations applied by the move: {newly_applied}")
    assert {app for app, _ in newly_applied} & set(project), f"migrate applied no project migration; {summary}"

    # Tables: none lost or renamed; new ones only for models of apps with newly applied migrations.
    tables_before, tables_after = set(before["counts"]), set(after["counts"])
    assert tables_before <= tables_after, f"tables gone or renamed: {sorted(tables_before - tables_after)}; {summary}"
    new_tables = sorted(tables_after - tables_before)
    migrated_apps = {app for app, _ in newly_applied}
    model_tables = {m._meta.db_table: m._meta.app_label for m in apps.get_models(include_auto_created=True)}
    unexpected = [t for t in new_tables if model_tables.get(t) not in migrated_apps]
    assert not unexpected, (f"new tables that no newly applied migration's model owns: {unexpected} "
                            f"(all new tables: {new_tables}); {summary}")

    # Row counts: all equal, but for the migration record and content types/permissions of new models.
    growing = {"django_migrations", "django_content_type", "auth_permission"}
    changed_counts = [f"{t}: {before['counts'][t]} -> {after['counts'][t]}"
                      for t in sorted(tables_before - growing) if before["counts"][t] != after["counts"][t]]
    assert not changed_counts, f"row counts changed: {changed_counts}; {summary}"

    # Schema: every column, constraint, index, trigger and sequence from before, unchanged.
    for part in ("columns", "constraints", "indexes", "triggers"):
        changed = _changed(before[part], after[part])
        assert not changed, f"{part} changed or gone ({len(changed)} of {len(before[part])}): {changed}; {summary}"
    gone = sorted(before["sequences"] - after["sequences"])
    assert not gone, f"sequences gone: {gone}; {summary}"

    # Content types: every row keeps its id and model; a changed app label must be a real move.
    current = {(m._meta.app_label, m._meta.model_name): m for m in apps.get_models()}
    moves, bad = {}, []
    for ct_id, (app_label, model) in sorted(before["content_types"].items()):
        now = after["content_types"].get(ct_id)
        if now == (app_label, model):
            continue
        if now is None or now[1] != model:
            bad.append(f"content type {ct_id} {app_label}.{model} became {now}")
        elif now not in current:
            bad.append(f"content type {ct_id} {app_label}.{model} renamed to {now}, which is no model")
        elif (app_label, model) in current:
            bad.append(f"content type {ct_id} {app_label}.{model} renamed to {now}, yet the old model still exists")
        elif current[now]._meta.db_table not in tables_before:
            bad.append(f"{now} moved into a new table {current[now]._meta.db_table}: its rows were left behind")
        else:
            moves[ct_id] = (f"{app_label}.{model}", f"{now[0]}.{now[1]}")
    # A model now in another app whose old content type was not renamed (a duplicate under the new label).
    current_names = {}
    for app_label, model in current:
        current_names.setdefault(model, set()).add(app_label)
    for ct_id, (app_label, model) in sorted(after["content_types"].items()):
        if (app_label, model) not in current and current_names.get(model, set()) - {app_label}:
            bad.append(f"content type {ct_id} {app_label}.{model} was not renamed: the model is now in "
                       f"{sorted(current_names[model])}")
    new_types = {ct_id: key for ct_id, key in after["content_types"].items() if ct_id not in before["content_types"]}
    bad += [f"new content type {ct_id} {key} is no model" for ct_id, key in sorted(new_types.items())
            if key not in current]
    assert not bad, f"content types: {bad}; moves seen: {moves}; {summary}"
    for name, ct_id in example_ids.items():
        assert after["content_types"][ct_id] == (new_label, name), (
            f"content type {ct_id} ({old_label}.{name}) is {after['content_types'][ct_id]} after migrate, "
            f"not {new_label}.{name}; moves seen: {moves}")

    # Permissions: every row keeps id, content type and codename; new ones only for new content types.
    changed = _changed(before["permissions"], after["permissions"])
    assert not changed, f"permissions changed or gone: {changed}"
    new_permissions = {pid: perm for pid, perm in after["permissions"].items() if pid not in before["permissions"]}
    stray = {pid: perm for pid, perm in new_permissions.items() if perm[0] not in new_types}
    assert not stray, f"new permissions for content types that existed before (duplicates of moved models?): {stray}"
    assert {pid: after["permissions"][pid] for pid in example_permissions} == example_permissions

    # 3. Main now: every later migration applies to the moved data and keeps every row.
    _run(db, "migrate", "--no-input")
    now = _describe(db)
    changed_counts = [f"{t}: {after['counts'][t]} -> {now['counts'][t]}"
                      for t in sorted(set(after["counts"]) - growing) if after["counts"][t] != now["counts"].get(t)]
    assert not changed_counts, f"row counts changed by the later migrations: {changed_counts}"

    # Nothing left to migrate or to make.
    check = _manage(db, "makemigrations", "--check", "--dry-run")
    plan = _manage(db, "showmigrations", "--plan")
    code, out, err = _wait(check, check=False)
    assert code == 0, f"makemigrations --check --dry-run found model changes with no migration:\n{out}\n{err}"
    _, out, _ = _wait(plan)
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines and all(line.startswith("[X]") for line in lines), (
        f"not every migration is applied: {[line for line in lines if not line.startswith('[X]')]}")
