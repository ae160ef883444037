"""Rebuild SQLite's task-name search index from the task table.

The triggers keep it in step with every write made through SQL; rows that arrived around
them (a file-level restore, a load with triggers dropped) are picked up here.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from admin_explorer import fulltext


class Command(BaseCommand):
    help = "Rebuild the SQLite FTS5 index behind the Data Explorer's task-name search."

    def handle(self, *args, **options):
        if connection.vendor != "sqlite":
            self.stdout.write(
                "Nothing to do: PostgreSQL keeps its trigram index up to date by itself."
            )
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(fulltext.REBUILD)
            cursor.execute(fulltext.CHECK)
            cursor.execute(f"SELECT COUNT(*) FROM {fulltext.TASKS}")
            (tasks,) = cursor.fetchone()
        self.stdout.write(self.style.SUCCESS(f"Rebuilt the name index over {tasks:,} tasks."))
