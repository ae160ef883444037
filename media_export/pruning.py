"""Removing the audio spool and recording parts of interviews exported long enough ago.

A spool is the raw record of a session (about 265 MB per interview-hour on the node
that received it, plus its shipped segments); once the MP4 and the WAVs are
exported and the retention period has passed, nothing needs it; nor the recording's
uploaded parts, which the export joined into ``uploads/videos/<id>_upload.*``. An
interview whose session ended again after its last export (a remix is due) keeps both.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.core.files.storage import default_storage
from django.db.models import F
from django.utils import timezone

from . import recording, storage
from .models import MediaExport, SpoolSegment
from .spool import interview_spool_dir


@dataclass
class PruneReport:
    interviews: list[int] = field(default_factory=list)
    local_bytes: int = 0
    stored_bytes: int = 0
    segments: int = 0
    parts: int = 0  # recording parts (the joined upload and the MP4 stay)


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def prunable_interviews(retention_seconds: float) -> list[int]:
    """Interviews exported at least ``retention_seconds`` ago, with nothing newer to mix."""
    cutoff = timezone.now() - timedelta(seconds=retention_seconds)
    return list(
        MediaExport.objects.filter(status=MediaExport.Status.DONE, finished_at__lte=cutoff)
        .filter(exported_session_end=F("session_ended_at"))
        .values_list("pk", flat=True)
        .order_by("pk")
    )


def _recording_parts(interview_id: int) -> list[str]:
    """Names of the interview's uploaded recording parts (the final marker is kept)."""
    root = f"{recording.PREFIX}/{int(interview_id)}"
    try:
        segment_dirs, _ = default_storage.listdir(root)
    except FileNotFoundError:
        return []
    names = []
    for segment in segment_dirs:
        _, files = default_storage.listdir(f"{root}/{segment}")
        names += [f"{root}/{segment}/{name}" for name in files]
    return names


def prune_spools(*, retention_seconds: float, dry_run: bool = False) -> PruneReport:
    """This node's spool folders, the shipped segments and the recording parts of those
    interviews."""
    report = PruneReport()
    for interview_id in prunable_interviews(retention_seconds):
        folder = interview_spool_dir(interview_id)
        segments = list(SpoolSegment.objects.filter(interview_id=interview_id))
        parts = _recording_parts(interview_id)
        if not folder.exists() and not segments and not parts:
            continue
        report.interviews.append(interview_id)
        report.parts += len(parts)
        report.stored_bytes += sum(storage.size(name) for name in parts)
        if folder.exists():
            report.local_bytes += _folder_size(folder)
        report.stored_bytes += sum(s.size for s in segments)
        report.segments += len(segments)
        if dry_run:
            continue
        for name in parts:
            storage.delete(name)
        for segment in segments:
            storage.delete(segment.name)
        SpoolSegment.objects.filter(pk__in=[s.pk for s in segments]).delete()
        shutil.rmtree(folder, ignore_errors=True)
    return report
