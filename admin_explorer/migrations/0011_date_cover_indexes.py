"""The creation and update date indexes carry the columns a page under a date range (or an
annotator filter) is sorted or filtered by.

A month of tasks (37,000 at 1M) sorted by update, name, status, rating or annotator read one
table row per match before its sort: 14,000 heap blocks, 50–110 ms. With the sort keys in
the creation index the rows come from the index alone. Three busy annotators' page 200 by
update walks 36,000 entries of the update index; with the annotator (and project and status)
in it, the walk checks them without visiting the table. The annotator index carries the
update time too: a search matching a few annotators (19,000 tasks) sorted by update read one
table row per match (11,000 blocks). Then the statistics are gathered:
SQLite keeps them per index and guesses a new index highly selective (see 0010).
"""

from django.db import migrations, models

TASKS = "admin_explorer_annotationtask"


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor in ("sqlite", "postgresql"):
        schema_editor.execute(f"ANALYZE {TASKS}")


class Migration(migrations.Migration):
    dependencies = [("admin_explorer", "0010_analyze_tasks")]

    operations = [
        migrations.RemoveIndex(model_name="annotationtask", name="task_created_idx"),
        migrations.RemoveIndex(model_name="annotationtask", name="task_updated_idx"),
        migrations.AddIndex(
            model_name="annotationtask",
            index=models.Index(
                fields=[
                    "created_at",
                    "id",
                    "updated_at",
                    "status",
                    "quality_rating",
                    "annotator",
                    "name",
                ],
                name="task_created_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="annotationtask",
            index=models.Index(
                fields=["updated_at", "id", "annotator", "job", "status"],
                name="task_updated_idx",
            ),
        ),
        migrations.RemoveIndex(model_name="annotationtask", name="task_annot_cover_status_idx"),
        migrations.AddIndex(
            model_name="annotationtask",
            index=models.Index(
                fields=[
                    "annotator",
                    "created_at",
                    "id",
                    "job",
                    "dataset",
                    "quality_rating",
                    "status",
                    "updated_at",
                ],
                name="task_annot_cover_updated_idx",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
