"""``prune_uploads --older-than 30d [--dry-run]``: free disk from old media files.

Never touches an interview that is still in progress or whose export is
pending. References to removed files are cleared from the records.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from interviews.models import Interview
from media_export.models import MediaExport
from media_export.services import media_relpath

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_OWNER = re.compile(r"^(\d+)[_.]")


def parse_age(text: str) -> float:
    match = _AGE.match(text.strip().lower())
    if not match:
        raise CommandError(f"--older-than must look like 30d, 12h, 90m or 2w, not {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


class Command(BaseCommand):
    help = "Remove uploaded and exported media older than a given age"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", required=True, help="Age such as 30d, 12h, 2w")
        parser.add_argument("--dry-run", action="store_true", help="Only report what would go")

    def handle(self, *, older_than: str, dry_run: bool, **options) -> None:
        cutoff = time.time() - parse_age(older_than)
        busy = set(
            Interview.objects.filter(status=Interview.Status.IN_PROGRESS).values_list(
                "pk", flat=True
            )
        ) | set(
            MediaExport.objects.filter(
                status__in=[
                    MediaExport.Status.QUEUED,
                    MediaExport.Status.RUNNING,
                    MediaExport.Status.WAITING_FOR_AUDIO,
                ]
            ).values_list("pk", flat=True)
        )
        victims: list[tuple[Path, int, int | None]] = []
        skipped = 0
        for directory in (Path(settings.UPLOADS_AUDIO_DIR), Path(settings.UPLOADS_VIDEOS_DIR)):
            if not directory.exists():
                continue
            for path in sorted(directory.rglob("*")):
                if not path.is_file():
                    continue
                stat = path.stat()
                if stat.st_mtime >= cutoff:
                    continue
                owner = _OWNER.match(path.name)
                interview_id = int(owner.group(1)) if owner else None
                if interview_id is not None and interview_id in busy:
                    skipped += 1
                    continue
                victims.append((path, stat.st_size, interview_id))
        verb = "Would remove" if dry_run else "Removing"
        freed = 0
        for path, size, _ in victims:
            self.stdout.write(f"{verb} {media_relpath(path)} ({human(size)})")
            if not dry_run:
                path.unlink(missing_ok=True)
            freed += size
        if not dry_run:
            self._clear_references(victims)
        summary = (
            f"{'Would free' if dry_run else 'Freed'} {human(freed)} ({freed} bytes) "
            f"in {len(victims)} file(s)"
        )
        if skipped:
            summary += f"; kept {skipped} file(s) of interviews still in progress"
        self.stdout.write(self.style.SUCCESS(summary))

    def _clear_references(self, victims) -> None:
        removed = {media_relpath(path) for path, _, _ in victims}
        for interview_id in {i for _, _, i in victims if i is not None}:
            interview = Interview.objects.filter(pk=interview_id).first()
            if interview is None:
                continue
            paths = {k: v for k, v in (interview.audio_paths or {}).items() if v not in removed}
            video_url = interview.video_url
            if video_url and video_url.removeprefix(settings.MEDIA_URL) in removed:
                video_url = ""
            Interview.objects.filter(pk=interview_id).update(audio_paths=paths, video_url=video_url)
            MediaExport.objects.filter(pk=interview_id, video_upload__in=removed).update(
                video_upload=""
            )
