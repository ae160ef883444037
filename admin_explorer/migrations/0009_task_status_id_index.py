"""The status index carries the id, so a sort by status (id breaking ties) reads it in order
instead of sorting every task of a status."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("admin_explorer", "0008_task_rating_desc_index")]

    operations = [
        migrations.RemoveIndex(model_name="annotationtask", name="task_status_idx"),
        migrations.AddIndex(
            model_name="annotationtask",
            index=models.Index(fields=["status", "id"], name="task_status_id_idx"),
        ),
    ]
