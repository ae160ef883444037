"""Entry points of the recording pipeline: mixing and upload registration (``exporting`` runs exports).

Other apps call ``request_mixing`` only. Everything here is synchronous ORM
code: from async code (the consumer) call it through ``sync_to_async``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from interviews.models import Interview

from . import storage
from .messages import without_server_paths
from .mixing import mix_layers_to_files
from .models import MediaExport
from .picture import summarize
from .spool import SAMPLE_RATE, SessionSpool
from .stored_spool import all_sessions, find_session, latest_session
from .timeline import build_timeline, default_zero

logger = logging.getLogger("media_export")

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class ExportError(Exception):
    """The export cannot proceed; the message is shown to operators and the client."""


# -- names in storage ---------------------------------------------------------

AUDIO_PREFIX = "uploads/audio"
VIDEO_PREFIX = "uploads/videos"


def media_relpath(path: Path) -> str:
    return Path(path).resolve().relative_to(Path(settings.MEDIA_ROOT).resolve()).as_posix()


def video_output_name(interview_id: int) -> str:
    return f"{VIDEO_PREFIX}/{int(interview_id)}.mp4"


def media_url(relpath: str) -> str:
    return settings.MEDIA_URL.rstrip("/") + "/" + relpath


# -- records ------------------------------------------------------------------


def get_export(interview_id: int, *, lock: bool = False) -> MediaExport:
    """The interview's export record, created on first use (caller holds a transaction to lock)."""
    qs = MediaExport.objects.select_for_update() if lock else MediaExport.objects
    try:
        return qs.get(interview_id=interview_id)
    except MediaExport.DoesNotExist:
        MediaExport.objects.get_or_create(interview_id=interview_id)
        return qs.get(interview_id=interview_id)


def _save(export: MediaExport, **fields) -> None:
    for key, value in fields.items():
        setattr(export, key, value)
    export.save(update_fields=[*fields, "updated_at"])


def _update_export(interview_id: int, **fields) -> None:
    """Set ``fields`` on the export record without loading it (``updated_at`` too)."""
    MediaExport.objects.filter(pk=interview_id).update(**fields, updated_at=timezone.now())


def select_session(interview_id: int, export: MediaExport | None = None) -> SessionSpool | None:
    """The session whose audio belongs with the upload: the one the browser named, else
    the one whose end was reported, else the latest one with audio."""
    for session_id in (
        export.video_session_id if export else "",
        export.audio_session_id if export else "",
    ):
        if session_id:
            spool = find_session(interview_id, session_id)
            if spool is not None and (spool.mic or spool.ai):
                return spool
    return latest_session(interview_id)


def sessions_with_audio(interview_id: int, *, strict: bool = True) -> list[SessionSpool]:
    """Every session of the interview that holds audio, oldest first (one per page load)."""
    return [s for s in all_sessions(interview_id, strict=strict) if s.mic or s.ai]


# -- mixing -------------------------------------------------------------------


@dataclass
class MixOutcome:
    paths: dict[str, str]  # "mic" / "ai" / "mixed" -> name in the media storage
    summary: dict
    zero: float
    basis: str


