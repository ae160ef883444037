"""Recount the Data Explorer's task tally from the task table.

The triggers keep the tally exact for every write made through SQL; this picks up writes
that went around them (a file-level restore, a load with triggers disabled). ``--check``
only reports the groups that drifted and exits non-zero when any did.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from admin_explorer import tally


class Command(BaseCommand):
    help = "Recount the task tally behind the Data Explorer's counts and filter menus."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Report drift without changing anything."
        )

    def handle(self, *args, check=False, **options):
        if not tally.available():
            self.stdout.write("Nothing to do: this database keeps no tally.")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            tally.lock_tasks(cursor)
            cursor.execute(tally.DRIFT)
            drifted = cursor.fetchall()
            for job_id, dataset_id, status, stored, actual in drifted[:20]:
                self.stdout.write(
                    f"  project {job_id}, dataset {dataset_id}, {status}: "
                    f"tally {stored}, tasks {actual}"
                )
            if check:
                if drifted:
                    raise CommandError(f"{len(drifted)} tally groups differ from the tasks.")
                self.stdout.write(self.style.SUCCESS("The task tally matches the tasks."))
                return
            for statement in tally.REBUILD:
                cursor.execute(statement)
            cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(n), 0) FROM {tally.TABLE}")
            groups, tasks = cursor.fetchone()
        self.stdout.write(
            self.style.SUCCESS(
                f"Recounted {tasks:,} tasks into {groups:,} groups ({len(drifted)} had drifted)."
            )
        )
