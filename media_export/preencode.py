"""While an interview runs, encode the settled minutes of its MP4 audio ahead of the End.

The export worker runs a ``Preencoder`` thread. Every ``AUDIO_PREENCODE_SECONDS`` it looks at
the interviews in progress whose recording is one segment: once the video's first
``alignment.WINDOW_SECONDS`` (plus the search margin) have arrived, the video's zero is
measured exactly as the export will measure it, and every minute of the mixed audio that ended
``AUDIO_PREENCODE_SETTLE_SECONDS`` before the candidate's latest audio is rendered and encoded
into the ``audio_track`` cache. Each run only renders and encodes the chunks that settled since
the previous one (its progress is kept beside the cache), so the work per interview-minute does
not grow with the interview's length.

Nothing here is trusted by the export: a cached chunk is used only when the exact samples the
final mix gives for it hash to its name. A late chunk, a resend after a reconnect or a zero
measured differently at the End just means that chunk is encoded again then.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import close_old_connections, connection

from interviews.models import Interview

from . import audio_track, ffmpeg, recording
from .alignment import SEARCH_SECONDS_NO_REC, WINDOW_SECONDS, measure
from .mixing import _TrackRenderer, limit
from .spool import SAMPLE_RATE, SessionSpool
from .stored_spool import latest_session
from .timeline import build_timeline

logger = logging.getLogger("media_export")

STATE = "progress.json"


def _state(directory: Path) -> dict:
    try:
        return json.loads((directory / STATE).read_text())
    except (OSError, ValueError):
        return {}


def _save_state(directory: Path, state: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{STATE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, directory / STATE)


def render_mixed(spool: SessionSpool, timeline, lo: int, hi: int) -> np.ndarray:
    """Samples ``[lo, hi)`` of the mixed track, exactly as ``mixing.mix_to_files`` writes them."""
    size = hi - lo
    mic = _TrackRenderer(spool.mic_path, timeline.mic, hi, size)
    ai = _TrackRenderer(spool.ai_path, timeline.ai, hi, size)
    try:
        acc_mic = np.empty(size, dtype=np.int32)
        acc_ai = np.empty(size, dtype=np.int32)
        mic.fill(acc_mic, lo, hi)
        ai.fill(acc_ai, lo, hi)
    finally:
        mic.close()
        ai.close()
    acc_mic += acc_ai
    return limit(acc_mic)


def _measure_zero(interview_id: int, spool: SessionSpool) -> float | None:
    """The video's zero, once enough of the first segment arrived to measure it for good."""
    segments = recording.playable_segments(interview_id)
    if len(segments) != 1:
        return None  # several segments are placed (and transcoded) at the End
    with tempfile.TemporaryDirectory(prefix="preencode-") as tmp:
        video = Path(tmp) / "head"
        recording.assemble(interview_id, segments[0], video)
        try:
            seconds = ffmpeg.probe(video).duration or 0.0
        except ffmpeg.FFmpegError:
            return None
        if seconds < WINDOW_SECONDS + 2 * SEARCH_SECONDS_NO_REC:
            return None
        return measure(spool, video).zero


def preencode(interview_id: int) -> int:
    """Encode the chunks of ``interview_id``'s audio that settled; returns how many."""
    # A running session's shipped spool may end mid-segment: its readable prefix is enough.
    spool = latest_session(interview_id, strict=False)
    if spool is None or not spool.mic:
        return 0
    directory = audio_track.cache_dir(interview_id)
    state = _state(directory)
    if state.get("session") != spool.session_id or "zero" not in state:
        zero = _measure_zero(interview_id, spool)
        if zero is None:
            return 0
        state = {"session": spool.session_id, "zero": zero, "next": 0}
    zero = float(state["zero"])
    latest = max(c.timestamp for c in spool.mic) - zero
    settled = round((latest - settings.AUDIO_PREENCODE_SETTLE_SECONDS) * SAMPLE_RATE)
    timeline = build_timeline(spool, zero=zero, basis="video")
    done = 0
    k = int(state.get("next", 0))
    while (k + 1) * audio_track.CHUNK + audio_track.PAD <= settled:
        lo, hi, start, end = audio_track.chunk_bounds(k, None)
        padded = render_mixed(spool, timeline, lo, hi)
        done += audio_track.store_chunk(directory, padded, k, start - lo, end - start, False)
        k += 1
    state["next"] = k
    _save_state(directory, state)
    if done:
        logger.info("Pre-encoded %d minute(s) of interview %s's audio", done, interview_id)
    return done


def preencode_running() -> int:
    """One pass over the interviews in progress; returns the chunks encoded."""
    total = 0
    for interview_id in Interview.objects.filter(status=Interview.Status.IN_PROGRESS).values_list(
        "pk", flat=True
    ):
        try:
            total += preencode(interview_id)
        except Exception:  # never let one interview stop the others; the End encodes it
            logger.exception("Pre-encoding the audio of interview %s failed", interview_id)
    return total


class Preencoder:
    """A daemon thread of the export worker running ``preencode_running`` periodically."""

    def __init__(self, interval: float | None = None):
        self.interval = settings.AUDIO_PREENCODE_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audio-preencode", daemon=True)

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    preencode_running()
                except Exception:
                    logger.exception("Audio pre-encoding failed")
                finally:
                    close_old_connections()
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
