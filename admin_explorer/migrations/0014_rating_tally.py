"""The rating tally (tasks per quality rating, -1 for none, and status) and its triggers.

Like 0006, 0012 and 0013: ``RatingTally`` is unmanaged, its table is created here next to the
triggers that are its only writers, and it is filled from the tasks already there.
"""

from django.db import migrations, models

from admin_explorer import tally


class Migration(migrations.Migration):
    dependencies = [
        ("admin_explorer", "0013_day_tally"),
    ]

    operations = [
        migrations.CreateModel(
            name="RatingTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quality_rating", models.DecimalField(decimal_places=1, max_digits=2)),
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
                "db_table": "admin_explorer_ratingtally",
                "managed": False,
                "constraints": [
                    models.UniqueConstraint(
                        fields=("quality_rating", "status"), name="rating_tally_group"
                    )
                ],
            },
        ),
        migrations.RunPython(*tally.RATINGS.migration("RatingTally")),
    ]
