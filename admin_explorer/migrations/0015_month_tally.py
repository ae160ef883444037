"""The month tally (tasks per UTC month of creation, project, dataset and status) and its
triggers.

Like 0006 and 0012–0014: ``MonthTally`` is unmanaged, its table is created here next to the
triggers that are its only writers, and it is filled from the tasks already there.
"""

import django.db.models.deletion
from django.db import migrations, models

from admin_explorer import tally


class Migration(migrations.Migration):
    dependencies = [
        ("admin_explorer", "0014_rating_tally"),
        ("interviews", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="MonthTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_month", models.DateField()),
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
                "db_table": "admin_explorer_monthtally",
                "managed": False,
                "constraints": [
                    models.UniqueConstraint(
                        fields=("created_month", "job", "dataset", "status"),
                        name="month_tally_group",
                    )
                ],
            },
        ),
        migrations.RunPython(*tally.MONTHS.migration("MonthTally")),
    ]
