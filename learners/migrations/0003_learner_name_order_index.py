"""Index the learner list's order (last name, first name, id): docs/scaling.md, issue 6."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0002_coachingsession_version_learner_anonymised_at_and_more"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="learner",
            index=models.Index(fields=["last_name", "first_name", "id"], name="learner_name_order"),
        ),
    ]
