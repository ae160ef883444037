"""The task tally (counts per project, dataset and status) and the triggers that keep it exact.

``TaskTally`` is unmanaged: its table is created here, next to the triggers that are its only
writers, and the router keeps it out of fixtures. Also swaps the annotator covering index for
one that carries the status as well.
"""

import django.db.models.deletion
from django.db import migrations, models

from admin_explorer import tally


class Migration(migrations.Migration):
    dependencies = [
        ("admin_explorer", "0005_facet_covering_indexes"),
        ("interviews", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="interviews.job",
                    ),
                ),
                (
                    "dataset",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="admin_explorer.dataset",
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
                "db_table": "admin_explorer_tasktally",
                "managed": False,
                "constraints": [
                    models.UniqueConstraint(
                        fields=("job", "dataset", "status"), name="task_tally_group"
                    )
                ],
            },
        ),
        migrations.RunPython(*tally.GROUPS.migration("TaskTally")),
        migrations.RemoveIndex(
            model_name="annotationtask",
            name="task_annot_created_cover_idx",
        ),
        migrations.AddIndex(
            model_name="annotationtask",
            index=models.Index(
                fields=["annotator", "created_at", "id", "job", "dataset", "quality_rating", "status"],
                name="task_annot_cover_status_idx",
            ),
        ),
    ]
