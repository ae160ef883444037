"""PostgreSQL only: the descending rating order, blank ratings last, read from an index.

Unrated tasks come last in both directions. The ``(quality_rating, id)`` index gives the
ascending order; scanned backwards it would give the descending one with the blanks first,
so PostgreSQL gets a second index in exactly that order. SQLite needs none: it reads a
non-natural null order from one index in two passes.
"""

from django.db import migrations

INDEX = "task_rating_desc_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON admin_explorer_annotationtask "
            "(quality_rating DESC NULLS LAST, id DESC)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("admin_explorer", "0007_savedview")]

    operations = [migrations.RunPython(create_index, drop_index)]
