"""Migration operations shared by the migrations that move a model from one app to another.

A move keeps the model's table (``db_table``) and changes only Django's state
(``SeparateDatabaseAndState``); ``move_content_types`` then renames the moved models'
``django_content_type`` rows, so that permissions, admin log entries and anything else
pointing at a content type stay attached to the same row (same id).
"""
from django.db import migrations


def move_content_types(models: tuple[str, ...], *, source: str, target: str) -> migrations.RunPython:
    """Return a reversible ``RunPython`` that relabels the content types of ``models`` from ``source`` to ``target``.

    ``models`` are lower-case model names (``"coachingsession"``). A content type already
    present under ``target`` (made by a ``post_migrate`` of an earlier, interrupted run)
    is left alone, and the old row keeps its label, rather than breaking the unique key.
    """

    def relabel(apps, *, old: str, new: str) -> None:
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not ContentType.objects.filter(app_label=new, model=model).exists():
                ContentType.objects.filter(app_label=old, model=model).update(app_label=new)

    return migrations.RunPython(
        lambda apps, schema_editor: relabel(apps, old=source, new=target),
        lambda apps, schema_editor: relabel(apps, old=target, new=source),
    )
