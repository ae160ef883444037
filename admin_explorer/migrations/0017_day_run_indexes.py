"""Indexes for a date range sorted by update time, name or status: per UTC day of creation
(the day tally's expression), in that order. See ``admin_explorer.day_runs``."""

import admin_explorer.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("admin_explorer", "0016_annotator_project_tally"),
        ("interviews", "0004_interview_usage_and_transcript_order"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="annotationtask",
            index=models.Index(
                admin_explorer.expressions.CreationDay("created_at"),
                models.F("updated_at"),
                models.F("id"),
                name="task_day_updated_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="annotationtask",
            index=models.Index(
                admin_explorer.expressions.CreationDay("created_at"),
                models.F("name"),
                models.F("id"),
                name="task_day_name_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="annotationtask",
            index=models.Index(
                admin_explorer.expressions.CreationDay("created_at"),
                models.F("status"),
                models.F("id"),
                name="task_day_status_idx",
            ),
        ),
    ]
