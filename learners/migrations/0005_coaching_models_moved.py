"""The coaching models left ``learners`` for ``coaching`` (state only: their tables stay; see ``coaching`` 0001)."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('learners', '0004_otj_activity_version'),
        ('coaching', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='historicalcoachingsession',
                    name='coach',
                ),
                migrations.RemoveField(
                    model_name='historicalcoachingsession',
                    name='enrolment',
                ),
                migrations.RemoveField(
                    model_name='historicalcoachingsession',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicaloffthejobactivity',
                    name='enrolment',
                ),
                migrations.RemoveField(
                    model_name='historicaloffthejobactivity',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicaloffthejobactivity',
                    name='recorded_by',
                ),
                migrations.RemoveField(
                    model_name='historicalprogressreview',
                    name='enrolment',
                ),
                migrations.RemoveField(
                    model_name='historicalprogressreview',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalprogressreview',
                    name='recorded_by',
                ),
                migrations.RemoveField(
                    model_name='offthejobactivity',
                    name='enrolment',
                ),
                migrations.RemoveField(
                    model_name='offthejobactivity',
                    name='recorded_by',
                ),
                migrations.RemoveField(
                    model_name='progressreview',
                    name='enrolment',
                ),
                migrations.RemoveField(
                    model_name='progressreview',
                    name='recorded_by',
                ),
                migrations.RemoveField(
                    model_name='reminderlog',
                    name='coach',
                ),
                migrations.DeleteModel(
                    name='CoachingSession',
                ),
                migrations.DeleteModel(
                    name='HistoricalCoachingSession',
                ),
                migrations.DeleteModel(
                    name='HistoricalOffTheJobActivity',
                ),
                migrations.DeleteModel(
                    name='HistoricalProgressReview',
                ),
                migrations.DeleteModel(
                    name='OffTheJobActivity',
                ),
                migrations.DeleteModel(
                    name='ProgressReview',
                ),
                migrations.DeleteModel(
                    name='ReminderLog',
                ),
            ],
            database_operations=[],
        ),
    ]
