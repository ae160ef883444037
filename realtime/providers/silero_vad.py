"""Silero VAD: the offline interviewer's default turn detector.

The Silero v6 network that ships with faster-whisper (ONNX, run by onnxruntime) gives a
speech probability for every 32 ms window of 16 kHz audio. It tells speech from fans,
keyboard clicks and breathing by what they sound like rather than by how loud they are,
so quiet speech in noise is found and loud noise is not. The model file is checked
against its SHA-256 before it is loaded; any problem raises ``TurnDetectorUnavailable``
and ``vad.create_turn_detector`` falls back to the energy VAD.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..protocol import SAMPLE_RATE
from ..resample import StreamResampler
from .vad import VadEvent

SILERO_RATE = 16000
SILERO_WINDOW = 512  # samples at 16 kHz: 32 ms
SILERO_CONTEXT = 64  # samples of the previous window the network sees again
SILERO_FILE = "silero_vad_v6.onnx"
#: SHA-256 of the model file in faster-whisper 1.2.1 (requirements pin the version).
SILERO_SHA256 = "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2"


class TurnDetectorUnavailable(RuntimeError):
    """The Silero model cannot be used here (package, file or checksum)."""


@dataclass(frozen=True)
class SileroConfig:
    threshold: float = 0.5  # a window at or above this probability is speech …
    neg_threshold: float = 0.35  # … and a turn goes quiet only below this (hysteresis)
    min_speech_ms: int = 160  # speech windows before ``speech_started``
    silence_ms: int = 900  # quiet that ends a candidate turn (the hangover)
    prefix_padding_ms: int = 300  # ``audio_start_ms`` is this far before the first window


_silero_lock = threading.Lock()
_silero_session = None


def silero_model_path() -> Path:
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        raise TurnDetectorUnavailable("the faster-whisper package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / SILERO_FILE


def silero_session(path: Path | None = None, sha256: str = SILERO_SHA256):
    """The process's one ONNX session of the Silero model, checked and loaded on first use.

    A session is safe to share: each detector passes its own recurrent state in and out.
    """
    global _silero_session
    with _silero_lock:
        if _silero_session is not None and path is None:
            return _silero_session
        model = path or silero_model_path()
        try:
            data = model.read_bytes()
        except OSError as exc:
            raise TurnDetectorUnavailable(f"cannot read {model}: {exc}") from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256:
            raise TurnDetectorUnavailable(f"{model} has SHA-256 {digest}, expected {sha256}")
        try:
            import onnxruntime
        except ImportError as exc:
            raise TurnDetectorUnavailable("the onnxruntime package is not installed") from exc
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 4
        try:
            session = onnxruntime.InferenceSession(
                data, providers=["CPUExecutionProvider"], sess_options=options
            )
        except Exception as exc:
            raise TurnDetectorUnavailable(f"onnxruntime could not load {model}: {exc}") from exc
        if path is None:
            _silero_session = session
        return session


class SileroVad:
    """Silero speech probabilities turned into turns, with the energy VAD's interface.

    A run of windows at or above ``threshold`` lasting ``min_speech_ms`` starts a turn
    (dated from its first window, less the prefix padding). In a turn, a window below
    ``neg_threshold`` starts a quiet stretch that only a window at or above
    ``threshold`` ends; ``silence_ms`` of it ends the turn. Probabilities in between
    keep whatever state there is, as in Silero's own reference code.
    """

    def __init__(self, config: SileroConfig | None = None, session=None):
        self.config = config or SileroConfig()
        self._session = session or silero_session()
        self._resampler = StreamResampler(SAMPLE_RATE, SILERO_RATE)
        self._pending = np.zeros(0, dtype=np.float32)
        self._context = np.zeros(SILERO_CONTEXT, dtype=np.float32)
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._windows = 0
        self.in_speech = False
        self._run_start_ms: int | None = None
        self._run_ms = 0
        self._turn_ms = 0
        self._quiet_since_ms: int | None = None
        self._levels: list[float] = []
        self.last_probability = 0.0

    @property
    def processed_ms(self) -> int:
        return self._windows * SILERO_WINDOW * 1000 // SILERO_RATE

    @property
    def current_speech_ms(self) -> int:
        return self._turn_ms if self.in_speech else self._run_ms

    @property
    def trailing_silence_ms(self) -> int:
        if not self.in_speech or self._quiet_since_ms is None:
            return 0
        return self.processed_ms - self._quiet_since_ms

    def feed(self, pcm: bytes) -> list[VadEvent]:
        audio = self._resampler.feed_pcm16(pcm)
        data = np.concatenate([self._pending, audio]) if len(self._pending) else audio
        n = len(data) // SILERO_WINDOW
        self._pending = data[n * SILERO_WINDOW :].copy()
        if n == 0:
            return []
        windows = data[: n * SILERO_WINDOW].reshape(n, SILERO_WINDOW)
        contexts = np.vstack([self._context[None, :], windows[:-1, -SILERO_CONTEXT:]])
        batch = np.concatenate([contexts, windows], axis=1)
        # One call for all windows of the chunk: the network runs them in order, carrying
        # its state from each window to the next, exactly as one call per window would.
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = windows[-1, -SILERO_CONTEXT:].copy()
        rms = np.sqrt(np.mean(windows * windows, axis=1))
        levels = 20.0 * np.log10(np.maximum(rms, 1e-7))
        events = []
        for prob, level in zip(np.ravel(probs), levels, strict=True):
            event = self._step(float(prob), float(level))
            if event is not None:
                events.append(event)
        return events

    def _step(self, prob: float, level: float) -> VadEvent | None:
        c = self.config
        start_ms = self.processed_ms
        self._windows += 1
        end_ms = self.processed_ms
        width = end_ms - start_ms
        self.last_probability = prob
        if self.in_speech:
            if prob >= c.threshold:
                self._quiet_since_ms = None
            elif prob < c.neg_threshold and self._quiet_since_ms is None:
                self._quiet_since_ms = start_ms
            if self._quiet_since_ms is None:
                self._turn_ms += width
                self._levels.append(level)
                return None
            if end_ms - self._quiet_since_ms < c.silence_ms:
                return None
            speech_end = self._quiet_since_ms
            self.in_speech = False
            self._quiet_since_ms = None
            voiced, self._turn_ms = self._turn_ms, 0
            levels, self._levels = self._levels, []
            return VadEvent(
                "speech_stopped",
                end_ms,
                speech_ms=voiced,
                speech_end_ms=speech_end,
                modulation_db=round(float(np.std(levels)), 2) if levels else 0.0,
            )
        if prob >= c.threshold or (self._run_start_ms is not None and prob >= c.neg_threshold):
            if self._run_start_ms is None:
                self._run_start_ms = start_ms
                self._run_ms = 0
                self._levels = []
            self._run_ms += width
            self._levels.append(level)
            if self._run_ms >= c.min_speech_ms:
                self.in_speech = True
                self._turn_ms = self._run_ms
                onset = max(0, self._run_start_ms - c.prefix_padding_ms)
                self._run_start_ms = None
                self._run_ms = 0
                return VadEvent("speech_started", onset)
        else:
            self._run_start_ms = None
            self._run_ms = 0
        return None
