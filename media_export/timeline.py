"""Where every spooled chunk lands: the timeline rules, as sample positions.

All positions are integer samples at 24 kHz from the timeline's zero, a
moment on the client's clock. A chunk at client time ``t`` lands at sample
``round((t - zero) * 24000)``. This module decides positions only; mixing.py
moves the samples.

Rules (docs/architecture.md, "Recording pipeline"):

- zero is ``recording_started`` unless the caller passes the video's measured
  zero; without either it is the first mic chunk (logged).
- mic chunks sit at their capture timestamps.
- AI chunks sit at their ``ai_chunk_played`` time. A gap or overlap of at most
  ``SNAP_SECONDS`` to the previous chunk of the same response is clock jitter and
  is snapped shut. A chunk without telemetry goes right after the previous AI
  chunk, or at its provisional server time if that is later (counted, logged).
- ``ai_cut`` truncates its chunk after ``played_ms``; later chunks of the same
  response are dropped, since the candidate never heard them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .spool import BYTES_PER_SAMPLE, SAMPLE_RATE, SessionSpool

logger = logging.getLogger("media_export")

SNAP_SECONDS = 0.010
SNAP_SAMPLES = round(SNAP_SECONDS * SAMPLE_RATE)


@dataclass
class Placement:
    """Chunks of one PCM file: where each starts in the file and on the timeline."""

    src: np.ndarray  # first sample in the PCM file
    length: np.ndarray  # samples to copy
    dst: np.ndarray  # first sample on the timeline (may be negative)

    @classmethod
    def empty(cls) -> Placement:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), z.copy())

    @property
    def end(self) -> int:
        return int((self.dst + self.length).max()) if len(self.dst) else 0

    def __len__(self) -> int:
        return len(self.dst)


@dataclass
class Timeline:
    zero: float  # client-clock seconds of sample 0
    basis: str  # "video", "recording_started", "first_mic_chunk" or "first_ai_chunk"
    mic: Placement
    ai: Placement
    ai_response: list[str] = field(default_factory=list)  # per placed AI chunk
    cuts: list[int] = field(default_factory=list)  # samples where AI playback was cut
    missing_telemetry: int = 0
    snapped: int = 0
    dropped_after_cut: int = 0

    @property
    def length(self) -> int:
        return max(self.mic.end, self.ai.end, 0)


def default_zero(spool: SessionSpool) -> tuple[float, str]:
    """The timeline zero before any video exists, and what it was taken from."""
    if spool.recording_started is not None:
        return spool.recording_started, "recording_started"
    if spool.mic:
        logger.warning(
            "No recording_started in session %s: timeline zero is the first mic chunk",
            spool.session_id,
        )
        return min(c.timestamp for c in spool.mic), "first_mic_chunk"
    if spool.ai:
        logger.warning(
            "No recording_started and no mic audio in session %s: zero is the first AI chunk",
            spool.session_id,
        )
        return min(c.played_at or c.timestamp for c in spool.ai), "first_ai_chunk"
    return 0.0, "recording_started"


def _to_samples(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


def build_timeline(
    spool: SessionSpool, zero: float | None = None, basis: str | None = None
) -> Timeline:
    """Place every chunk of ``spool`` on a timeline starting at client time ``zero``."""
    if zero is None:
        zero, basis = default_zero(spool)
    mic = _place_mic(spool, zero)
    timeline = Timeline(zero=zero, basis=basis or "given", mic=mic, ai=Placement.empty())
    _place_ai(spool, timeline)
    if timeline.missing_telemetry:
        logger.warning(
            "%d of %d AI chunks in session %s had no playback telemetry; "
            "placed after the previous AI chunk",
            timeline.missing_telemetry,
            len(spool.ai),
            spool.session_id,
        )
    return timeline


def _place_mic(spool: SessionSpool, zero: float) -> Placement:
    if not spool.mic:
        return Placement.empty()
    t = np.fromiter((c.timestamp for c in spool.mic), dtype=np.float64, count=len(spool.mic))
    off = np.fromiter((c.offset for c in spool.mic), dtype=np.int64, count=len(spool.mic))
    n = np.fromiter((c.length for c in spool.mic), dtype=np.int64, count=len(spool.mic))
    dst = np.rint((t - zero) * SAMPLE_RATE).astype(np.int64)
    return Placement(off // BYTES_PER_SAMPLE, n // BYTES_PER_SAMPLE, dst)


def _response_key(chunk) -> str:
    return chunk.response_id or chunk.item_id


def _place_ai(spool: SessionSpool, timeline: Timeline) -> None:
    """One pass in seq order; per-chunk decisions only, no per-sample work."""
    zero = timeline.zero
    src: list[int] = []
    length: list[int] = []
    dst: list[int] = []
    responses: list[str] = []
    cut_responses: set[str] = set()
    anonymous_cut_open = False
    prev_end: int | None = None
    prev_key: str | None = None
    for chunk in spool.ai:
        key = _response_key(chunk)
        if key and key in cut_responses:
            timeline.dropped_after_cut += 1
            continue
        if not key and anonymous_cut_open:
            # Without response ids, a cut silences everything up to the next chunk
            # the client reports as played (that one belongs to a new reply).
            if chunk.played_at is None:
                timeline.dropped_after_cut += 1
                continue
            anonymous_cut_open = False
        samples = chunk.samples
        if chunk.played_at is not None:
            start = _to_samples(chunk.played_at - zero)
            if (
                prev_end is not None
                and key == prev_key
                and start != prev_end
                and abs(start - prev_end) <= SNAP_SAMPLES
            ):
                start = prev_end
                timeline.snapped += 1
        else:
            timeline.missing_telemetry += 1
            start = _to_samples(chunk.timestamp - zero)
            if prev_end is not None:
                start = max(start, prev_end)
        if chunk.played_ms is not None:
            heard = max(0, min(samples, _to_samples(chunk.played_ms / 1000.0)))
            timeline.cuts.append(start + heard)
            samples = heard
            if key:
                cut_responses.add(key)
            else:
                anonymous_cut_open = True
        if samples > 0:
            src.append(chunk.offset // BYTES_PER_SAMPLE)
            length.append(samples)
            dst.append(start)
            responses.append(key)
        prev_end = start + samples
        prev_key = key
    timeline.ai = Placement(
        np.asarray(src, dtype=np.int64),
        np.asarray(length, dtype=np.int64),
        np.asarray(dst, dtype=np.int64),
    )
    timeline.ai_response = responses
