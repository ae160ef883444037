"""The annotator tally (tasks per annotator and status) and the triggers that keep it exact.

Like 0006: ``AnnotatorTally`` is unmanaged, its table is created here next to the triggers that
are its only writers, and it is filled from the tasks already there.
"""

import django.db.models.deletion
from django.db import migrations, models

from admin_explorer import tally


def create_tally(apps, schema_editor):
    triggers = tally.ANNOTATORS.create_statements(schema_editor.connection.vendor)
    if not triggers:
        return  # no tally on this database: the explorer counts tasks directly
    schema_editor.create_model(apps.get_model("admin_explorer", "AnnotatorTally"))
    for statement in [*triggers, *tally.ANNOTATORS.rebuild(schema_editor.connection.vendor)]:
        schema_editor.execute(statement)


def drop_tally(apps, schema_editor):
    statements = tally.ANNOTATORS.drop_statements(schema_editor.connection.vendor)
    if not statements:
        return
    for statement in statements:
        schema_editor.execute(statement)
    schema_editor.delete_model(apps.get_model("admin_explorer", "AnnotatorTally"))


class Migration(migrations.Migration):
    dependencies = [
        ("admin_explorer", "0011_date_cover_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="AnnotatorTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "annotator",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="admin_explorer.annotator",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("in_progress", "In progress"),
                            ("submitted", "Submitted"),
                            ("in_review", "In review"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                        ],
                        max_length=20,
                    ),
                ),
                ("n", models.BigIntegerField(default=0)),
            ],
            options={
                "db_table": "admin_explorer_annotatortally",
                "managed": False,
                "constraints": [
                    models.UniqueConstraint(
                        fields=("annotator", "status"), name="annotator_tally_group"
                    )
                ],
            },
        ),
        migrations.RunPython(create_tally, drop_tally),
    ]
