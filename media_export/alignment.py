"""Measuring where the video's first frame sits on the client clock.

The candidate's voice is in the video's audio track and in the spooled mic
chunks. Cross-correlating the two (normalised, FFT) gives the true offset;
``recording_started`` is only the browser's estimate (tens of ms off). When
the correlation is weak (a silent candidate), the estimate is used instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ffmpeg
from .mixing import _pcm, place
from .spool import SAMPLE_RATE, SessionSpool
from .timeline import build_timeline, default_zero

logger = logging.getLogger("media_export")

WINDOW_SECONDS = 60.0  # how much of the video's audio is compared
SEARCH_SECONDS = 1.0  # largest correction searched around the estimate
SEARCH_SECONDS_NO_REC = 3.0  # when the estimate is only the first mic chunk
MIN_CONFIDENCE = 0.5  # normalised correlation needed to trust the measurement
MIN_RMS = 10.0  # int16 units: below this the window is silence


@dataclass
class Alignment:
    zero: float  # client-clock seconds of the video's first frame (the value used)
    estimate: float  # recording_started (or its fallback)
    estimate_basis: str
    measured: float | None  # from the correlation; None when not measurable
    confidence: float
    used: str  # "measured" or the estimate's basis
    audio_start: float  # video's audio start relative to its first frame (s)


def correlate(reference: np.ndarray, signal: np.ndarray, max_lag: int) -> tuple[int, float, float]:
    """Find ``lag`` where ``signal[i] ~ reference[i + lag]``, |lag| <= max_lag.

    ``reference`` must hold ``len(signal) + 2 * max_lag`` samples, its index 0
    being lag ``-max_lag``. Returns (lag, sub-sample refinement, normalised peak).
    """
    sig = signal.astype(np.float64)
    ref = reference.astype(np.float64)
    n = len(sig)
    # Lags 0..2*max_lag never wrap around a circle as long as the reference does: no padding
    # to len(ref) + n is needed, which halves the transforms.
    size = 1 << int(np.ceil(np.log2(len(ref))))
    spec = np.fft.rfft(ref, size) * np.conj(np.fft.rfft(sig, size))
    full = np.fft.irfft(spec, size)[: 2 * max_lag + 1]
    # Energy of each reference window, for the normalisation (running sum).
    csum = np.concatenate(([0.0], np.cumsum(ref * ref)))
    win = csum[n : n + 2 * max_lag + 1] - csum[: 2 * max_lag + 1]
    denom = np.sqrt(np.maximum(win, 1e-12) * max(float(sig @ sig), 1e-12))
    norm = full / denom
    best = int(np.argmax(norm))
    return best - max_lag, _refine(norm, best), float(norm[best])


def correlate_near(
    reference: np.ndarray, signal: np.ndarray, max_lag: int, expected: int, reach: int
) -> tuple[int, float, float] | None:
    """``correlate`` looking only at lags ``expected ± reach`` (direct products, no FFT).

    Returns None unless the best of them is a peak inside that range: then the full search
    is needed. Following a recording, the zero of the next window is nearly always the last
    one's, and a few dozen dot products cost a fraction of three transforms.
    """
    lo, hi = expected - reach + max_lag, expected + reach + max_lag + 1
    n = len(signal)
    if lo < 0 or hi > 2 * max_lag + 1:
        return None
    sig = signal.astype(np.float64)
    ref = reference[lo : hi - 1 + n].astype(np.float64)
    products = np.array([ref[k : k + n] @ sig for k in range(hi - lo)])
    # Energy of each reference window: the first one, then what enters and leaves it.
    edges = ref[n:] ** 2 - ref[: hi - lo - 1] ** 2
    win = float(ref[:n] @ ref[:n]) + np.concatenate(([0.0], np.cumsum(edges)))
    norm = products / np.sqrt(np.maximum(win, 1e-12) * max(float(sig @ sig), 1e-12))
    best = int(np.argmax(norm))
    if not 0 < best < len(norm) - 1:
        return None
    return best + lo - max_lag, _refine(norm, best), float(norm[best])


def _refine(norm: np.ndarray, best: int) -> float:
    """Sub-sample position of the peak at ``best`` (a parabola through it and its neighbours)."""
    if 0 < best < len(norm) - 1:
        a, b, c = norm[best - 1], norm[best], norm[best + 1]
        curve = a - 2 * b + c
        if curve < 0:
            return float(0.5 * (a - c) / curve)
    return 0.0


def measure(spool: SessionSpool, video_path: Path) -> Alignment:
    """Measure the client time of the video's first frame from the audio both share."""
    estimate, basis = default_zero(spool)
    video_start = ffmpeg.first_frame_time(video_path, "video") or 0.0
    audio_start = ffmpeg.first_frame_time(video_path, "audio")
    if audio_start is None:
        audio_start = video_start
    offset = audio_start - video_start  # where the decoded audio's sample 0 plays
    fallback = Alignment(estimate, estimate, basis, None, 0.0, basis, offset)

    decoded = ffmpeg.decode_audio(video_path, SAMPLE_RATE, max_seconds=WINDOW_SECONDS)
    rms = float(np.sqrt(np.mean(decoded.astype(np.float64) ** 2))) if len(decoded) else 0.0
    if not spool.mic or rms < MIN_RMS:
        logger.info("Alignment: no usable speech (rms %.1f); using %s", rms, basis)
        return fallback

    search = SEARCH_SECONDS if basis == "recording_started" else SEARCH_SECONDS_NO_REC
    max_lag = round(search * SAMPLE_RATE)
    # Mic track on a timeline whose sample 0 is (estimate + offset - search):
    # then decoded[i] ~ mic[i + max_lag + correction].
    start = estimate + offset - search
    timeline = build_timeline(spool, zero=start, basis=basis)
    mic = place(_pcm(spool.mic_path), timeline.mic, len(decoded) + 2 * max_lag)
    if float(np.abs(mic).max(initial=0)) < MIN_RMS:
        return fallback
    lag, frac, peak = correlate(mic, decoded, max_lag)
    correction = (lag + frac) / SAMPLE_RATE
    measured = estimate + correction
    confidence = max(0.0, min(1.0, peak))
    if confidence < MIN_CONFIDENCE:
        logger.info(
            "Alignment: weak correlation %.2f (correction %+.1f ms); using %s",
            confidence,
            correction * 1000,
            basis,
        )
        return Alignment(estimate, estimate, basis, measured, confidence, basis, offset)
    logger.info(
        "Alignment: video zero measured %+.1f ms from %s (confidence %.2f)",
        correction * 1000,
        basis,
        confidence,
    )
    return Alignment(measured, estimate, basis, measured, confidence, "measured", offset)
