"""End-point assessment results move from ``outcomes`` to ``cohorts`` without moving any data.

A result is part of an enrolment's lifecycle (gateway, assessment, result, completion), so
it lives beside the enrolment. Its tables keep their ``outcomes_`` names (``db_table``),
including the trigger of ``outcomes`` 0002; only Django's state changes
(``SeparateDatabaseAndState``), and the content types are relabelled (same ids).
"""
import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from academy.migration_ops import move_content_types


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('outcomes', '0005_metrics_fingerprint'),
        ('cohorts', '0003_historicalcohort_historicalenrolment_importrun_and_more'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalAssessmentResult',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('grade', models.CharField(choices=[('distinction', 'Distinction'), ('merit', 'Merit'), ('pass', 'Pass'), ('fail', 'Fail')], max_length=12)),
                        ('date', models.DateField()),
                        ('attempt', models.PositiveSmallIntegerField(default=1, validators=[django.core.validators.MinValueValidator(1)])),
                        ('created_at', models.DateTimeField(blank=True, editable=False)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('enrolment', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cohorts.enrolment')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical assessment result',
                        'verbose_name_plural': 'historical assessment results',
                        'db_table': 'outcomes_historicalassessmentresult',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='AssessmentResult',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('grade', models.CharField(choices=[('distinction', 'Distinction'), ('merit', 'Merit'), ('pass', 'Pass'), ('fail', 'Fail')], max_length=12)),
                        ('date', models.DateField()),
                        ('attempt', models.PositiveSmallIntegerField(default=1, validators=[django.core.validators.MinValueValidator(1)])),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('enrolment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='assessment_results', to='cohorts.enrolment')),
                    ],
                    options={
                        'db_table': 'outcomes_assessmentresult',
                        'ordering': ['enrolment', 'attempt'],
                        'constraints': [models.UniqueConstraint(fields=('enrolment', 'attempt'), name='one_result_per_attempt'), models.CheckConstraint(condition=models.Q(('attempt__gte', 1)), name='result_attempt_from_one'), models.CheckConstraint(condition=models.Q(('grade__in', ['distinction', 'merit', 'pass', 'fail'])), name='result_grade_valid')],
                    },
                ),
            ],
            database_operations=[],
        ),
        move_content_types(("assessmentresult", "historicalassessmentresult"), source="outcomes", target="cohorts"),
    ]
