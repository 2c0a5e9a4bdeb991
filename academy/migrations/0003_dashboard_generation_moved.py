"""The dashboard generation moves from ``outcomes`` to ``academy`` without moving any data.

The services of every layer move it on (``academy.changes.records_changed``), so it lives
at the bottom. Its table keeps its ``outcomes_`` name (``db_table``); only Django's state
changes (``SeparateDatabaseAndState``), and its content type is relabelled (same id).
"""
from django.db import migrations, models

from academy.migration_ops import move_content_types


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        # No dependency on outcomes (whose 0004 creates the table): this changes state only, and
        # depending on outcomes would plan its SQLite triggers (0002) before cohorts 0003 rebuilds
        # the enrolment table. outcomes 0008 removes the model from outcomes' state after this.
        ('academy', '0002_team_version_historicalteam_auditevent'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DashboardGeneration',
                    fields=[
                        ('id', models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                        ('number', models.BigIntegerField(default=0)),
                        ('changed_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'db_table': 'outcomes_dashboardgeneration',
                        'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='one_dashboard_generation')],
                    },
                ),
            ],
            database_operations=[],
        ),
        move_content_types(("dashboardgeneration",), source="outcomes", target="academy"),
    ]
