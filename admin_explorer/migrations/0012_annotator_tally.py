"""The annotator tally (tasks per annotator and status) and the triggers that keep it exact.

Like 0006: ``AnnotatorTally`` is unmanaged, its table is created here next to the triggers that
are its only writers, and it is filled from the tasks already there.
"""

import django.db.models.deletion
from django.db import migrations, models

from admin_explorer import tally


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
        migrations.RunPython(*tally.ANNOTATORS.migration("AnnotatorTally")),
    ]
