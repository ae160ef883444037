"""Measurements for an interview recorded in several segments (the page was reloaded).

Each segment is the recording one page load made, joined here from the parts the server
stored (not from the product's own joined file). Where a segment landed in the MP4 is
found from the pictures: its first frames are located among the MP4's frames. The
single-segment checks (sync_checks.py) then run per segment, on that segment's span of
the MP4 and that page load's own client log and WebSocket frames.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.e2e import sync_analysis as sa
from tests.e2e import sync_checks
from tests.e2e.fake_mic import FakeMic
from tests.e2e.wire import WireLog

SR = sa.SR
# Frames are compared by the band where Chromium's fake camera prints its clock and frame
# count (its picture otherwise repeats itself every few seconds), as small grey images.
CLOCK_BAND = "crop=iw*0.56:ih*0.12:iw*0.13:ih*0.04"
FRAME_SIZE = (224, 24)
MATCH_FRAMES = 15  # a run of frames is matched, not one (one frame can look like another)
# Searched around where the markers say a segment belongs (the fake camera's picture repeats
# itself now and then, so the whole MP4 is not searched).
SEARCH_SECONDS = 1.0
EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # WebM / Matroska
BLACK_LUMA = 20.0  # mean 8-bit luma at or below this is a black frame (black is 16)


@dataclass
class SegmentInput:
    segment: int
    upload: Path  # the segment's parts joined
    telemetry: dict  # that page load's window.interviewTelemetry
    wire: WireLog  # that page load's WebSocket frames


@dataclass
class SegmentMeasurements:
    segment: int
    span: float = 0.0  # seconds of video in the stored recording
    start: float = 0.0  # where its first frame sits in the MP4 (s), from the pictures
    end: float = 0.0  # where its last frame ends in the MP4 (s), from the pictures
    match_error: float = 0.0  # how well the frames matched (mean squared luma difference)
    match_contrast: float = 1.0  # best match error / median error in the searched window
    zeros: sync_checks.Zeros | None = None
    mic_offset: sa.Offset | None = None  # recording audio vs *_mic.wav at `start`
    mp4_vs_upload: sa.Offset | None = None  # recording audio vs the MP4's audio at `start`
    ai: sync_checks.AiTrackChecks | None = None
    recording_started: float | None = None

    def ai_stats(self) -> dict | None:
        offsets = [c.offset_ms for c in self.ai.chunks if c.offset_ms is not None]
        return sa.percentiles(offsets) if offsets else None

    def to_json(self) -> dict:
        def off(o):
            return None if o is None else {"ms": o.ms, "score": o.score}

        return {
            "segment": self.segment,
            "span": self.span,
            "start": self.start,
            "end": self.end,
            "match_error": self.match_error,
            "match_contrast": self.match_contrast,
            "zeros": None if self.zeros is None else self.zeros.__dict__,
            "mic_offset": off(self.mic_offset),
            "mp4_vs_upload": off(self.mp4_vs_upload),
            "ai_stats_ms": self.ai_stats(),
            "ai_chunks": [c.__dict__ for c in self.ai.chunks] if self.ai else [],
            "silent_chunks": self.ai.silent if self.ai else 0,
            "unheard": self.ai.unheard if self.ai else [],
            "recording_started": self.recording_started,
        }


@dataclass
class Measurements:
    segments: list[SegmentMeasurements] = field(default_factory=list)
    codecs: dict = field(default_factory=dict)
    mp4_span: float = 0.0
    mixed_in_mp4: sa.Offset | None = None
    gap_black_fraction: float | None = None  # of the MP4 frames between the segments
    reload_at: float | None = None  # the old page went away (client clock, s)
    product: dict = field(default_factory=dict)

    @property
    def gaps(self) -> list[float]:
        """Seconds of MP4 between one segment's last frame and the next one's first."""
        return [b.start - a.end for a, b in zip(self.segments, self.segments[1:], strict=False)]

    def timeline_error_ms(self, k: int) -> float:
        """Segment k's place in the MP4 against where its true zero says it belongs."""
        first, seg = self.segments[0], self.segments[k]
        on_clock = seg.zeros.video_zero - first.zeros.video_zero
        return ((seg.start - first.start) - on_clock) * 1000

    def lost_before_reload(self) -> float:
        """Seconds between segment 0's last recorded moment in the MP4 and the reload."""
        first = self.segments[0]
        end_on_clock = first.zeros.video_zero + (first.end - first.start)
        return self.reload_at - end_on_clock

    def lost_in_storage(self) -> float:
        """The same for what the server stored of segment 0 (its parts), MP4 or not."""
        first = self.segments[0]
        return self.reload_at - (first.zeros.video_zero + first.span)

    def to_json(self) -> dict:
        return {
            "segments": [s.to_json() for s in self.segments],
            "codecs": self.codecs,
            "mp4_span": self.mp4_span,
            "mixed_in_mp4": None
            if self.mixed_in_mp4 is None
            else {"ms": self.mixed_in_mp4.ms, "score": self.mixed_in_mp4.score},
            "gaps": self.gaps,
            "gap_black_fraction": self.gap_black_fraction,
            "reload_at": self.reload_at,
            "lost_before_reload": self.lost_before_reload() if self.reload_at else None,
            "lost_in_storage": self.lost_in_storage() if self.reload_at else None,
            "timeline_error_ms": [self.timeline_error_ms(k) for k in range(len(self.segments))],
            "product": self.product,
        }


