"""The candidate's voice for the browser test: a WAV Chromium plays as its fake microphone.

Spoken answers (eSpeak NG) separated by silences far longer than the offline
interviewer's end-of-turn hangover, and a chirp marker just before and just after
each utterance. The markers are too short to count as speech for the interviewer
(its VAD needs 200 ms of voice) but are sharp enough to be located to a fraction
of a millisecond, in the browser's recording and in the audio the page streamed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tests.e2e import sync_analysis as sa

FILE_RATE = 48000  # Chromium's fake device then only converts to its own rate
MARKER_GAP = 0.35  # seconds between a marker and the speech it brackets
SPEECH_PEAK = 0.5
MARKER_PEAK = 0.35


@dataclass
class Cue:
    kind: str  # "answer" or "barge_in"
    text: str
    start: float  # speech start, seconds into the file
    end: float = 0.0


@dataclass
class FakeMic:
    path: Path
    sample_rate: int
    duration: float
    cues: list[Cue] = field(default_factory=list)
    markers: list[float] = field(default_factory=list)  # marker starts, seconds into the file

    def to_json(self) -> dict:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def speak(text: str, voice: str = "en-us+m3", words_per_minute: int = 160) -> np.ndarray:
    """eSpeak NG speech as float32 at FILE_RATE (the system binary, resampled by FFmpeg)."""
    espeak = shutil.which("espeak-ng")
    ffmpeg = shutil.which("ffmpeg")
    if not espeak or not ffmpeg:
        raise sa.AnalysisError("espeak-ng and ffmpeg are needed to make the fake microphone")
    wav = subprocess.run(
        [espeak, "-v", voice, "-s", str(words_per_minute), "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    raw = subprocess.run(
        [ffmpeg, "-v", "error", "-i", "-", "-ar", str(FILE_RATE), "-ac", "1", "-f", "f32le", "-"],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout
    audio = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    # Trim eSpeak's own leading/trailing silence so cue times are speech times.
    voiced = np.flatnonzero(np.abs(audio) > 1e-3)
    if voiced.size == 0:
        raise sa.AnalysisError(f"espeak-ng produced silence for {text!r}")
    audio = audio[voiced[0] : voiced[-1] + 1]
    return (audio / np.max(np.abs(audio)) * SPEECH_PEAK).astype(np.float32)


def build_fake_mic(
    path: Path,
    plan: list[tuple[str, float, str]],
    duration: float,
    extra_markers: tuple[float, ...] = (),
) -> FakeMic:
    """Render ``plan`` into a mono PCM16 WAV at ``path``.

    Each entry is (kind, delay, text): the speech starts ``delay`` seconds after the
    previous utterance ended (the first one: ``delay`` seconds into the file), so
    timing rules such as "start 2.8 s after the answer" hold whatever the speech lengths.
    ``extra_markers`` (seconds into the file) are markers on their own, in the silences:
    more of them measure a stretch of recording more surely. Each must lie at least a
    second away from every other marker and outside the speech.
    """
    total = int(duration * FILE_RATE)
    track = np.zeros(total, np.float64)
    marker = sa.chirp(FILE_RATE) * MARKER_PEAK
    marker_s = len(marker) / FILE_RATE
    mic = FakeMic(path=Path(path), sample_rate=FILE_RATE, duration=duration)
    previous_end = 0.0
    last_mark_end = -1.0
    for kind, delay, text in plan:
        speech = speak(text)
        start = previous_end + delay
        end = start + len(speech) / FILE_RATE
        before, after = start - MARKER_GAP - marker_s, end + MARKER_GAP
        if before < last_mark_end + 0.5 or after + marker_s + 1.0 > duration:
            raise ValueError(f"cue {text!r} at {start:.2f}s overlaps its neighbour or the end")
        s = round(start * FILE_RATE)
        track[s : s + len(speech)] += speech
        for at in (before, after):
            m = round(at * FILE_RATE)
            track[m : m + len(marker)] += marker
            mic.markers.append(m / FILE_RATE)
        mic.cues.append(Cue(kind=kind, text=text, start=start, end=end))
        previous_end = end
        last_mark_end = after + marker_s
    for at in extra_markers:
        near = [m for m in mic.markers if abs(m - at) < 1.0]
        speech = [c for c in mic.cues if c.start - 0.5 < at < c.end + 0.5]
        if near or speech or at + marker_s + 1.0 > duration:
            raise ValueError(f"extra marker at {at:.2f}s is too near a marker or speech")
        m = round(at * FILE_RATE)
        track[m : m + len(marker)] += marker
        mic.markers.append(m / FILE_RATE)
    mic.markers.sort()
    sa.write_wav(path, track, FILE_RATE)
    Path(path).with_suffix(".json").write_text(json.dumps(mic.to_json(), indent=2))
    return mic
