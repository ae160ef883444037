"""Removing the audio spool of interviews whose export is done and old enough.

A spool is the raw record of a session (about 265 MB per interview-hour on the node
that received it, plus its shipped segments); once the MP4 and the WAVs are
exported and the retention period has passed, nothing needs it. An interview whose
session ended again after its last export (a remix is due) keeps its spool.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.db.models import F
from django.utils import timezone

from . import storage
from .models import MediaExport, SpoolSegment
from .spool import interview_spool_dir


@dataclass
class PruneReport:
    interviews: list[int] = field(default_factory=list)
    local_bytes: int = 0
    stored_bytes: int = 0
    segments: int = 0


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


def prune_spools(*, retention_seconds: float, dry_run: bool = False) -> PruneReport:
    """This node's spool folders and the shipped segments of those interviews."""
    report = PruneReport()
    for interview_id in prunable_interviews(retention_seconds):
        folder = interview_spool_dir(interview_id)
        segments = list(SpoolSegment.objects.filter(interview_id=interview_id))
        if not folder.exists() and not segments:
            continue
        report.interviews.append(interview_id)
        if folder.exists():
            report.local_bytes += _folder_size(folder)
        report.stored_bytes += sum(s.size for s in segments)
        report.segments += len(segments)
        if dry_run:
            continue
        for segment in segments:
            storage.delete(segment.name)
        SpoolSegment.objects.filter(pk__in=[s.pk for s in segments]).delete()
        shutil.rmtree(folder, ignore_errors=True)
    return report
