"""Picture against sound in the MP4, window by window along the whole recording.

Under load the recording and the page's mic chunks can move apart once mid-interview (a
step); one offset over the whole file cannot say whether the MP4 follows it. Here each
window of the recording's audio (decoded with its timestamps, as a player hears it) is
found in ``*_mic.wav`` and in the MP4's audio, and the same moment's pictures are found
among the MP4's frames: the sound's place minus the picture's place is the A/V error
there. Nothing is read from the product's own record of what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.e2e import segment_checks
from tests.e2e import sync_analysis as sa

SR = sa.SR
WINDOW_SECONDS = 3.0
MIN_SCORE = 0.6  # a window's audio must be found this clearly (silence is skipped)
MIN_RMS = 0.003
# Whole frames, small: Chromium's fake camera repeats its picture only every few seconds,
# and the search is within a second of where the sound is.
FULL_FRAME = "crop=iw:ih:0:0"
FULL_SIZE = (64, 48)
RUN_SECONDS = 0.6  # the frames ``shift_at`` matches from its time on (15 frames and a bit)


@dataclass
class WindowCheck:
    start: float  # seconds of the recording from its first frame
    sound_ms: float  # where *_mic.wav has this window's audio, against the recording (ms)
    in_mp4_ms: float  # where the MP4's audio has it (ms)
    picture_ms: float  # where the MP4 shows this window's pictures, against the recording (ms)
    score: float  # how clearly *_mic.wav has this window's audio
    in_mp4_score: float  # how clearly the MP4's audio has it (the AI's voice over it lowers it)

    @property
    def error_ms(self) -> float:
        """Sound minus picture in the MP4 (positive: the voice comes after the lips)."""
        return self.sound_ms - self.picture_ms


@dataclass
class Pictures:
    upload_times: np.ndarray
    upload_frames: np.ndarray
    mp4_times: np.ndarray
    mp4_frames: np.ndarray

    @classmethod
    def read(cls, upload: Path, mp4: Path) -> Pictures:
        up = segment_checks.grey_frames(upload, FULL_FRAME, FULL_SIZE)
        out = segment_checks.grey_frames(mp4, FULL_FRAME, FULL_SIZE)
        return cls(up[0], up[1], out[0], out[1])

    def shift_at(self, at: float, guess: float) -> float:
        """Where the MP4 shows the recording's pictures from ``at`` on, minus ``at`` (s)."""
        run = segment_checks.MATCH_FRAMES
        i = int(np.searchsorted(self.upload_times, at))
        i = max(0, min(i, len(self.upload_frames) - run))
        needle = self.upload_frames[i : i + run]
        j, _, _ = segment_checks.locate_run(
            self.mp4_times, self.mp4_frames, needle, self.upload_times[i] + guess
        )
        return float(self.mp4_times[j] - self.upload_times[i])


def windows(
    upload_audio: np.ndarray, mic: np.ndarray, mp4_audio: np.ndarray, pictures: Pictures
) -> list[WindowCheck]:
    """Every window of the recording with a clear voice, checked in the MP4."""
    size = round(WINDOW_SECONDS * SR)
    out = []
    for s in range(0, len(upload_audio) - size // 2, size):
        chunk = upload_audio[s : s + size]
        start = s / SR
        if sa.rms(chunk) < MIN_RMS:
            continue
        sound = segment_checks.offset_at(chunk, mic, start)
        if not sound.score >= MIN_SCORE:
            continue
        in_mp4 = segment_checks.offset_at(chunk, mp4_audio, start)
        picture = pictures.shift_at(start, sound.seconds)
        end = pictures.shift_at(start + len(chunk) / SR - RUN_SECONDS, sound.seconds)
        if abs(end - picture) > 0.002:
            continue  # the MP4's pictures are cut inside this window: its neighbours tell
        out.append(
            WindowCheck(start, sound.ms, in_mp4.ms, picture * 1000, sound.score, in_mp4.score)
        )
    return out


def worst(checks: list[WindowCheck], value) -> WindowCheck | None:
    """The window where ``value`` is largest in size."""
    return max(checks, key=lambda c: abs(value(c)), default=None)


def stretch_zeros(
    client: list[float], video: list[float], tolerance: float
) -> list[tuple[float, list[tuple[float, float]]]]:
    """Marker shifts that hold for two or more markers each: one per stretch, in time order.

    After a step, the markers behind it pair with their own shift; the largest group comes
    from ``consensus_offset`` as before, the rest from what it left unpaired.
    """
    from tests.e2e.sync_checks import consensus_offset

    groups = []
    a, b = list(client), list(video)
    while len(a) >= 2 and len(b) >= 2:
        shift, pairs = consensus_offset(a, b, tolerance)
        if len(pairs) < 2 and groups:
            break
        groups.append((shift, pairs))
        a = [x for x in a if x not in {p[0] for p in pairs}]
        b = [y for y in b if y not in {p[1] for p in pairs}]
    return sorted(groups, key=lambda g: min(p[1] for p in g[1]))
