"""Measure where audio really sits in the files the product wrote.

Plain numpy + FFmpeg, no product code: the end-to-end test must judge the
product's alignment with its own ruler. Conventions used throughout:

- Every signal is mono float32 at ``SR`` (24 kHz, the product's timeline rate).
- ``find_offset(reference, signal)`` returns ``d`` (seconds) such that
  ``signal(t) ≈ reference(t - d)``: a positive ``d`` means ``signal`` is late.
- ``decode_audio`` puts sample 0 at the file's presentation zero (the video's
  first frame for files with video), honouring the audio stream's real start
  time, encoder delay and edit lists; a naive decode silently drops those.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SR = 24000


class AnalysisError(RuntimeError):
    """A file could not be probed or decoded, or a measurement is not trustworthy."""


# -- FFmpeg helpers ----------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise AnalysisError(f"{name} is not installed")
    return path


def _run(tool: str, args: list[str], failure: str) -> bytes:
    """Run ``tool`` with ``args``; its stdout, or an ``AnalysisError`` naming ``failure``."""
    proc = subprocess.run([_tool(tool), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise AnalysisError(f"{failure}: {proc.stderr.decode(errors='replace')[-800:]}")
    return proc.stdout


def probe(path: Path | str) -> dict:
    """ffprobe's JSON for streams and format."""
    args = ["-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)]
    return json.loads(_run("ffprobe", args, f"ffprobe failed on {path}"))


def first_audio_frame(path: Path | str) -> float:
    """Where the container puts the first decoded audio sample (s), by ffprobe."""
    args = [
        "-v",
        "error",
        "-select_streams",
        "a",
        "-show_frames",
        "-read_intervals",
        "%+#1",
        "-show_entries",
        "frame=pts_time",
        "-of",
        "csv=p=0",
        str(path),
    ]
    failure = f"ffprobe found no audio frame in {path}"
    times = _run("ffprobe", args, failure).split()
    if not times:
        raise AnalysisError(failure)
    return float(times[0])


def streams_of(info: dict, kind: str) -> list[dict]:
    return [s for s in info.get("streams", []) if s.get("codec_type") == kind]


def packet_times(path: Path | str, stream: str) -> np.ndarray:
    """Presentation times (s) of every packet of one stream (``a:0``, ``v:0``), sorted."""
    args = [
        "-v",
        "error",
        "-select_streams",
        stream,
        "-show_entries",
        "packet=pts_time,duration_time",
        "-of",
        "csv=p=0",
        str(path),
    ]
    out = _run("ffprobe", args, f"ffprobe packets failed on {path}")
    starts = []
    for line in out.decode().splitlines():
        parts = line.strip().split(",")
        if parts and parts[0] not in ("", "N/A"):
            starts.append(float(parts[0]))
    return np.sort(np.array(starts, dtype=np.float64))


def media_span(path: Path | str, stream: str = "v:0") -> tuple[float, float]:
    """(first, last) packet presentation time of a stream.

    MediaRecorder's WebM carries no duration header, so the span of the video
    packets is the honest length of what was recorded.
    """
    times = packet_times(path, stream)
    if times.size == 0:
        raise AnalysisError(f"no packets in stream {stream} of {path}")
    return float(times[0]), float(times[-1])


def stream_start(info: dict, kind: str) -> float | None:
    streams = streams_of(info, kind)
    if not streams:
        return None
    value = streams[0].get("start_time")
    return float(value) if value not in (None, "N/A") else None


def decode_audio(path: Path | str, sr: int = SR) -> np.ndarray:
    """Decode the first audio stream to mono float32, sample 0 = presentation zero.

    Zero is the video stream's start when the file has video, else 0 s. FFmpeg
    writes a raw stream beginning with the first decoded sample, wherever that
    sits; ``aresample=async=1:first_pts=0`` pads (or trims) the start so the
    output begins at pts 0 without stretching anything later. The video start
    is then removed so that the video's first frame is sample 0.
    """
    info = probe(path)
    if not streams_of(info, "audio"):
        raise AnalysisError(f"{path} has no audio stream")
    args = [
        "-v",
        "error",
        "-nostdin",
        "-copyts",
        "-i",
        str(path),
        "-map",
        "0:a:0",
        "-af",
        f"aresample={sr}:async=1:first_pts=0",
        "-ac",
        "1",
        "-f",
        "f32le",
        "-",
    ]
    raw = _run("ffmpeg", args, f"ffmpeg decode failed on {path}")
    audio = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    video_start = stream_start(info, "video") or 0.0
    shift = round(video_start * sr)
    if shift > 0:
        audio = audio[shift:]
    elif shift < 0:
        audio = np.concatenate([np.zeros(-shift, np.float32), audio])
    return audio


def read_wav(path: Path | str) -> tuple[np.ndarray, int]:
    """A PCM16 WAV as mono float32 in [-1, 1] and its rate (exact, no FFmpeg)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise AnalysisError(f"{path}: expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit")
        channels = wav.getnchannels()
        rate = wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return (data.astype(np.float32) / 32768.0), rate


def write_wav(path: Path | str, samples: np.ndarray, sr: int) -> None:
    pcm = np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32767), -32768, 32767)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sr)
        wav.writeframes(pcm.astype("<i2").tobytes())


def pcm16_to_float(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


# -- correlation -------------------------------------------------------------


def _next_pow2(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


def xcorr(reference: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, int]:
    """Full cross-correlation by FFT; returns (values, lag of index 0 in samples).

    ``values[i]`` is ``sum_n signal[n] * reference[n - lag]`` for ``lag = i + first``.
    """
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(signal, dtype=np.float64)
    n = _next_pow2(len(a) + len(b) - 1)
    spec = np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n))
    full = np.fft.irfft(spec, n)
    # Lags -(len(a)-1) .. len(b)-1; negative lags wrap to the end of the buffer.
    values = np.concatenate([full[n - (len(a) - 1) :], full[: len(b)]])
    return values, -(len(a) - 1)


def parabolic(values: np.ndarray, index: int) -> float:
    """Sub-sample position of a peak from its two neighbours."""
    if index <= 0 or index >= len(values) - 1:
        return float(index)
    left, mid, right = values[index - 1], values[index], values[index + 1]
    denom = left - 2 * mid + right
    if denom == 0:
        return float(index)
    return index + 0.5 * (left - right) / denom


@dataclass
class Offset:
    seconds: float
    score: float  # normalised correlation at the peak, in [-1, 1]

    @property
    def ms(self) -> float:
        return self.seconds * 1000.0


def find_offset(
    reference: np.ndarray,
    signal: np.ndarray,
    sr: int = SR,
    max_lag: float | None = None,
    center: float = 0.0,
) -> Offset:
    """Delay of ``signal`` against ``reference`` (s), searched within ``center ± max_lag``.

    The score is the peak divided by the product of the two signals' norms over
    their overlap at that lag, so 1.0 means identical up to gain.
    """
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(signal, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        raise AnalysisError("cannot correlate an empty signal")
    values, first = xcorr(a, b)
    lags = np.arange(len(values)) + first
    if max_lag is not None:
        lo = int(np.floor((center - max_lag) * sr))
        hi = int(np.ceil((center + max_lag) * sr))
        mask = (lags >= lo) & (lags <= hi)
        if not mask.any():
            raise AnalysisError("search window outside the signals")
        values = np.where(mask, values, -np.inf)
    index = int(np.argmax(values))
    lag = lags[index]
    # Norms over the overlap at this lag.
    a_lo, a_hi = max(0, -lag), min(len(a), len(b) - lag)
    overlap_a = a[a_lo:a_hi]
    overlap_b = b[a_lo + lag : a_hi + lag]
    denom = float(np.linalg.norm(overlap_a) * np.linalg.norm(overlap_b))
    score = float(values[index] / denom) if denom > 0 else 0.0
    finite = np.where(np.isfinite(values), values, values[index])
    precise = parabolic(finite, index) + first
    return Offset(seconds=precise / sr, score=score)


def normalized_match(signal: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation of ``template`` at every start position in ``signal``.

    ``out[k]`` compares ``signal[k : k + len(template)]`` with the template; 1.0 is
    an exact match up to gain. Positions where the signal is silent score 0.
    """
    s = np.asarray(signal, dtype=np.float64)
    t = np.asarray(template, dtype=np.float64)
    m = len(t)
    if len(s) < m:
        return np.zeros(0)
    values, first = xcorr(t, s)
    raw = values[-first : -first + len(s) - m + 1]
    csum = np.concatenate([[0.0], np.cumsum(s * s)])
    energy = csum[m:] - csum[:-m]
    tnorm = float(np.linalg.norm(t))
    floor = max(1e-12, 1e-6 * tnorm**2)
    denom = np.sqrt(np.maximum(energy, floor)) * tnorm
    out = raw / denom
    out[energy < floor] = 0.0
    return out


def find_template(
    signal: np.ndarray,
    template: np.ndarray,
    sr: int = SR,
    expected: float | None = None,
    window: float | None = None,
) -> Offset:
    """Start time (s) in ``signal`` where ``template`` fits best (optionally near ``expected``)."""
    s = np.asarray(signal, dtype=np.float64)
    lo = 0
    if expected is not None and window is not None:
        lo = max(0, int(np.floor((expected - window) * sr)))
        hi = min(len(s), int(np.ceil((expected + window) * sr)) + len(template))
        s = s[lo:hi]
    match = normalized_match(s, template)
    if match.size == 0:
        raise AnalysisError("template longer than the searched signal")
    index = int(np.argmax(match))
    return Offset(seconds=(parabolic(match, index) + lo) / sr, score=float(match[index]))


def find_markers(
    signal: np.ndarray,
    template: np.ndarray,
    sr: int = SR,
    threshold: float = 0.6,
    min_gap: float = 1.0,
) -> list[Offset]:
    """Every place the marker ``template`` occurs (score ≥ threshold), ``min_gap`` apart."""
    match = normalized_match(signal, template)
    found: list[Offset] = []
    candidates = np.flatnonzero(match >= threshold)
    if candidates.size == 0:
        return found
    gap = int(min_gap * sr)
    # Group candidates into clusters and keep each cluster's best peak.
    start = 0
    for i in range(1, candidates.size + 1):
        if i == candidates.size or candidates[i] - candidates[i - 1] > gap:
            cluster = candidates[start:i]
            best = int(cluster[np.argmax(match[cluster])])
            found.append(Offset(seconds=parabolic(match, best) / sr, score=float(match[best])))
            start = i
    return found


# -- chirp markers -----------------------------------------------------------


def chirp(sr: int, duration: float = 0.06, f0: float = 600.0, f1: float = 3000.0) -> np.ndarray:
    """A Hann-windowed linear sweep: sharp autocorrelation, survives Opus and AAC."""
    n = round(duration * sr)
    t = np.arange(n) / sr
    phase = 2 * np.pi * (f0 * t + (f1 - f0) / (2 * duration) * t * t)
    return (np.sin(phase) * np.hanning(n)).astype(np.float32)


# -- timeline reconstruction ---------------------------------------------------


def place_chunks(
    chunks: list[tuple[float, np.ndarray]], sr: int = SR, origin: float = 0.0
) -> np.ndarray:
    """Lay (timestamp, samples) chunks on one track, sample 0 = ``origin`` seconds."""
    if not chunks:
        return np.zeros(0, np.float32)
    starts = [round((t - origin) * sr) for t, _ in chunks]
    end = max(s + len(c) for s, (_, c) in zip(starts, chunks, strict=True))
    first = min(starts)
    if first < 0:
        raise AnalysisError("a chunk starts before the origin")
    track = np.zeros(end, np.float32)
    for s, (_, c) in zip(starts, chunks, strict=True):
        track[s : s + len(c)] += c
    return track


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        raise AnalysisError("no values to summarise")
    arr = np.abs(np.asarray(values, dtype=np.float64))
    return {
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "max": float(arr.max()),
    }


def rms(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0
