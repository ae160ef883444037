"""No interview left behind: the server finishes what a vanished browser could not.

A browser that ends normally uploads its last recording part and completes the
segment. One that never comes back (a closed laptop, a crash, a server restart in the
middle) leaves an interview ``in_progress`` or a recording never completed. The live
session finalises its own interview when the resume window passes; the export
worker's sweep catches what a dead process left behind. Either way: the interview is
completed (``abandoned``), the audio is mixed from the spool, and the MP4 is made from
whatever recording parts arrived, or from the audio over a still frame, with the
reason kept for staff.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from interviews import services as interview_services
from interviews.models import Interview

from . import recording
from .models import MediaExport, SpoolSegment
from .services import _save, enqueue_export, get_export, register_upload, request_mixing
from .spool import session_dirs
from .uploads import sniff_container

logger = logging.getLogger("media_export")

#: Beyond the resume window, how long a silent interview waits before the sweep takes it.
SWEEP_GRACE_SECONDS = 10.0


def export_recording(
    interview: Interview, *, segment: int | None = None, session_id: str = ""
) -> MediaExport | None:
    """Join a segment's uploaded parts into ``video_upload`` and queue the export.

    Without ``segment``: the latest segment whose first part arrived. When several
    segments arrived the exporter reads them all from their parts and places each on the
    interview clock; ``video_upload`` is then the last one joined. Once the interview has
    finished, the recording becomes final: no part can be added or replaced after.
    Returns None when no part arrived.
    """
    playable = recording.playable_segments(interview.pk)
    chosen = [s for s in playable if segment is None or s.segment == segment]
    if not chosen:
        return None
    directory = Path(settings.UPLOADS_VIDEOS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".{interview.pk}_", suffix=".joining")
    os.close(fd)
    temp = Path(name)
    try:
        recording.assemble(interview.pk, chosen[-1], temp)
        kind = sniff_container(name) or "webm"
        export = register_upload(interview, temp, kind, session_id)
    finally:
        temp.unlink(missing_ok=True)
    if Interview.objects.get(pk=interview.pk).is_finished:
        recording.close(interview.pk)
    return export


def finalise_recording(interview_id: int) -> str:
    """Make the recording final with what arrived and queue its export. Returns what was done."""
    interview = Interview.objects.get(pk=interview_id)
    if recording.is_closed(interview_id):
        return "already final"
    if export_recording(interview) is not None:
        return "exported from parts"
    with transaction.atomic():
        export = get_export(interview_id, lock=True)
        if export.video_upload:
            recording.close(interview_id)  # a whole-file upload arrived: that is the video
            return "whole upload"
        reason = "The candidate's browser sent no video before the interview ended."
        _save(export, no_video_reason=reason)
        enqueue_export(export)
    recording.close(interview_id)
    logger.warning(
        "Interview %s: no video arrived; exporting its audio over a still frame", interview_id
    )
    return "audio only"


def finalise_abandoned(interview_id: int, end_reason: str = Interview.EndReason.ABANDONED) -> None:
    """The browser is gone for good: complete the interview, mix, export what arrived."""
    if interview_services.complete_interview(interview_id=interview_id, end_reason=end_reason):
        request_mixing(interview_id)
    finalise_recording(interview_id)


def last_activity(interview: Interview) -> float:
    """Wall time of the interview's last spool write (or its start when there is none).

    A node that ships to object storage shows its writes through the segment rows, so a
    sweep on a machine without that node's disk still sees a live interview as live.
    """
    shipped = SpoolSegment.objects.filter(interview_id=interview.pk).aggregate(
        last=Max("created_at")
    )["last"]
    latest = shipped.timestamp() if shipped is not None else None
    for directory in session_dirs(interview.pk):
        try:
            mtime = (directory / "index.jsonl").stat().st_mtime
        except OSError:
            continue
        latest = mtime if latest is None else max(latest, mtime)
    if latest is None:
        return interview.started_at.timestamp() if interview.started_at else 0.0
    return latest


def sweep(now: float | None = None) -> list[int]:
    """Finalise interviews no live session is looking after. Returns their ids.

    ``in_progress`` with no spool write for longer than the resume window (plus grace):
    its process died, so no expiry will ever run. ``completed`` longer ago than that
    with a recording never made final: the browser never finished its upload.
    """
    now = time.time() if now is None else now
    quiet = settings.SESSION_RESUME_SECONDS + SWEEP_GRACE_SECONDS
    done: list[int] = []
    for interview in Interview.objects.filter(status=Interview.Status.IN_PROGRESS):
        if now - last_activity(interview) > quiet:
            logger.warning(
                "Interview %s: no session activity for %.0f s; finalising it",
                interview.pk,
                now - last_activity(interview),
            )
            finalise_abandoned(interview.pk)
            done.append(interview.pk)
    cutoff = timezone.now() - timedelta(seconds=quiet)
    ended = Interview.objects.filter(status=Interview.Status.COMPLETED, ended_at__lt=cutoff)
    for interview in ended:
        if not recording.is_closed(interview.pk):
            logger.warning("Interview %s: recording never completed; finalising it", interview.pk)
            finalise_recording(interview.pk)
            done.append(interview.pk)
    return done