def save_mixed_audio(
    interview: Interview | int,
    *,
    session: SessionSpool | None = None,
    sessions: list[SessionSpool] | None = None,
    zero: float | None = None,
    basis: str | None = None,
    min_seconds: float = 0.0,
) -> MixOutcome:
    """Write ``<id>_mic.wav``, ``<id>_ai.wav`` and ``<id>_mixed.wav`` and record them.

    Idempotent: the spool is only read, files are replaced atomically. Without
    ``zero`` the WAVs keep the video's timeline if this upload was already aligned,
    else they start at ``recording_started``. ``sessions``: several sessions summed on
    one timeline (an interview recorded in several segments); without it, an interview
    whose export placed several segments is mixed that way again.
    """
    interview_id = interview if isinstance(interview, int) else interview.pk
    try:
        export = get_export(interview_id)
        if sessions is None and session is None and len(export.segment_timeline or []) > 1:
            sessions = sessions_with_audio(interview_id)
        if not sessions:
            if session is None:
                session = select_session(interview_id, export)
            sessions = [session] if session is not None else []
        if not sessions:
            raise ExportError("no spooled audio for this interview")
        if zero is None and export.timeline_basis == "video" and export.timeline_zero is not None:
            zero, basis = export.timeline_zero, "video"
        if zero is None:  # several sessions share the first one's default zero
            zero, basis = default_zero(sessions[0])
        timelines = [build_timeline(spool, zero=zero, basis=basis) for spool in sessions]
        timeline = timelines[0]
        with storage.staging_dir(AUDIO_PREFIX) as directory:
            mixed = mix_layers_to_files(
                list(zip(sessions, timelines, strict=True)),
                directory,
                str(interview_id),
                min_length=round(min_seconds * SAMPLE_RATE),
            )
            paths = {
                name: storage.publish(path, f"{AUDIO_PREFIX}/{path.name}")
                for name, path in mixed.paths.items()
            }
        summary = summarize(mixed.mic_frame_rms, timelines, mixed.samples)
    except Exception as exc:
        logger.error("Audio mixing failed for interview %s: %s", interview_id, exc)
        _update_export(interview_id, mix_error=without_server_paths(str(exc))[:2000])
        raise
    Interview.objects.filter(pk=interview_id).update(audio_paths=paths, updated_at=timezone.now())
    _update_export(
        interview_id,
        mixed_at=timezone.now(),
        mix_error="",
        timeline=summary,
        timeline_zero=timeline.zero,
        timeline_basis=timeline.basis,
    )
    logger.info(
        "Mixed audio for interview %s: %.1f s on the %s timeline (%d mic, %d AI chunks)",
        interview_id,
        summary["duration"],
        timeline.basis,
        len(timeline.mic),
        len(timeline.ai),
    )
    return MixOutcome(paths, summary, timeline.zero, timeline.basis)


def request_mixing(interview_id: int, session_id: str | None = None) -> None:
    """A session ended: note it and queue the mix (called by realtime)."""
    from .tasks import mix_interview_task

    with transaction.atomic():
        export = get_export(interview_id, lock=True)
        _save(
            export,
            audio_session_id=session_id or export.audio_session_id,
            session_ended_at=timezone.now(),
        )
    result = mix_interview_task.enqueue(int(interview_id))
    logger.info(
        "Mixing requested for interview %s (session %s, task %s)",
        interview_id,
        session_id,
        result.id,
    )


def mix_interview(interview_id: int) -> MixOutcome | None:
    """The mix task: mix the spool, then start the export if it was waiting for audio."""
    if not Interview.objects.filter(pk=interview_id).exists():
        logger.warning("Mixing skipped: interview %s does not exist", interview_id)
        return None
    outcome = save_mixed_audio(interview_id)
    with transaction.atomic():
        export = get_export(interview_id, lock=True)
        if export.video_upload and _needs_export_after_mix(export):
            enqueue_export(export)
    return outcome


def _needs_export_after_mix(export: MediaExport) -> bool:
    """The export was parked for this audio, or ran before the session's (latest) end."""
    if export.status == MediaExport.Status.WAITING_FOR_AUDIO:
        return True
    finished = export.status in (MediaExport.Status.DONE, MediaExport.Status.FAILED)
    return bool(
        finished
        and export.session_ended_at
        and export.session_ended_at != export.exported_session_end
    )


# -- upload -------------------------------------------------------------------


def register_upload(
    interview: Interview, temp_path: Path, ext: str, session_id: str = ""
) -> MediaExport:
    """Store a verified upload (replacing an earlier one) and queue the export."""
    size = Path(temp_path).stat().st_size
    final = storage.publish(Path(temp_path), f"{VIDEO_PREFIX}/{interview.pk}_upload.{ext}")
    Path(temp_path).unlink(missing_ok=True)
    for other in ("webm", "mp4"):
        stale = f"{VIDEO_PREFIX}/{interview.pk}_upload.{other}"
        if other != ext and storage.exists(stale):
            storage.delete(stale)
    with transaction.atomic():
        export = get_export(interview.pk, lock=True)
        _save(
            export,
            video_upload=final,
            video_session_id=(session_id or "")[:100],
            uploaded_at=timezone.now(),
        )
        enqueue_export(export)
    logger.info("Video uploaded for interview %s (%s, %d bytes)", interview.pk, ext, size)
    return export


def enqueue_export(export: MediaExport) -> str:
    """Queue the export task and mark the record queued (caller holds the row lock)."""
    from .tasks import export_interview_task

    result = export_interview_task.enqueue(export.interview_id)
    _save(
        export,
        status=MediaExport.Status.QUEUED,
        task_id=str(result.id),
        queued_at=timezone.now(),
        error="",
    )
    return str(result.id)
