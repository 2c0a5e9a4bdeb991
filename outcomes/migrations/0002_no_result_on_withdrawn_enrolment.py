"""Database triggers: an end-point assessment result never sits on a withdrawn enrolment.

A CHECK constraint cannot look at another table, so both directions are triggers:
inserting or updating a result on a withdrawn enrolment fails, and withdrawing an
enrolment that has results fails. Both raise an integrity error (SQLite:
``RAISE(ABORT)``; PostgreSQL: SQLSTATE 23514, check_violation).
"""
from django.db import migrations

MESSAGE = "no end-point assessment result on a withdrawn enrolment"

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER outcomes_result_not_on_withdrawn_insert
    BEFORE INSERT ON outcomes_assessmentresult
    WHEN (SELECT status FROM cohorts_enrolment WHERE id = NEW.enrolment_id) = 'withdrawn'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
    f"""
    CREATE TRIGGER outcomes_result_not_on_withdrawn_update
    BEFORE UPDATE OF enrolment_id ON outcomes_assessmentresult
    WHEN (SELECT status FROM cohorts_enrolment WHERE id = NEW.enrolment_id) = 'withdrawn'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
    f"""
    CREATE TRIGGER cohorts_enrolment_no_withdraw_with_result
    BEFORE UPDATE OF status ON cohorts_enrolment
    WHEN NEW.status = 'withdrawn'
      AND EXISTS (SELECT 1 FROM outcomes_assessmentresult WHERE enrolment_id = NEW.id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS outcomes_result_not_on_withdrawn_insert;",
    "DROP TRIGGER IF EXISTS outcomes_result_not_on_withdrawn_update;",
    "DROP TRIGGER IF EXISTS cohorts_enrolment_no_withdraw_with_result;",
]

POSTGRES_FORWARD = [
    f"""
    CREATE FUNCTION outcomes_result_not_on_withdrawn() RETURNS trigger AS $$
    BEGIN
      IF (SELECT status FROM cohorts_enrolment WHERE id = NEW.enrolment_id) = 'withdrawn' THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER outcomes_result_not_on_withdrawn
    BEFORE INSERT OR UPDATE OF enrolment_id ON outcomes_assessmentresult
    FOR EACH ROW EXECUTE FUNCTION outcomes_result_not_on_withdrawn();
    """,
    f"""
    CREATE FUNCTION cohorts_enrolment_no_withdraw_with_result() RETURNS trigger AS $$
    BEGIN
      IF NEW.status = 'withdrawn' AND EXISTS (
        SELECT 1 FROM outcomes_assessmentresult WHERE enrolment_id = NEW.id
      ) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER cohorts_enrolment_no_withdraw_with_result
    BEFORE UPDATE OF status ON cohorts_enrolment
    FOR EACH ROW EXECUTE FUNCTION cohorts_enrolment_no_withdraw_with_result();
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS outcomes_result_not_on_withdrawn ON outcomes_assessmentresult;",
    "DROP FUNCTION IF EXISTS outcomes_result_not_on_withdrawn();",
    "DROP TRIGGER IF EXISTS cohorts_enrolment_no_withdraw_with_result ON cohorts_enrolment;",
    "DROP FUNCTION IF EXISTS cohorts_enrolment_no_withdraw_with_result();",
]


def forward(apps, schema_editor):
    statements = POSTGRES_FORWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = POSTGRES_BACKWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    # The triggers name cohorts_enrolment, so they come after every migration that builds or
    # rebuilds that table (cohorts 0002 creates it, 0003 rebuilds it on SQLite): SQLite
    # refuses to rename a rebuilt table while a trigger names it. A fresh migrate once put
    # this first (when the portal's migrations changed the order). A future migration that
    # rebuilds cohorts_enrolment on SQLite must drop and re-create these triggers around it.
    dependencies = [
        ("outcomes", "0001_initial"),
        ("cohorts", "0003_historicalcohort_historicalenrolment_importrun_and_more"),
    ]
    operations = [migrations.RunPython(forward, backward)]
