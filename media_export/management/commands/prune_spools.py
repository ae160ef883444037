"""``prune_spools [--older-than 7d] [--dry-run]``: drop spools of exported interviews.

Run it on every node (each has its own spool folder) and anywhere for the shipped
segments; the default age is ``SPOOL_RETENTION_DAYS``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from media_export.management.commands.prune_uploads import human, parse_age
from media_export.pruning import prune_spools


class Command(BaseCommand):
    help = "Remove the audio spools of interviews exported longer ago than the retention period"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than", help="Age since the export, such as 7d or 12h (default: retention)"
        )
        parser.add_argument("--dry-run", action="store_true", help="Only report what would go")

    def handle(self, *, older_than: str | None, dry_run: bool, **options) -> None:
        seconds = parse_age(older_than) if older_than else settings.SPOOL_RETENTION_DAYS * 86400
        report = prune_spools(retention_seconds=seconds, dry_run=dry_run)
        verb = "Would free" if dry_run else "Freed"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {human(report.local_bytes)} on this node and "
                f"{human(report.stored_bytes)} in {report.segments} stored segment(s) "
                f"and {report.parts} recording part(s) "
                f"of {len(report.interviews)} interview(s)"
            )
        )
