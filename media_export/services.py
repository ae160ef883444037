"""Entry points of the recording pipeline: mixing, upload registration, export.

Other apps call ``request_mixing`` only. Everything here is synchronous ORM
code: from async code (the consumer) call it through ``sync_to_async``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from interviews import services as interview_services
from interviews.models import Interview

from . import ffmpeg, storage
from .alignment import Alignment, measure
from .messages import without_server_paths
from .mixing import mix_to_files
from .models import MediaExport
from .muxing import mux, still_frame_with_audio
from .picture import summarize
from .spool import SAMPLE_RATE, SessionSpool
from .stored_spool import coverage_problems, find_session, latest_session
from .timeline import build_timeline

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
    zero: float | None = None,
    basis: str | None = None,
    min_seconds: float = 0.0,
) -> MixOutcome:
    """Write ``<id>_mic.wav``, ``<id>_ai.wav`` and ``<id>_mixed.wav`` and record them.

    Idempotent: the spool is only read, files are replaced atomically. Without
    ``zero`` the WAVs keep the video's timeline if this upload was already aligned,
    else they start at ``recording_started``.
    """
    interview_id = interview if isinstance(interview, int) else interview.pk
    try:
        export = get_export(interview_id)
        if session is None:
            session = select_session(interview_id, export)
        if session is None:
            raise ExportError("no spooled audio for this interview")
        if zero is None and export.timeline_basis == "video" and export.timeline_zero is not None:
            zero, basis = export.timeline_zero, "video"
        timeline = build_timeline(session, zero=zero, basis=basis)
        with storage.staging_dir(AUDIO_PREFIX) as directory:
            mixed = mix_to_files(
                session,
                timeline,
                directory,
                str(interview_id),
                min_length=round(min_seconds * SAMPLE_RATE),
            )
            paths = {
                name: storage.publish(path, f"{AUDIO_PREFIX}/{path.name}")
                for name, path in mixed.paths.items()
            }
        summary = summarize(mixed.mic_frame_rms, timeline, mixed.samples)
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


# -- export -------------------------------------------------------------------


def _session_complete(export: MediaExport, session: SessionSpool | None) -> bool:
    if session is None:
        return False
    if session.ended_cleanly:
        return True
    return export.session_ended_at is not None


def wait_for_audio(
    interview_id: int, wait_seconds: float, progress: Progress = _quiet
) -> SessionSpool | None:
    """Wait until the session's audio is complete (its end arrived), up to ``wait_seconds``."""
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    while True:
        export = get_export(interview_id)
        session = select_session(interview_id, export)
        if _session_complete(export, session):
            return session
        if time.monotonic() >= deadline:
            return None
        logger.info("Waiting for mixed audio… (interview %s)", interview_id)
        progress("Waiting for mixed audio…")
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.05)))


def run_export(
    interview_id: int,
    *,
    task_id: str = "",
    wait_seconds: float | None = None,
    require_session_end: bool = True,
    require_all_audio: bool = True,
    progress: Progress = _quiet,
) -> str:
    """Mix (if needed) → align → WAVs on the video's timeline → MP4. Returns the final status.

    ``require_all_audio``: fail when chunks are missing (an operator's remix turns it off).
    """
    with transaction.atomic():
        export = get_export(interview_id, lock=True)
        _save(
            export,
            status=MediaExport.Status.RUNNING,
            attempts=export.attempts + 1,
            started_at=timezone.now(),
            finished_at=None,
            error="",
            task_id=task_id or export.task_id,
        )
    try:
        return _export(
            interview_id, export, wait_seconds, require_session_end, require_all_audio, progress
        )
    except Exception as exc:
        message = str(exc) or exc.__class__.__name__
        logger.error("Export failed for interview %s: %s", interview_id, message)
        _update_export(
            interview_id,
            status=MediaExport.Status.FAILED,
            error=without_server_paths(message)[-4000:],
            finished_at=timezone.now(),
        )
        raise


def _park_waiting_for_audio(interview_id: int, waited: float) -> bool:
    """Mark the export as waiting for the session's end, unless that end just arrived.

    Runs under the row lock that ``mix_interview`` also takes, so a session end
    racing with this cannot be missed: either we see it, or the mix sees us waiting.
    """
    with transaction.atomic():
        export = get_export(interview_id, lock=True)
        session = select_session(interview_id, export)
        if _session_complete(export, session):
            return False
        if session is None and waited <= 0:
            return False  # nothing will ever come: export with the upload's own audio
        _save(export, status=MediaExport.Status.WAITING_FOR_AUDIO)
    logger.warning(
        "Export of interview %s waits for audio: the session has not ended "
        "(run `manage.py remix_interview %s` to use the spool as it is)",
        interview_id,
        interview_id,
    )
    return True


