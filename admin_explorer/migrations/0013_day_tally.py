"""The day tally (tasks per UTC day of creation and status) and the triggers that keep it exact.

Like 0006 and 0012: ``DayTally`` is unmanaged, its table is created here next to the triggers
that are its only writers, and it is filled from the tasks already there.
"""

from django.db import migrations, models

from admin_explorer import tally


class Migration(migrations.Migration):
    dependencies = [
        ("admin_explorer", "0012_annotator_tally"),
    ]

    operations = [
        migrations.CreateModel(
            name="DayTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_day", models.DateField()),
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
                "db_table": "admin_explorer_daytally",
                "managed": False,
                "constraints": [
                    models.UniqueConstraint(
                        fields=("created_day", "status"), name="day_tally_group"
                    )
                ],
            },
        ),
        migrations.RunPython(*tally.DAYS.migration("DayTally")),
    ]
