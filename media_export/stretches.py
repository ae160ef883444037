"""Following the recording against the mic along the whole interview: a zero per stretch.

On a loaded machine, headless Chromium's audio devices lose time: the recording and the
page's mic chunks can move apart once, by whole 10 ms buffers (80–190 ms at once), and
one zero measured on the first minute cannot follow that. Here the recording's audio is
decoded *with its timestamps* (gaps as silence, overlaps trimmed, as a player hears it),
compared with the spooled mic window by window along the whole recording, and the
recording is cut into stretches between steps, each with its own zero. Windows of silence
or of weak correlation say nothing; a step counts only when two windows in a row agree on
the new zero, so noise never makes one. The video follows the candidate's voice: the
picture shows the person whose mic this is.
"""

from __future__ import annotations

import itertools
import logging
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ffmpeg
from .alignment import MIN_RMS, correlate, correlate_near
from .mixing import _pcm, place
from .muxing import Piece
from .spool import SAMPLE_RATE, SessionSpool
from .timeline import Placement, build_timeline

logger = logging.getLogger("media_export")

WINDOW_SECONDS = 6.0  # each window of the recording compared with the mic
SEARCH_SECONDS = 0.5  # how far a window's zero may sit from the first measurement
MIN_CONFIDENCE = 0.6  # normalised correlation a window needs to count
MIN_SPEECH_RMS = 4 * MIN_RMS  # int16 units: quieter windows are silence, not speech
STEP_SECONDS = 0.02  # windows closer than this to a stretch's zero belong to it
CONFIRM = 2  # windows in a row needed at a new zero before it is a step
REFINE_SECONDS = 1.0  # short windows that place a step between two long ones
BLOCK_SECONDS = 600.0  # the mic is placed block by block (bounded memory on long interviews)
TRACK_SAMPLES = 8  # lags either side of the last window's zero looked at first


@dataclass
class Window:
    start: float  # seconds of the recording from its first video frame
    end: float
    zero: float  # client-clock seconds of the first video frame, as this window sees it
    confidence: float


@dataclass
class Stretch:
    start: float  # seconds of the recording (from its first video frame)
    end: float
    zero: float  # client-clock seconds of the first video frame, for this stretch
    confidence: float  # the weakest of its windows
    windows: int
    cause: str = ""  # what moved at the step before it: "recording audio" or "mic chunks"

    def as_json(self, first_zero: float) -> dict:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "zero": round(self.zero, 6),
            "shift_ms": round((self.zero - first_zero) * 1000, 2),
            "confidence": round(self.confidence, 3),
            "windows": self.windows,
            "cause": self.cause,
        }


