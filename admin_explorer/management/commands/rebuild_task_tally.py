"""Recount the Data Explorer's task tallies from the task table.

The triggers keep the tallies exact for every write made through SQL; this picks up writes
that went around them (a file-level restore, a load with triggers disabled). ``--check``
only reports the groups that drifted and exits non-zero when any did.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from admin_explorer import tally

#: What each tally's groups are called in the report.
LABELS = {
    tally.GROUPS: lambda job_id, dataset_id, status: (
        f"project {job_id}, dataset {dataset_id}, {status}"
    ),
    tally.ANNOTATORS: lambda annotator_id, status: f"annotator {annotator_id}, {status}",
    tally.DAYS: lambda day, status: f"created {day} (UTC), {status}",
    tally.RATINGS: lambda rating, status: f"rating {rating} (-1: none), {status}",
    tally.ANNOTATOR_PROJECTS: lambda job_id, annotator_id: (
        f"project {job_id}, annotator {annotator_id}"
    ),
    tally.MONTHS: lambda month, job_id, dataset_id, status: (
        f"created {str(month)[:7]} (UTC), project {job_id}, dataset {dataset_id}, {status}"
    ),
}


class Command(BaseCommand):
    help = "Recount the task tallies behind the Data Explorer's counts and filter menus."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Report drift without changing anything."
        )

    def handle(self, *args, check=False, **options):
        if not tally.available():
            self.stdout.write("Nothing to do: this database keeps no tally.")
            return
        drifted = {}
        with transaction.atomic(), connection.cursor() as cursor:
            tally.lock_tasks(cursor)
            for kept in tally.TALLIES:
                cursor.execute(kept.drift(connection.vendor))
                drifted[kept] = cursor.fetchall()
                for *key, stored, actual in drifted[kept][:20]:
                    self.stdout.write(f"  {LABELS[kept](*key)}: tally {stored}, tasks {actual}")
            differing = sum(len(rows) for rows in drifted.values())
            if check:
                if differing:
                    raise CommandError(f"{differing} tally groups differ from the tasks.")
                self.stdout.write(self.style.SUCCESS("The task tallies match the tasks."))
                return
            summary = []
            for kept in tally.TALLIES:
                for statement in kept.rebuild(connection.vendor):
                    cursor.execute(statement)
                cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(n), 0) FROM {kept.table}")
                groups, tasks = cursor.fetchone()
                summary.append(f"{tasks:,} tasks into {groups:,} groups ({kept.key})")
        self.stdout.write(
            self.style.SUCCESS(f"Recounted {'; '.join(summary)}; {differing} had drifted.")
        )
