"""The dashboard generation left ``outcomes`` for ``academy`` (state only: the table stays; see ``academy`` 0003)."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('academy', '0003_dashboard_generation_moved'),
        ('outcomes', '0007_metrics_run'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='DashboardGeneration',
                ),
            ],
            database_operations=[],
        ),
    ]