def decode_timed(video: Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The recording's audio as a player hears it, sample 0 at its first video frame."""
    video_start = ffmpeg.first_frame_time(video, "video") or 0.0
    args = ["-v", "error", "-copyts", "-i", str(video), "-map", "0:a:0", "-ac", "1"]
    args += ["-af", f"aresample={sample_rate}:async=1:first_pts=0", "-f", "s16le", "-"]
    proc = ffmpeg.run(args, what="decoding the video's audio with its timestamps", timeout=1800)
    audio = np.frombuffer(proc.stdout, dtype="<i2")
    shift = round(video_start * sample_rate)
    if shift > 0:
        return audio[shift:]
    return np.concatenate([np.zeros(-shift, "<i2"), audio])


def windows(
    decoded: np.ndarray,
    spool: SessionSpool,
    guess: float,
    seconds: float = WINDOW_SECONDS,
    *,
    track: bool = True,
) -> list[Window]:
    """Each window of ``decoded`` with speech, where the mic puts its zero (±SEARCH around ``guess``).

    ``track``: look first right around the last window's zero and search the whole range only
    when no confident peak is there (a step, or the first window). The answer is the same; an
    hour is followed in about a second instead of ten.
    """
    sr = SAMPLE_RATE
    lag_max = round(SEARCH_SECONDS * sr)
    size = round(seconds * sr)
    block = max(size, round(BLOCK_SECONDS / seconds) * size)
    timeline = build_timeline(spool, zero=guess - SEARCH_SECONDS, basis="video")
    pcm = _pcm(spool.mic_path)
    found: list[Window] = []
    for b0 in range(0, len(decoded), block):
        # mic[k] is client time guess - SEARCH + (b0 + k) / sr
        mic = _placed(pcm, timeline.mic, b0, block + size + 2 * lag_max)
        for s in range(b0, min(b0 + block, len(decoded)), size):
            sig = decoded[s : s + size]
            if len(sig) < size // 2 or _rms(sig) < MIN_SPEECH_RMS:
                continue
            ref = mic[s - b0 : s - b0 + len(sig) + 2 * lag_max]
            if _rms(ref) < MIN_RMS:
                continue
            near = None
            if track and found:
                expected = round((found[-1].zero - guess) * sr)
                near = correlate_near(ref, sig, lag_max, expected, TRACK_SAMPLES)
            if near is None or near[2] < MIN_CONFIDENCE:
                near = correlate(ref, sig, lag_max)
            lag, frac, peak = near
            if peak < MIN_CONFIDENCE or abs(lag) >= lag_max:
                continue
            zero = guess + (lag + frac) / sr
            found.append(Window(s / sr, (s + len(sig)) / sr, zero, min(1.0, peak)))
    return found


def _placed(pcm: np.ndarray, placement, start: int, samples: int) -> np.ndarray:
    """``samples`` of the placed mic from sample ``start`` of its timeline (int16)."""
    shifted = Placement(placement.src, placement.length, placement.dst - start)
    placed = place(pcm, shifted, samples)
    return np.clip(placed, -32768, 32767).astype("<i2")


def split(points: list[Window]) -> list[list[Window]]:
    """Windows grouped into runs that agree on one zero; a lone disagreeing window between two
    that agree is dropped. A lone window first or last is kept: ``confirmed`` decides on it."""
    groups: list[list[Window]] = []
    current: list[Window] = []
    pending: list[Window] = []
    for w in points:
        if not current:
            current = [w]
            continue
        if abs(w.zero - _median(current)) < STEP_SECONDS:
            current.append(w)
            pending = []
        elif pending and abs(w.zero - _median(pending)) < STEP_SECONDS:
            pending.append(w)
        else:
            pending = [w]
        if len(pending) >= CONFIRM:
            groups.append(current)
            current, pending = pending, []
    if current:
        groups.append(current)
    if pending:
        groups.append(pending)
    return groups


def confirmed(decoded: np.ndarray, spool: SessionSpool, group: list[Window]) -> bool:
    """A run of fewer than ``CONFIRM`` windows counts only if its short windows agree on it.

    An early step may leave a single window of voice before it; a stray window (an echo,
    noise) does not hold up when looked at second by second.
    """
    if len(group) >= CONFIRM:
        return True
    w = group[0]
    segment = decoded[round(w.start * SAMPLE_RATE) : round(w.end * SAMPLE_RATE)]
    short = windows(segment, spool, w.zero + w.start, REFINE_SECONDS)
    agree = [s for s in short if abs(s.zero - w.start - w.zero) < STEP_SECONDS / 2]
    return len(agree) >= CONFIRM and len(agree) * 2 > len(short)


def boundary(decoded: np.ndarray, spool: SessionSpool, before: Window, after: Window) -> float:
    """Where between two long windows the step happened, from short windows between them."""
    lo, hi = before.start, after.end
    segment = decoded[round(lo * SAMPLE_RATE) : round(hi * SAMPLE_RATE)]
    guess = (before.zero + after.zero) / 2
    short = windows(segment, spool, guess + lo, REFINE_SECONDS)
    last_before = [w.end + lo for w in short if abs(w.zero - lo - before.zero) < STEP_SECONDS / 2]
    first_after = [w.start + lo for w in short if abs(w.zero - lo - after.zero) < STEP_SECONDS / 2]
    earliest_after = min(
        [t for t in first_after if t >= max(last_before, default=lo)], default=None
    )
    if last_before and earliest_after is not None:
        return (max(last_before) + earliest_after) / 2
    return (before.end + after.start) / 2


def audio_packet_starts(video: Path) -> list[float]:
    """When each of the recording's audio packets starts (seconds from its first video frame)."""
    args = ["-v", "error", "-copyts", "-i", str(video), "-map", "0:a:0", "-c", "copy"]
    text = ffmpeg.run(
        [*args, "-f", "framecrc", "-"], what="reading the audio's packets", timeout=600
    ).stdout.decode(errors="replace")
    video_start = ffmpeg.first_frame_time(video, "video") or 0.0
    base = next((line for line in text.splitlines() if line.startswith("#tb 0:")), None)
    if base is None:
        return []
    num, den = base.split(":")[1].strip().split("/")
    unit = int(num) / int(den)
    starts = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if not line.startswith("#") and len(fields) >= 4:
            starts.append(int(fields[2]) * unit - video_start)
    return sorted(starts)


def audio_gap_near(starts: list[float], at: float, span: float) -> float:
    """Seconds the audio packets' timestamps jump (gaps minus overlaps) within ``at ± span``."""
    steps = [b - a for a, b in itertools.pairwise(starts)]
    if not steps:
        return 0.0
    # WebM blocks carry no duration: a packet's length is the usual distance between them.
    typical = statistics.median(steps)
    jump = 0.0
    for t0, step in zip(starts, steps, strict=False):
        if abs(t0 - at) <= span and abs(step - typical) > 0.002:
            jump += step - typical
    return jump


def follow(spool: SessionSpool, video: Path, guess: float) -> list[Stretch]:
    """The recording's stretches between steps, each with its zero (one when there is no step).

    Returns [] when no window can be measured (a silent candidate): the caller keeps its zero.
    """
    decoded = decode_timed(video)
    points = windows(decoded, spool, guess)
    groups = [g for g in split(points) if confirmed(decoded, spool, g)]
    if not groups:
        return []
    total = len(decoded) / SAMPLE_RATE
    stretches = [
        Stretch(0.0, total, _median(g), min(w.confidence for w in g), len(g)) for g in groups
    ]
    starts = audio_packet_starts(video) if len(groups) > 1 else []
    for k in range(1, len(groups)):
        cut = boundary(decoded, spool, groups[k - 1][-1], groups[k][0])
        stretches[k - 1].end = stretches[k].start = cut
        step = stretches[k].zero - stretches[k - 1].zero
        # A jump of the audio's own timestamps there means the recording's audio moved;
        # samples that run on without one mean the mic chunks did.
        jump = audio_gap_near(starts, cut, WINDOW_SECONDS)
        moved = abs(jump + step) < STEP_SECONDS or abs(jump - step) < STEP_SECONDS
        stretches[k].cause = (
            "recording audio" if moved and abs(jump) >= STEP_SECONDS else "mic chunks"
        )
        logger.info(
            "Alignment: step of %+.1f ms at %.2f s of the recording (%s moved)",
            step * 1000,
            cut,
            stretches[k].cause,
        )
    return stretches


def _median(points: list[Window]) -> float:
    return statistics.median(w.zero for w in points)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0


def pieces(video: Path, stretches: list[Stretch], duration: float) -> list[Piece]:
    """The recording's stretches on the MP4 clock (second 0 = the first stretch's zero).

    A later stretch that starts before the previous one ends cuts that one's end.
    """
    out: list[Piece] = []
    first = stretches[0].zero
    for k, stretch in enumerate(stretches):
        end = duration if k == len(stretches) - 1 else min(stretch.end, duration)
        if end <= stretch.start:
            continue
        start = stretch.start + (stretch.zero - first)
        if out and start < out[-1].start + out[-1].keep:
            previous = out[-1]
            previous.keep = max(0.0, start - previous.start)
            previous.cut = True
        out.append(Piece(video, start, end - stretch.start, k < len(stretches) - 1, stretch.start))
    return [p for p in out if p.keep > 0]
