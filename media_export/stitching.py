"""An interview recorded in several segments (the page was reloaded): one MP4 on one clock.

The segments' parts are joined into local files, each segment is measured against its
own session's mic audio (``alignment.measure``, as a single upload is) and placed on the
MP4 clock (``placing``); ``muxing.stitch`` then transcodes them into one H.264 stream with
black frames in the gaps, under the WAV every session's audio was summed into.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import ffmpeg, recording
from .alignment import Alignment, measure
from .placing import Measured, SegmentPlace, pair_sessions, place_segments
from .spool import SessionSpool
from .uploads import sniff_container

logger = logging.getLogger("media_export")


@dataclass
class SegmentFile:
    segment: int
    path: Path
    duration: float  # seconds from its first frame to its end
    codec: str  # as probed (MediaRecorder: vp8, vp9 or h264)


@dataclass
class Plan:
    places: list[SegmentPlace]
    files: dict[int, SegmentFile]
    alignments: dict[int, Alignment] = field(default_factory=dict)

    @property
    def zero(self) -> float:
        """Client-clock seconds of the MP4's second 0: the first segment's first frame."""
        return self.places[0].zero

    @property
    def end(self) -> float:
        return max(p.end for p in self.places)

    def as_json(self) -> list[dict]:
        return [p.as_json() for p in self.places]

    @property
    def codecs(self) -> str:
        """The segments' own codecs, as the export record names the upload's."""
        return ", ".join(sorted({f.codec for f in self.files.values()}))


def video_duration(path: Path) -> float:
    """Seconds of video from the first frame, read from the packets (never the header)."""
    duration = ffmpeg.video_span(path)
    if duration is None:
        duration = ffmpeg.stream_duration(path, "video")
    if duration is None:
        duration = ffmpeg.probe(path).duration
    if duration is None:
        raise ffmpeg.FFmpegError(f"cannot tell how long segment file {path.name} is")
    return duration


@contextlib.contextmanager
def segment_files(
    interview_id: int, segments: list[recording.Segment]
) -> Iterator[dict[int, SegmentFile]]:
    """The playable segments joined from their parts into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="media-segments-") as directory:
        files = {}
        for seg in segments:
            path = Path(directory) / f"segment-{seg.segment}"
            recording.assemble(interview_id, seg, path)
            final = path.with_suffix("." + (sniff_container(path) or "webm"))
            path.rename(final)
            codec = ffmpeg.probe(final).video_codec
            if codec is None:
                raise ffmpeg.FFmpegError(f"segment {seg.segment + 1} has no video stream")
            files[seg.segment] = SegmentFile(seg.segment, final, video_duration(final), codec)
        yield files


def plan(files: dict[int, SegmentFile], sessions: list[SessionSpool], progress) -> Plan:
    """Pair, measure and place every segment."""
    numbers = sorted(files)
    paired = pair_sessions(numbers, sessions)
    alignments: dict[int, Alignment] = {}
    measured = []
    for number in numbers:
        session = paired[number]
        item = Measured(number, files[number].duration, None)
        if session is not None:
            progress(f"Aligning segment {number + 1} with its session's audio")
            alignment = measure(session, files[number].path)
            alignments[number] = alignment
            item.zero = alignment.zero
            item.alignment = alignment.used
            item.confidence = alignment.confidence
            item.session_id = session.session_id
        measured.append(item)
    places = place_segments(measured)
    for place in places:
        logger.info(
            "Segment %s (session %s): %.3f–%.3f s of the MP4 (%s, confidence %.2f)",
            place.segment,
            place.session_id or "none",
            place.start,
            place.end,
            place.alignment,
            place.confidence,
        )
    return Plan(places, files, alignments)
