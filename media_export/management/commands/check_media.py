"""``check_media``: is this machine able to mix and export? Non-zero exit when not."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from media_export import ffmpeg

REQUIRED_ENCODERS = ("aac", "libx264")


class Command(BaseCommand):
    help = "Check FFmpeg (version, AAC and H.264 encoders) and the media folders"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--min-free",
            type=float,
            default=1.0,
            help="Free space required on each folder, in GiB (default 1)",
        )

    def handle(self, *, min_free: float, **options) -> None:
        problems: list[str] = []
        try:
            info = ffmpeg.locate()
            self.stdout.write(f"FFmpeg: {info.path} (version {info.version}, from {info.source})")
            self.stdout.write(
                f"ffprobe: {info.ffprobe}"
                if info.ffprobe
                else "ffprobe: not found (probing uses `ffmpeg -i`)"
            )
            available = ffmpeg.encoders()
            for name in REQUIRED_ENCODERS:
                if name in available:
                    self.stdout.write(f"  encoder {name}: ok")
                else:
                    problems.append(f"FFmpeg has no {name} encoder")
        except Exception as exc:
            problems.append(f"FFmpeg unusable: {exc}")
        for label, directory in (
            ("audio", settings.UPLOADS_AUDIO_DIR),
            ("videos", settings.UPLOADS_VIDEOS_DIR),
            ("spool", settings.SPOOL_DIR),
        ):
            problems += self._check_dir(label, Path(directory), min_free)
        for problem in problems:
            self.stderr.write(self.style.ERROR(f"PROBLEM: {problem}"))
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found")
        self.stdout.write(self.style.SUCCESS("Media setup OK"))

    def _check_dir(self, label: str, directory: Path, min_free_gib: float) -> list[str]:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".check-"):
                pass
        except OSError as exc:
            return [f"cannot write to {label} folder {directory}: {exc}"]
        free = shutil.disk_usage(directory).free
        self.stdout.write(f"{label}: {directory} writable, {free / 1024**3:.1f} GiB free")
        if free < min_free_gib * 1024**3:
            return [
                f"{label} folder {directory} has only {free / 1024**3:.2f} GiB free "
                f"(need {min_free_gib} GiB)"
            ]
        return []
