"""Running an export: wait for the session's audio, align it to the video, write the MP4.

The worker's task and the ops commands call ``run_export``; the mixing and upload steps it
builds on live in ``services``.
"""

from __future__ import annotations

import contextlib
import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from interviews import services as interview_services

from . import ffmpeg, recording, stitching, storage, stretches
from .alignment import Alignment, measure
from .audio_track import cache_dir, drop_cache, encode_track
from .messages import without_server_paths
from .models import MediaExport
from .muxing import Piece, mux, still_frame_with_audio, stitch
from .services import (
    VIDEO_PREFIX,
    ExportError,
    Progress,
    _quiet,
    _save,
    _update_export,
    get_export,
    media_url,
    save_mixed_audio,
    select_session,
    sessions_with_audio,
    video_output_name,
)
from .spool import SessionSpool
from .stored_spool import coverage_problems

logger = logging.getLogger("media_export")


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


def interview_real_seconds(sessions: list[SessionSpool]) -> float:
    """How long the interview can have run: the first session's opening to the last write."""
    firsts, lasts = [], []
    for session in sessions:
        try:
            lasts.append((session.directory / "index.jsonl").stat().st_mtime)
        except OSError:
            continue
        if isinstance(session.opened_at, int | float):
            firsts.append(float(session.opened_at))
    if not lasts:
        return 0.0
    span = max(0.0, max(lasts) - min(firsts or lasts)) + settings.CLIENT_CLOCK_SLACK_SECONDS
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
    return _finish(
        interview_id,
        name,
        "audio only",
        video_codec=result.video_codec,
        session_end=get_export(interview_id).session_ended_at,
    )


