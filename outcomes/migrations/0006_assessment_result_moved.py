"""End-point assessment results left ``outcomes`` for ``cohorts`` (state only: the tables stay; see ``cohorts`` 0004)."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cohorts', '0004_assessment_result_moved'),
        ('outcomes', '0005_metrics_fingerprint'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='historicalassessmentresult',
                    name='enrolment',
                ),
                migrations.RemoveField(
                    model_name='historicalassessmentresult',
                    name='history_user',
                ),
                migrations.DeleteModel(
                    name='AssessmentResult',
                ),
                migrations.DeleteModel(
                    name='HistoricalAssessmentResult',
                ),
            ],
            database_operations=[],
        ),
    ]
