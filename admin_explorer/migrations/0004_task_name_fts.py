"""SQLite only: an FTS5 trigram index over task names, the counterpart of 0002's pg_trgm index.

An external-content FTS5 table holds only the index (the names stay in the task table);
triggers keep it in step with inserts, renames and deletes. SQLite's ``LIKE ... ESCAPE``
cannot use it, so the search asks it with ``MATCH`` (see ``TaskNameIndex``).
"""

from django.db import migrations, models

import admin_explorer.models
from admin_explorer import fulltext

TABLE = fulltext.TABLE
CREATE = fulltext.CREATE
DROP = fulltext.DROP


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("admin_explorer", "0003_task_dataset_status_index")]

    operations = [
        migrations.CreateModel(
            name="TaskNameIndex",
            fields=[
                (
                    "task",
                    models.OneToOneField(
                        db_column="rowid",
                        on_delete=models.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="admin_explorer.annotationtask",
                    ),
                ),
                ("name", admin_explorer.models.FullTextField()),
            ],
            options={"db_table": TABLE, "managed": False},
        ),
        migrations.RunPython(create_index, drop_index),
    ]