def join_parts(folder: Path, out: Path) -> Path:
    """Parts 0, 1, … of one segment (as far as they run without a hole) joined into ``out``.

    ``out`` gets the suffix its content calls for (``.webm`` or ``.mp4``); the path is returned.
    """
    numbers = sorted(int(p.stem) for p in folder.glob("*.part") if p.stem.isdigit())
    data = bytearray()
    for expected, n in enumerate(numbers):
        if n != expected:
            break
        data += (folder / f"{n}.part").read_bytes()
    out = out.with_suffix(".webm" if data[:4] == EBML_MAGIC else ".mp4")
    out.write_bytes(bytes(data))
    return out


def grey_frames(
    path: Path, band: str = CLOCK_BAND, size: tuple[int, int] = FRAME_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """(presentation times relative to the video's start, 8-bit grey frames [n, h, w])."""
    info = sa.probe(path)
    video_start = sa.stream_start(info, "video") or 0.0
    args = [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "frame=best_effort_timestamp_time",
        "-of",
        "csv=p=0",
        str(path),
    ]
    times = []
    for line in sa._run("ffprobe", args, f"ffprobe frames failed on {path}").decode().split():
        value = line.strip().strip(",")
        if value and value != "N/A":
            times.append(float(value))
    width, height = size
    proc = subprocess.run(
        [
            sa._tool("ffmpeg"),
            "-v",
            "error",
            "-nostdin",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
            "-vf",
            f"{band},scale={width}:{height},format=gray",
            "-f",
            "rawvideo",
            "-",
        ],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise sa.AnalysisError(f"decoding the frames of {path} failed: {proc.stderr[-400:]!r}")
    frames = np.frombuffer(proc.stdout, np.uint8).reshape(-1, height, width)
    if len(frames) != len(times):
        raise sa.AnalysisError(f"{path}: {len(frames)} frames decoded, {len(times)} timestamps")
    return np.asarray(times) - video_start, frames


def locate_run(
    times: np.ndarray, haystack: np.ndarray, needle: np.ndarray, around: float
) -> tuple[int, float, float]:
    """Where the frames of ``needle`` follow best in ``haystack``, searched ``around`` ± 1 s.

    Returns (index, error, contrast): the mean squared difference there, and its ratio to
    the median over the window (a true match stands out: well below 1).
    """
    window = np.flatnonzero(np.abs(times - around) <= SEARCH_SECONDS)
    window = window[window <= len(haystack) - len(needle)]
    if window.size == 0:
        raise sa.AnalysisError(f"no MP4 frames around {around:.3f} s to search")
    target = needle.astype(np.float32)
    errors = np.array(
        [
            float(np.mean((haystack[j : j + len(needle)].astype(np.float32) - target) ** 2))
            for j in window
        ]
    )
    best = int(np.argmin(errors))
    median = float(np.median(errors))
    return int(window[best]), float(errors[best]), float(errors[best] / median) if median else 1.0


def offset_at(audio: np.ndarray, track: np.ndarray, start: float) -> sa.Offset:
    """How late ``audio`` sits in ``track`` against ``start`` (NaN when the track ends before)."""
    try:
        found = sa.find_offset(audio, track, max_lag=1.0, center=start)
    except sa.AnalysisError:
        return sa.Offset(seconds=float("nan"), score=0.0)
    return sa.Offset(seconds=found.seconds - start, score=found.score)


def measure(
    *,
    inputs: list[SegmentInput],
    mic_wav: Path,
    ai_wav: Path,
    mixed_wav: Path,
    mp4: Path,
    fake_mic: FakeMic,
) -> Measurements:
    m = Measurements()
    mp4_info = sa.probe(mp4)
    m.codecs = {
        "mp4_video": [s.get("codec_name") for s in sa.streams_of(mp4_info, "video")],
        "mp4_audio": [s.get("codec_name") for s in sa.streams_of(mp4_info, "audio")],
    }
    mp4_times, mp4_frames = grey_frames(mp4)
    frame = float(np.median(np.diff(mp4_times))) if len(mp4_times) > 1 else 1 / 30
    m.mp4_span = float(mp4_times[-1] + frame) if len(mp4_times) else 0.0
    mic, _ = sa.read_wav(mic_wav)
    ai, _ = sa.read_wav(ai_wav)
    mixed, _ = sa.read_wav(mixed_wav)
    mp4_audio = sa.decode_audio(mp4)
    m.mixed_in_mp4 = sa.find_offset(mixed, mp4_audio, max_lag=0.1)

    for item in inputs:
        seg = SegmentMeasurements(segment=item.segment)
        audio = sa.decode_audio(item.upload)
        seg.zeros = sync_checks.find_zeros(item.wire, audio, fake_mic)
        times, frames = grey_frames(item.upload)
        step = float(np.median(np.diff(times))) if len(times) > 1 else frame
        seg.span = float(times[-1] + step)
        run = min(MATCH_FRAMES, len(frames))
        # The MP4 starts with the first segment; the next ones belong where their true zeros
        # (from the markers, on the one interview clock) put them after it.
        if m.segments:
            first = m.segments[0]
            around = first.start + seg.zeros.video_zero - first.zeros.video_zero
        else:
            around = 0.0
        try:
            j, seg.match_error, seg.match_contrast = locate_run(
                mp4_times, mp4_frames, frames[:run], around + times[0]
            )
            seg.start = float(mp4_times[j] - times[0])
            last = seg.start + times[-run]
            k, _, _ = locate_run(mp4_times, mp4_frames, frames[-run:], last)
            seg.end = float(mp4_times[k + run - 1] + frame)
        except sa.AnalysisError:
            # Not in the MP4 at all (it is shorter): measured where it should have been.
            seg.match_contrast = float("inf")
            seg.start, seg.end = around, around + seg.span

        seg.recording_started = item.telemetry.get("recordingStarted")
        # Check 2 on this segment's span: its own audio against *_mic.wav where it sits.
        seg.mic_offset = offset_at(audio, mic, seg.start)
        seg.mp4_vs_upload = offset_at(audio, mp4_audio, seg.start)
        # Checks 3 and 4: this page load's AI chunks, where its video says they were heard.
        origin = seg.zeros.video_zero - seg.start
        seg.ai = sync_checks.check_ai_track(
            ai, item.telemetry, item.wire, origin, fake_mic, seg.zeros.wav_zero
        )
        m.segments.append(seg)

    between = []
    for a, b in zip(m.segments, m.segments[1:], strict=False):
        between += [i for i, t in enumerate(mp4_times) if a.end + frame <= t < b.start - frame]
    if between:
        luma = mp4_frames[between].mean(axis=(1, 2))
        m.gap_black_fraction = float(np.mean(luma <= BLACK_LUMA))
    return m


def report(m: Measurements) -> str:
    """The reload scenario's table, ending with one machine-readable line per segment."""
    rows = [
        ("MP4", f"{m.codecs.get('mp4_video')}+{m.codecs.get('mp4_audio')}, {m.mp4_span:.3f} s"),
        (
            "*_mixed.wav inside the MP4",
            f"{m.mixed_in_mp4.ms:+.3f} ms (score {m.mixed_in_mp4.score:.3f})",
        ),
    ]
    for k, seg in enumerate(m.segments):
        stats = seg.ai_stats() or {"p50": float("nan"), "p95": float("nan"), "max": float("nan")}
        name = f"segment {seg.segment}"
        rows += [
            (
                f"{name}: in the MP4",
                f"{seg.start:.3f}–{seg.end:.3f} s (recorded {seg.span:.3f} s; frame match error "
                f"{seg.match_error:.1f}, {seg.match_contrast:.2f} of the window's median)",
            ),
            (
                f"{name}: mic offset (its audio vs *_mic.wav)",
                f"{seg.mic_offset.ms:+.2f} ms (score {seg.mic_offset.score:.3f})",
            ),
            (
                f"{name}: MP4 audio vs its audio",
                f"{seg.mp4_vs_upload.ms:+.2f} ms (score {seg.mp4_vs_upload.score:.3f})",
            ),
            (
                f"{name}: true zero on the client clock",
                f"{seg.zeros.video_zero:.4f} s from {seg.zeros.video_zero_pairs} markers",
            ),
            (f"{name}: place in the MP4 − its true zero", f"{m.timeline_error_ms(k):+.2f} ms"),
            (
                f"{name}: AI offset p50 / p95 / max",
                f"{stats['p50']:.2f} / {stats['p95']:.2f} / {stats['max']:.2f} ms over "
                f"{len([c for c in seg.ai.chunks if c.offset_ms is not None])} chunks",
            ),
        ]
        if seg.ai.unheard:
            peaks = ", ".join(f"{u['peak_after_cut']:.5f}" for u in seg.ai.unheard)
            rows.append((f"{name}: AI audio after a cut (peak)", peaks))
    rows.append(("gap between the segments", ", ".join(f"{g:.3f} s" for g in m.gaps) or "none"))
    if m.gap_black_fraction is not None:
        rows.append(("black frames in the gap", f"{m.gap_black_fraction:.0%}"))
    if m.reload_at is not None:
        rows.append(
            (
                "recorded before the reload but not in the MP4",
                f"{m.lost_before_reload():.3f} s (reload at {m.reload_at:.3f} s)",
            )
        )
        rows.append(("recorded before the reload but not stored", f"{m.lost_in_storage():.3f} s"))
    width = max(len(k) for k, _ in rows)
    lines = ["", "== reload scenario: sync report per segment " + "=" * 32]
    lines += [f"{k.ljust(width)}  {v}" for k, v in rows]
    for seg in m.segments:
        stats = seg.ai_stats() or {"p50": float("nan"), "max": float("nan")}
        lines.append(
            f"SYNC segment={seg.segment} start_s={seg.start:.3f} end_s={seg.end:.3f} "
            f"mic_offset_ms={seg.mic_offset.ms:.2f} ai_p50_ms={stats['p50']:.2f} "
            f"ai_max_ms={stats['max']:.2f}"
        )
    gap = m.gaps[0] if m.gaps else float("nan")
    lost = m.lost_before_reload() if m.reload_at is not None else float("nan")
    lines.append(f"RELOAD gap_s={gap:.3f} lost_before_reload_s={lost:.3f}")
    return "\n".join(lines)
