"""Turn detection for the offline interviewer: Silero VAD, and an energy VAD as fallback.

Both detectors take 24 kHz PCM16 as it arrives and report ``speech_started`` /
``speech_stopped`` in milliseconds of input audio since they started, like the
``audio_start_ms`` / ``audio_end_ms`` of OpenAI's server VAD. ``create_turn_detector``
picks one by name and falls back to the energy VAD, with one logged error, when the
Silero model cannot be loaded.

**Energy VAD** (``EnergyVad``): an adaptive noise floor and a hangover.

Frames of ``frame_ms`` are voiced when their level is ``snr_db`` above the noise
floor and above ``min_level_dbfs``. The floor is the quietest frame level seen in the
last ``floor_window_ms`` (minimum statistics): speech has short gaps between words, so
the minimum follows steady background noise (fans, hum) but not the voice. Nothing is
detected during the first ``calibration_ms`` while the floor is learned.

A turn's ``modulation_db`` (spread of its voiced frame levels) tells speech, whose
level moves with every syllable, from a steady noise that was briefly louder than the
floor (a fan switching on): the interviewer ignores turns below a few dB.

A turn starts after ``min_speech_ms`` of voiced frames with no gap longer than
``onset_gap_ms``, and ends after ``silence_ms`` without a voiced frame (the hangover).

**Silero VAD** (``silero_vad.SileroVad``): a neural speech probability per 32 ms
window, the default; see that module.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..protocol import SAMPLE_RATE

if TYPE_CHECKING:
    from .silero_vad import SileroConfig, SileroVad

logger = logging.getLogger("realtime.providers.vad")


@dataclass(frozen=True)
class VadConfig:
    frame_ms: int = 20
    snr_db: float = 10.0
    min_level_dbfs: float = -50.0
    floor_window_ms: int = 1500
    calibration_ms: int = 400
    min_speech_ms: int = 200
    onset_gap_ms: int = 100
    silence_ms: int = 1000
    prefix_padding_ms: int = 300


@dataclass(frozen=True)
class VadEvent:
    kind: str  # "speech_started" | "speech_stopped"
    audio_ms: int  # start (with prefix padding) or end (after the hangover), OpenAI style
    speech_ms: int = 0  # voiced duration of the turn (speech_stopped only)
    speech_end_ms: int = 0  # end of the last voiced frame (speech_stopped only)
    modulation_db: float = (
        0.0  # spread of voiced frame levels: speech varies, steady noise does not
    )


class EnergyVad:
    def __init__(self, config: VadConfig | None = None):
        self.config = config or VadConfig()
        c = self.config
        self._frame = SAMPLE_RATE * c.frame_ms // 1000
        self._pending = np.zeros(0, dtype=np.float32)
        self._processed_ms = 0
        self._levels: deque[float] = deque(maxlen=max(1, c.floor_window_ms // c.frame_ms))
        self.in_speech = False
        self._run_start_ms: int | None = None  # first voiced frame of a candidate onset
        self._run_voiced_ms = 0
        self._last_voiced_end_ms = 0
        self._turn_voiced_ms = 0
        self._sum = 0.0
        self._sumsq = 0.0
        self._n = 0
        self.floor_dbfs = c.min_level_dbfs - c.snr_db

    @property
    def processed_ms(self) -> int:
        return self._processed_ms

    @property
    def current_speech_ms(self) -> int:
        """Voiced duration of the candidate onset or turn in progress."""
        return self._turn_voiced_ms if self.in_speech else self._run_voiced_ms

    @property
    def trailing_silence_ms(self) -> int:
        """How long the turn in progress has been quiet (0 while voiced)."""
        return self._processed_ms - self._last_voiced_end_ms if self.in_speech else 0

    def feed(self, pcm: bytes) -> list[VadEvent]:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
        data = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        n = len(data) // self._frame
        self._pending = data[n * self._frame :].copy()
        if n == 0:
            return []
        frames = data[: n * self._frame].reshape(n, self._frame)
        rms = np.sqrt(np.mean(frames * frames, axis=1)) / 32768.0
        levels = 20.0 * np.log10(np.maximum(rms, 1e-7))
        events: list[VadEvent] = []
        for level in levels:
            event = self._step(float(level))
            if event is not None:
                events.append(event)
        return events

    def _step(self, level: float) -> VadEvent | None:
        c = self.config
        start_ms = self._processed_ms
        self._processed_ms += c.frame_ms
        self._levels.append(level)
        self.floor_dbfs = min(self._levels)
        if start_ms < c.calibration_ms:
            return None
        voiced = level >= max(self.floor_dbfs + c.snr_db, c.min_level_dbfs)
        if voiced:
            self._last_voiced_end_ms = self._processed_ms
        if voiced:
            self._n += 1
            self._sum += level
            self._sumsq += level * level
        if self.in_speech:
            if voiced:
                self._turn_voiced_ms += c.frame_ms
            elif self._processed_ms - self._last_voiced_end_ms >= c.silence_ms:
                self.in_speech = False
                voiced_ms, self._turn_voiced_ms = self._turn_voiced_ms, 0
                mean = self._sum / max(self._n, 1)
                spread = max(0.0, self._sumsq / max(self._n, 1) - mean * mean) ** 0.5
                self._n, self._sum, self._sumsq = 0, 0.0, 0.0
                return VadEvent(
                    "speech_stopped",
                    self._processed_ms,
                    speech_ms=voiced_ms,
                    speech_end_ms=self._last_voiced_end_ms,
                    modulation_db=round(spread, 2),
                )
            return None
        if voiced:
            if self._run_start_ms is None:
                self._run_start_ms = start_ms
                self._run_voiced_ms = 0
                self._n, self._sum, self._sumsq = 1, level, level * level
            self._run_voiced_ms += c.frame_ms
            if self._run_voiced_ms >= c.min_speech_ms:
                self.in_speech = True
                self._turn_voiced_ms = self._run_voiced_ms
                onset = max(0, self._run_start_ms - c.prefix_padding_ms)
                self._run_start_ms = None
                self._run_voiced_ms = 0
                return VadEvent("speech_started", onset)
        elif (
            self._run_start_ms is not None
            and self._processed_ms - self._last_voiced_end_ms > c.onset_gap_ms
        ):
            self._run_start_ms = None
            self._run_voiced_ms = 0
        return None


def create_turn_detector(
    kind: str = "silero",
    energy: VadConfig | None = None,
    silero: SileroConfig | None = None,
) -> EnergyVad | SileroVad:
    """The detector named ``kind``; the energy VAD when Silero cannot run here."""
    if kind == "silero":
        from .silero_vad import SileroVad, TurnDetectorUnavailable

        try:
            return SileroVad(silero)
        except TurnDetectorUnavailable as exc:
            _log_fallback_once(str(exc))
    elif kind != "energy":
        raise ValueError(f"Unknown turn detector {kind!r}")
    return EnergyVad(energy)


_fallback_logged = False


def _log_fallback_once(reason: str) -> None:
    global _fallback_logged
    if not _fallback_logged:
        _fallback_logged = True
        logger.error(
            "Silero VAD unavailable (%s); the offline interviewer uses the energy VAD", reason
        )