def _export(interview_id, export, wait_seconds, require_session_end, require_all, progress) -> str:
    if not export.video_upload and export.no_video_reason:
        return _export_audio_only(interview_id, export, wait_seconds, progress)
    playable = recording.playable_segments(interview_id)
    if len(playable) > 1:
        args = (wait_seconds, require_session_end, require_all, progress)
        status = _export_segments(interview_id, playable, *args)
        if status is not None:
            return status
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

    alignment: Alignment | None = None
    found: list[stretches.Stretch] = []
    if session is not None:
        progress("Aligning the spooled audio with the video")
        alignment = measure(session, video)
        progress("Following the recording against the mic")
        found = stretches.follow(session, video, alignment.zero)
        zero = found[0].zero if len(found) > 1 else alignment.zero
        progress("Writing the WAVs on the video's timeline")
        outcome = save_mixed_audio(
            interview_id,
            session=session,
            zero=zero,
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
        staging = stack.enter_context(storage.staging_dir(VIDEO_PREFIX))
        audio_track = None
        if session is not None:
            mixed_path = stack.enter_context(storage.local_copy(outcome.paths["mixed"]))
        if len(found) > 1:
            result = _mux_stretches(video, found, mixed_path, staging / f"{interview_id}.mp4")
            result.video_codec = info.video_codec or result.video_codec
        else:
            if session is not None:
                audio_track = staging / f"{interview_id}.aac"
                encode_track(mixed_path, audio_track, cache_dir(interview_id))
            result = mux(
                video,
                audio_track,
                staging / f"{interview_id}.mp4",
                info=info,
                video_start=video_start,
                duration=duration,
                audio_is_aac=True,
            )
        name = storage.publish(result.path, video_output_name(interview_id))
    return _finish(
        interview_id,
        name,
        "copied" if result.copied else "transcoded",
        video_codec=result.video_codec,
        session_end=audio_state.session_ended_at,
        alignment=alignment,
        measured_offset=zero if len(found) > 1 else None,
        alignment_stretches=[s.as_json(found[0].zero) for s in found],
    )


def _mux_stretches(video, found, mixed, output):
    """The recording cut at its steps, each stretch on its own zero, under the mixed WAV."""
    duration = stitching.video_duration(video)
    pieces = stretches.pieces(video, found, duration)
    size = ffmpeg.first_frame_size(video) or (640, 360)
    total = pieces[-1].start + pieces[-1].keep
    return stitch(pieces, mixed, output, size=size, total=total)


def _export_segments(
    interview_id, playable, wait_seconds, require_session_end, require_all, progress
) -> str | None:
    """Several segments (the page was reloaded): every one placed on the interview clock.

    Returns None when no session holds audio: then only the last segment can be exported,
    with its own audio, as before segments were placed.
    """
    wait = settings.MIX_WAIT_SECONDS if wait_seconds is None else wait_seconds
    last = wait_for_audio(interview_id, wait, progress)
    if last is None and require_session_end and _park_waiting_for_audio(interview_id, wait):
        return MediaExport.Status.WAITING_FOR_AUDIO
    audio_state = get_export(interview_id)
    sessions = sessions_with_audio(interview_id, strict=require_all)
    if not sessions:
        logger.warning(
            "Interview %s has %d recording segments but no spooled audio: exporting the last",
            interview_id,
            len(playable),
        )
        return None
    if require_all:
        problems = [p for session in sessions for p in coverage_problems(session)]
        if problems:
            raise ExportError(
                "; ".join(problems) + " (`manage.py remix_interview` mixes what there is)"
            )
    progress(f"Joining {len(playable)} recording segments")
    with stitching.segment_files(interview_id, playable) as files:
        plan = stitching.plan(files, sessions, progress)
        progress("Writing the WAVs on the recording's timeline")
        outcome = save_mixed_audio(
            interview_id,
            sessions=sessions,
            zero=plan.zero,
            basis="video",
            min_seconds=min(plan.end, interview_real_seconds(sessions)),
        )
        first = plan.files[plan.places[0].segment].path
        size = ffmpeg.first_frame_size(first) or (640, 360)
        pieces = [
            Piece(files[p.segment].path, p.start, p.keep, p.keep < files[p.segment].duration - 1e-6)
            for p in plan.places
            if p.keep > 0
        ]
        progress(f"Muxing the MP4 (transcoding {len(pieces)} segments to H.264)")
        with (
            storage.local_copy(outcome.paths["mixed"]) as mixed,
            storage.staging_dir(VIDEO_PREFIX) as directory,
        ):
            output = directory / f"{interview_id}.mp4"
            result = stitch(pieces, mixed, output, size=size, total=plan.end)
            name = storage.publish(result.path, video_output_name(interview_id))
    return _finish(
        interview_id,
        name,
        f"{len(pieces)} segments on one timeline, {plan.end:.1f} s",
        video_codec=plan.codecs,
        session_end=audio_state.session_ended_at,
        alignment=plan.alignments.get(plan.places[0].segment),
        segment_timeline=plan.as_json(),
    )


def _finish(
    interview_id: int,
    name: str,
    how: str,
    *,
    video_codec: str,
    session_end,
    alignment: Alignment | None = None,
    measured_offset: float | None = None,
    segment_timeline: list | None = None,
    alignment_stretches: list | None = None,
) -> str:
    """The MP4 is published: the interview is exported and its export record says how (a
    re-export leaves nothing of an earlier one's timeline or stretches behind)."""
    drop_cache(interview_id)  # the pre-encoded audio, if any, has served
    url = media_url(name)
    interview_services.mark_exported(interview_id=interview_id, video_url=url)
    fields = {
        "status": MediaExport.Status.DONE,
        "finished_at": timezone.now(),
        "error": "",
        "video_codec": video_codec,
        "exported_session_end": session_end,
        "segment_timeline": segment_timeline or [],
        "alignment_stretches": alignment_stretches or [],
    }
    if alignment is not None:
        fields.update(
            recording_started_offset=alignment.estimate,
            measured_offset=alignment.measured if measured_offset is None else measured_offset,
            alignment_confidence=alignment.confidence,
        )
    _update_export(interview_id, **fields)
    logger.info("Export done for interview %s: %s (%s)", interview_id, url, how)
    return MediaExport.Status.DONE
