"""Builders for synthetic spools, tones and media files used across these tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from media_export import ffmpeg
from media_export.spool import SAMPLE_RATE, SpoolWriter

SR = SAMPLE_RATE


def tone(freq: float, seconds: float, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return np.rint(amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2")


def const(value: int, samples: int) -> np.ndarray:
    return np.full(samples, value, dtype="<i2")


def speechlike(seconds: float, seed: int = 1, amplitude: float = 6000.0) -> np.ndarray:
    """Band-limited noise bursts with pauses: correlates sharply, like speech does."""
    rng = np.random.default_rng(seed)
    n = round(seconds * SR)
    noise = rng.standard_normal(n)
    kernel = np.hanning(9)
    noise = np.convolve(noise, kernel / kernel.sum(), mode="same")
    envelope = np.repeat(rng.random(n // 2400 + 1) > 0.35, 2400)[:n].astype(float)
    envelope = np.convolve(envelope, np.ones(240) / 240, mode="same")
    x = noise * envelope
    x = x / (np.abs(x).max() + 1e-9) * amplitude
    return np.rint(x).astype("<i2")


class SpoolBuilder:
    """Writes a session spool through the real ``SpoolWriter``."""

    def __init__(self, interview_id: int, session_id: str = "s1"):
        self.writer = SpoolWriter(interview_id, session_id, flush_seconds=0)
        self.session_id = session_id
        self._ai_seq = 0

    def rec(self, t: float, segment: int | None = None) -> SpoolBuilder:
        self.writer.recording_started(t, segment)
        return self

    def mic(self, seq: int, t: float, samples: np.ndarray) -> SpoolBuilder:
        self.writer.add_mic(seq, t, samples.astype("<i2").tobytes())
        return self

    def mic_stream(self, start: float, samples: np.ndarray, chunk: int = 2400, seq0: int = 0):
        """Split ``samples`` into 100 ms chunks stamped back to back from ``start``."""
        for i in range(0, len(samples), chunk):
            self.mic(seq0 + i // chunk, start + i / SR, samples[i : i + chunk])
        return self

    def ai(
        self,
        seq: int,
        t: float,
        samples: np.ndarray,
        resp: str = "r1",
        item: str = "i1",
        played: float | None = None,
    ) -> SpoolBuilder:
        self.writer.add_ai(seq, t, samples.astype("<i2").tobytes(), item, resp)
        if played is not None:
            self.writer.ai_played(seq, played)
        return self

    def played(self, seq: int, t: float) -> SpoolBuilder:
        self.writer.ai_played(seq, t)
        return self

    def cut(self, seq: int, played_ms: float) -> SpoolBuilder:
        self.writer.ai_cut(seq, played_ms)
        return self

    def end(self) -> SpoolBuilder:
        self.writer.end()
        self.writer.close()
        return self

    def close(self) -> SpoolBuilder:
        self.writer.close()
        return self


def write_wav(path: Path, samples: np.ndarray, rate: int = SR) -> Path:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def make_video(
    path: Path,
    audio_wav: Path,
    *,
    codec: str,
    seconds: float,
    audio_delay: float = 0.0,
    size: str = "160x120",
) -> Path:
    """A small test-pattern video whose audio track is ``audio_wav`` (delayed by ``audio_delay``)."""
    if codec == "vp8":
        vargs, aargs = (
            ["-c:v", "libvpx", "-b:v", "300k", "-deadline", "realtime"],
            ["-c:a", "libopus"],
        )
    else:
        vargs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        aargs = ["-c:a", "aac"]
    args = [
        "-y",
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={size}:rate=25:duration={seconds}",
    ]
    args += ["-itsoffset", f"{audio_delay:.4f}", "-i", str(audio_wav)]
    args += ["-map", "0:v", "-map", "1:a", *vargs, *aargs, "-t", f"{seconds}", str(path)]
    ffmpeg.run(args, what="making a test video", timeout=1800)
    return path


def ffprobe_streams(path: Path) -> list[dict]:
    import json

    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,start_time,duration",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        check=True,
    )
    return json.loads(out.stdout)["streams"]
