"""Gather the task table's statistics after the index changes of 0008 and 0009.

SQLite keeps statistics per index; until ``ANALYZE`` runs, a new index has none and the
planner guesses it highly selective. With ``(status, id)`` unknown, the annotator menu's
1,250 probes each read every task of the filtered statuses (an approved-or-rejected list took
tens of seconds at 1M tasks). PostgreSQL's statistics are per column; the refresh is cheap.
"""

from django.db import migrations

TASKS = "admin_explorer_annotationtask"


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor in ("sqlite", "postgresql"):
        schema_editor.execute(f"ANALYZE {TASKS}")


class Migration(migrations.Migration):
    dependencies = [("admin_explorer", "0009_task_status_id_index")]

    operations = [migrations.RunPython(analyze, migrations.RunPython.noop)]
