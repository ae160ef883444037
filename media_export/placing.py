"""Where each recording segment lands in the MP4 of an interview recorded in several.

Every page load records a new segment and opens a new session, both on the one
interview clock. A segment's zero (the client time of its first frame) is measured
against the audio of *its* session, so each segment is paired with a session first:
the one whose spool names it (``recording_started`` carries the segment), else the
sessions that name none, in the order they were opened. The first segment's zero is
the MP4's second 0; segment k starts ``zero_k - zero_0`` seconds in. These are pure
decisions on numbers: ``stitching.py`` measures and runs FFmpeg.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

from .spool import SessionSpool

logger = logging.getLogger("media_export")


def pair_sessions(
    segments: list[int], sessions: list[SessionSpool]
) -> dict[int, SessionSpool | None]:
    """Each segment number's session (``sessions`` oldest first), None when there is none."""
    paired: dict[int, SessionSpool | None] = {}
    for number in segments:
        named = [s for s in sessions if s.recording_segment == number]
        if len(named) > 1:
            logger.warning(
                "Segment %s is named by %d sessions; pairing it with the first, %s",
                number,
                len(named),
                named[0].session_id,
            )
        paired[number] = named[0] if named else None
    unnamed = [n for n in segments if paired[n] is None]
    free = [s for s in sessions if s.recording_segment is None]
    # A session that never started a recording cannot be a segment's: prefer those that did.
    recorded = [s for s in free if s.recording_started is not None]
    if len(recorded) >= len(unnamed):
        free = recorded
    for number, session in zip(unnamed, free, strict=False):
        paired[number] = session
        logger.info(
            "Segment %s is named by no session; paired with session %s (the next one opened)",
            number,
            session.session_id,
        )
    return paired


@dataclass
class SegmentPlace:
    """One segment on the MP4's clock (seconds of the MP4)."""

    segment: int
    session_id: str
    start: float
    end: float  # where its video stops: its own end, or where the next segment cuts it
    alignment: str  # "measured", the estimate's basis, or "adjacent" (no session)
    confidence: float
    zero: float  # client-clock seconds of its first frame

    @property
    def keep(self) -> float:
        """Seconds of the segment's own video that are shown."""
        return self.end - self.start

    def as_json(self) -> dict:
        return {
            "segment": self.segment,
            "session_id": self.session_id,
            "start": round(self.start, 4),
            "end": round(self.end, 4),
            "alignment": self.alignment,
            "confidence": round(self.confidence, 3),
        }


@dataclass
class Measured:
    """What is known of a segment before placing it."""

    segment: int
    duration: float  # its video's length from its first frame
    zero: float | None  # client time of its first frame; None without a session
    alignment: str = "adjacent"
    confidence: float = 0.0
    session_id: str = ""


def _fill_zeros(items: list[Measured]) -> list[float]:
    """Zeros for segments without a session: right after the previous segment's end
    (right before the next one's start when no segment before it has a zero)."""
    zeros: list[float | None] = [m.zero for m in items]
    if all(z is None for z in zeros):
        logger.warning("No segment has a session: placing them back to back")
        zeros[0] = 0.0
    first = next(i for i, z in enumerate(zeros) if z is not None)
    for i in range(first - 1, -1, -1):
        zeros[i] = zeros[i + 1] - items[i].duration
    for i in range(first + 1, len(zeros)):
        if zeros[i] is None:
            zeros[i] = zeros[i - 1] + items[i - 1].duration
    for item in items:
        if item.zero is None:
            logger.warning(
                "Segment %s has no session to measure it against: placed next to its neighbour",
                item.segment,
            )
    return [float(z) for z in zeros]


def place_segments(items: list[Measured]) -> list[SegmentPlace]:
    """Segments (in segment order) on the MP4 clock whose 0 is the first one's first frame."""
    zeros = _fill_zeros(items)
    places: list[SegmentPlace] = []
    for item, zero in zip(items, zeros, strict=True):
        start = zero - zeros[0]
        if places and start < places[-1].start:
            previous = places[-1]
            logger.warning(
                "Segment %s would start %.3f s before segment %s: the clocks disagree; "
                "placed after it",
                item.segment,
                previous.start - start,
                previous.segment,
            )
            start = previous.end
            zero = zeros[0] + start
        if places and start < places[-1].end:
            previous = places[-1]
            logger.warning(
                "Segment %s starts %.3f s before segment %s ends: its end is cut there",
                item.segment,
                previous.end - start,
                previous.segment,
            )
            previous.end = start
        places.append(
            SegmentPlace(
                item.segment,
                item.session_id,
                start,
                start + item.duration,
                item.alignment,
                item.confidence,
                zero,
            )
        )
    return places


def gaps(places: list[dict]) -> list[tuple[float, float]]:
    """Stretches of the MP4 with no segment's video (from the recorded ``as_json`` rows)."""
    result = []
    for before, after in itertools.pairwise(places):
        if after["start"] - before["end"] > 0.0005:
            result.append((before["end"], after["start"]))
    return result
