"""PostgreSQL only: a trigram index so the task-name substring search need not scan every row.

Django's ``icontains`` compiles to ``UPPER(name::text) LIKE UPPER(%s)`` on PostgreSQL, so the
index is on that expression. ``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database
owner may create it. SQLite has no such index; there the search scans the task names.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "task_name_upper_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON admin_explorer_annotationtask "
            "USING gin ((UPPER(name::text)) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("admin_explorer", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index),
    ]
