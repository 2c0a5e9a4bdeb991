"""The coaching models, moved from ``learners`` without moving any data.

Their tables keep the names they had in ``learners`` (``db_table``), so this migration
only changes Django's state (``SeparateDatabaseAndState``, Django's documented way to
move a model between apps; ``learners`` 0005 removes them from that app's state). The
content types of the moved models are renamed from ``learners`` to ``coaching``, so the
permissions, admin log entries and history that point at them stay attached.
"""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from academy.migration_ops import move_content_types


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('learners', '0004_otj_activity_version'),
        ('cohorts', '0003_historicalcohort_historicalenrolment_importrun_and_more'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalCoachingSession',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('date', models.DateField()),
                        ('duration_minutes', models.PositiveIntegerField(validators=[django.core.validators.MinValueValidator(0)])),
                        ('mode', models.CharField(choices=[('in_person', 'In person'), ('video', 'Video call'), ('phone', 'Phone')], default='video', max_length=12)),
                        ('attendance', models.CharField(choices=[('attended', 'Attended'), ('cancelled', 'Cancelled'), ('no_show', 'Did not attend')], default='attended', max_length=12)),
                        ('otj_hours', models.DecimalField(decimal_places=2, default=0, max_digits=5, validators=[django.core.validators.MinValueValidator(0)], verbose_name='off-the-job hours')),
                        ('topics', models.CharField(blank=True, max_length=255)),
                        ('notes', models.TextField(blank=True)),
                        ('next_session_date', models.DateField(blank=True, null=True)),
                        ('version', models.PositiveIntegerField(default=1, help_text='Raised on every edit; a stale edit is refused.')),
                        ('created_at', models.DateTimeField(blank=True, editable=False)),
                        ('updated_at', models.DateTimeField(blank=True, editable=False)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('coach', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('enrolment', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cohorts.enrolment')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical coaching session',
                        'verbose_name_plural': 'historical coaching sessions',
                        'db_table': 'learners_historicalcoachingsession',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalOffTheJobActivity',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('date', models.DateField()),
                        ('category', models.CharField(choices=[('training_day', 'Training day or workshop'), ('self_study', 'Self-study and assignments'), ('shadowing', 'Shadowing or mentoring'), ('practical', 'Practical training'), ('visit', 'Industry visit or event'), ('other', 'Other')], max_length=16)),
                        ('hours', models.DecimalField(decimal_places=2, max_digits=5, validators=[django.core.validators.MinValueValidator(0.25), django.core.validators.MaxValueValidator(24)])),
                        ('description', models.CharField(blank=True, max_length=255)),
                        ('version', models.PositiveIntegerField(default=1)),
                        ('created_at', models.DateTimeField(blank=True, editable=False)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('enrolment', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cohorts.enrolment')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('recorded_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical off the job activity',
                        'verbose_name_plural': 'historical off-the-job activities',
                        'db_table': 'learners_historicaloffthejobactivity',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalProgressReview',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('date', models.DateField()),
                        ('learner_attended', models.BooleanField(default=True)),
                        ('line_manager_attended', models.BooleanField(default=True)),
                        ('coach_attended', models.BooleanField(default=True)),
                        ('agreed_actions', models.TextField(blank=True)),
                        ('rag', models.CharField(choices=[('red', 'Red: at risk'), ('amber', 'Amber: some concerns'), ('green', 'Green: on track')], max_length=5, verbose_name='RAG rating')),
                        ('notes', models.TextField(blank=True)),
                        ('version', models.PositiveIntegerField(default=1)),
                        ('created_at', models.DateTimeField(blank=True, editable=False)),
                        ('updated_at', models.DateTimeField(blank=True, editable=False)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('enrolment', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cohorts.enrolment')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('recorded_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical progress review',
                        'verbose_name_plural': 'historical progress reviews',
                        'db_table': 'learners_historicalprogressreview',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='CoachingSession',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField()),
                        ('duration_minutes', models.PositiveIntegerField(validators=[django.core.validators.MinValueValidator(0)])),
                        ('mode', models.CharField(choices=[('in_person', 'In person'), ('video', 'Video call'), ('phone', 'Phone')], default='video', max_length=12)),
                        ('attendance', models.CharField(choices=[('attended', 'Attended'), ('cancelled', 'Cancelled'), ('no_show', 'Did not attend')], default='attended', max_length=12)),
                        ('otj_hours', models.DecimalField(decimal_places=2, default=0, max_digits=5, validators=[django.core.validators.MinValueValidator(0)], verbose_name='off-the-job hours')),
                        ('topics', models.CharField(blank=True, max_length=255)),
                        ('notes', models.TextField(blank=True)),
                        ('next_session_date', models.DateField(blank=True, null=True)),
                        ('version', models.PositiveIntegerField(default=1, help_text='Raised on every edit; a stale edit is refused.')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('coach', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='coaching_sessions', to=settings.AUTH_USER_MODEL)),
                        ('enrolment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='coaching_sessions', to='cohorts.enrolment')),
                    ],
                    options={
                        'db_table': 'learners_coachingsession',
                        'ordering': ['-date', '-id'],
                        'indexes': [models.Index(fields=['enrolment', 'date'], name='learners_co_enrolme_03eff6_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('duration_minutes__gte', 0)), name='coaching_duration_not_negative'), models.CheckConstraint(condition=models.Q(('otj_hours__gte', 0)), name='coaching_otj_hours_not_negative'), models.CheckConstraint(condition=models.Q(('attendance', 'attended'), ('otj_hours', 0), _connector='OR'), name='coaching_otj_hours_only_when_attended', violation_error_message='Off-the-job hours can only be logged for an attended session.')],
                    },
                ),
                migrations.CreateModel(
                    name='OffTheJobActivity',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField()),
                        ('category', models.CharField(choices=[('training_day', 'Training day or workshop'), ('self_study', 'Self-study and assignments'), ('shadowing', 'Shadowing or mentoring'), ('practical', 'Practical training'), ('visit', 'Industry visit or event'), ('other', 'Other')], max_length=16)),
                        ('hours', models.DecimalField(decimal_places=2, max_digits=5, validators=[django.core.validators.MinValueValidator(0.25), django.core.validators.MaxValueValidator(24)])),
                        ('description', models.CharField(blank=True, max_length=255)),
                        ('version', models.PositiveIntegerField(default=1)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('enrolment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='otj_activities', to='cohorts.enrolment')),
                        ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name_plural': 'off-the-job activities',
                        'db_table': 'learners_offthejobactivity',
                        'ordering': ['-date', '-id'],
                        'indexes': [models.Index(fields=['enrolment', 'date'], name='learners_of_enrolme_425a29_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('hours__gt', 0), ('hours__lte', 24)), name='otj_activity_hours_in_day')],
                    },
                ),
                migrations.CreateModel(
                    name='ProgressReview',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField()),
                        ('learner_attended', models.BooleanField(default=True)),
                        ('line_manager_attended', models.BooleanField(default=True)),
                        ('coach_attended', models.BooleanField(default=True)),
                        ('agreed_actions', models.TextField(blank=True)),
                        ('rag', models.CharField(choices=[('red', 'Red: at risk'), ('amber', 'Amber: some concerns'), ('green', 'Green: on track')], max_length=5, verbose_name='RAG rating')),
                        ('notes', models.TextField(blank=True)),
                        ('version', models.PositiveIntegerField(default=1)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('enrolment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='progress_reviews', to='cohorts.enrolment')),
                        ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'learners_progressreview',
                        'ordering': ['-date', '-id'],
                        'indexes': [models.Index(fields=['enrolment', 'date'], name='learners_pr_enrolme_d12e01_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('rag__in', ['red', 'amber', 'green'])), name='review_rag_valid')],
                    },
                ),
                migrations.CreateModel(
                    name='ReminderLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField()),
                        ('kind', models.CharField(default='daily', max_length=32)),
                        ('detail', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('coach', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reminder_logs', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'learners_reminderlog',
                        'ordering': ['-date', 'coach'],
                        'constraints': [models.UniqueConstraint(fields=('coach', 'date', 'kind'), name='one_reminder_per_coach_per_day')],
                    },
                ),
            ],
            database_operations=[],
        ),
        move_content_types(
            ("coachingsession", "historicalcoachingsession", "progressreview", "historicalprogressreview",
             "offthejobactivity", "historicaloffthejobactivity", "reminderlog"),
            source="learners", target="coaching",
        ),
    ]