def session_real_seconds(session: SessionSpool) -> float:
    """How long the session can have run: its first record to its last write, plus slack."""
    index = session.directory / "index.jsonl"
    try:
        last = index.stat().st_mtime
    except OSError:
        return 0.0
    first = session.opened_at if isinstance(session.opened_at, int | float) else last
    span = max(0.0, last - float(first)) + settings.CLIENT_CLOCK_SLACK_SECONDS
    return min(span, float(settings.MAX_INTERVIEW_SECONDS))


def _export_audio_only(interview_id, export, wait_seconds, progress) -> str:
    """No video ever arrived: the interview's audio over a still frame (the reason is kept)."""
    wait = settings.MIX_WAIT_SECONDS if wait_seconds is None else wait_seconds
    session = wait_for_audio(interview_id, wait, progress) or select_session(interview_id, export)
    if session is None:
        raise ExportError(f"no audio and no video arrived ({export.no_video_reason})")
    progress("Writing the WAVs")
    outcome = save_mixed_audio(interview_id, session=session)
    progress("Muxing the audio over a still frame")
    with (
        storage.local_copy(outcome.paths["mixed"]) as mixed,
        storage.staging_dir(VIDEO_PREFIX) as directory,
    ):
        result = still_frame_with_audio(mixed, directory / f"{interview_id}.mp4")
        name = storage.publish(result.path, video_output_name(interview_id))
    url = media_url(name)
    interview_services.mark_exported(interview_id=interview_id, video_url=url)
    _update_export(
        interview_id,
        status=MediaExport.Status.DONE,
        finished_at=timezone.now(),
        error="",
        video_codec=result.video_codec,
        exported_session_end=get_export(interview_id).session_ended_at,
    )
    logger.info("Export done for interview %s: %s (audio only)", interview_id, url)
    return MediaExport.Status.DONE


def _export(interview_id, export, wait_seconds, require_session_end, require_all, progress) -> str:
    if not export.video_upload and export.no_video_reason:
        return _export_audio_only(interview_id, export, wait_seconds, progress)
    if not storage.exists(export.video_upload):
        raise ExportError("no uploaded video for this interview")
    with storage.local_copy(export.video_upload) as video:
        return _export_video(
            interview_id, video, wait_seconds, require_session_end, require_all, progress
        )


def _export_video(interview_id, video, wait_seconds, require_session_end, require_all, progress):
    wait = settings.MIX_WAIT_SECONDS if wait_seconds is None else wait_seconds
    session = wait_for_audio(interview_id, wait, progress)
    if session is None and require_session_end and _park_waiting_for_audio(interview_id, wait):
        return MediaExport.Status.WAITING_FOR_AUDIO
    audio_state = get_export(interview_id)
    if session is None:
        session = select_session(interview_id, audio_state)
    if session is not None and require_all:
        problems = coverage_problems(session)
        if problems:
            raise ExportError(
                "; ".join(problems) + " (`manage.py remix_interview` mixes what there is)"
            )

    progress("Probing the upload")
    info = ffmpeg.probe(video)
    video_start = ffmpeg.first_frame_time(video, "video") or 0.0
    duration = info.duration or ffmpeg.stream_duration(video, "video")

    mixed_path = None
    alignment: Alignment | None = None
    if session is not None:
        progress("Aligning the spooled audio with the video")
        alignment = measure(session, video)
        progress("Writing the WAVs on the video's timeline")
        outcome = save_mixed_audio(
            interview_id,
            session=session,
            zero=alignment.zero,
            basis="video",
            # The container's claimed duration is the client's word: the WAV may cover
            # the video only as far as the session really lasted.
            min_seconds=min(duration or 0.0, session_real_seconds(session)),
        )
    else:
        logger.warning(
            "Interview %s has no spooled audio: the MP4 keeps the upload's own audio", interview_id
        )

    progress(
        "Muxing the MP4"
        + (" (copying H.264)" if info.video_codec == "h264" else " (transcoding to H.264)")
    )
    with contextlib.ExitStack() as stack:
        mixed_path = None
        if session is not None:
            mixed_path = stack.enter_context(storage.local_copy(outcome.paths["mixed"]))
        output = stack.enter_context(storage.staging_dir(VIDEO_PREFIX)) / f"{interview_id}.mp4"
        result = mux(
            video, mixed_path, output, info=info, video_start=video_start, duration=duration
        )
        name = storage.publish(result.path, video_output_name(interview_id))
    url = media_url(name)
    interview_services.mark_exported(interview_id=interview_id, video_url=url)
    fields = {
        "status": MediaExport.Status.DONE,
        "finished_at": timezone.now(),
        "error": "",
        "video_codec": result.video_codec,
        "exported_session_end": audio_state.session_ended_at,
    }
    if alignment is not None:
        fields.update(
            recording_started_offset=alignment.estimate,
            measured_offset=alignment.measured,
            alignment_confidence=alignment.confidence,
        )
    _update_export(interview_id, **fields)
    logger.info(
        "Export done for interview %s: %s (%s)",
        interview_id,
        url,
        "copied" if result.copied else "transcoded",
    )
    return MediaExport.Status.DONE
