"""The annotator-project tally (tasks per project and annotator) and its triggers.

Like 0006 and 0012–0015: ``AnnotatorProjectTally`` is unmanaged, its table is created here
next to the triggers that are its only writers, and it is filled from the tasks already there.
"""

import django.db.models.deletion
from django.db import migrations, models

from admin_explorer import tally


class Migration(migrations.Migration):
    dependencies = [
        ("admin_explorer", "0015_month_tally"),
        ("interviews", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AnnotatorProjectTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("n", models.BigIntegerField(default=0)),
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
                    "job",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="interviews.job",
                    ),
                ),
            ],
            options={
                "db_table": "admin_explorer_annotatorprojecttally",
                "managed": False,
                "constraints": [
                    models.UniqueConstraint(
                        fields=("job", "annotator"), name="annotator_project_group"
                    )
                ],
            },
        ),
        migrations.RunPython(*tally.ANNOTATOR_PROJECTS.migration("AnnotatorProjectTally")),
    ]
