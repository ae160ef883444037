"""The process's speech recogniser: one Whisper model, a bounded pool, a bounded queue.

``Transcriber.submit`` never blocks the caller. It hands 24 kHz PCM16 to a small pool
of worker threads and returns a ``concurrent.futures.Future`` (await it with
``asyncio.wrap_future``). At most ``queue_limit`` pieces of audio wait or run at once;
past that ``submit`` raises ``QueueFull`` at once, so a burst of candidates can never
grow memory or delay without bound. The caller keeps nothing: the spool holds every
turn's audio and ``transcribe_interview`` can transcribe it later.

The model is loaded once per process, in a worker thread: a server loads it at startup
(``load_at_startup``), before any candidate is recording, since loading takes seconds of
CPU; other processes load it on first use. If it cannot be verified or loaded, the
reason is logged once and every ``submit`` raises ``TranscriberUnavailable``; the
interview goes on.

Worker threads run at a lower CPU priority (``nice`` +10, Linux), and CTranslate2's
threads, created from them, inherit it: on a busy machine the interviewer's own work
(the event loop, the next question's synthesis) comes first.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..resample import StreamResampler
from .models import ModelSource, ModelUnavailable, resolve

logger = logging.getLogger("realtime.transcription")

WHISPER_RATE = 16000
INPUT_RATE = 24000
LANGUAGE = "en"  # the offline interviewer speaks English; tiny.en knows nothing else
WORKER_NICENESS = 10


class TranscriberUnavailable(RuntimeError):
    """Recognition cannot run (switched off, model missing or unverified)."""


class QueueFull(TranscriberUnavailable):
    """Too much audio is already waiting; this piece was not accepted."""


@dataclass(frozen=True)
class Transcription:
    text: str
    audio_seconds: float
    busy_seconds: float  # time the model spent on it


@dataclass(frozen=True)
class TranscriberConfig:
    choice: str = "whisper-base"
    model_dir: str | None = None
    cache_dir: Path = Path("var/models")
    workers: int = 1
    threads: int = 2
    queue_limit: int = 16
    beam_size: int = 1


def pcm16_to_whisper(pcm: bytes) -> np.ndarray:
    """24 kHz PCM16 → 16 kHz float32, the recogniser's input."""
    resampler = StreamResampler(INPUT_RATE, WHISPER_RATE)
    return np.concatenate([resampler.feed_pcm16(pcm), resampler.flush()])


def _lower_priority() -> None:
    # Not Linux, or not allowed: run at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)


class Transcriber:
    def __init__(self, config: TranscriberConfig):
        self.config = config
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, config.workers),
            thread_name_prefix="transcriber",
            initializer=_lower_priority,
        )
        self._lock = threading.Lock()  # the counters only: never held for long
        self._load_lock = threading.Lock()
        self._pending = 0
        self._model = None
        self._source: ModelSource | None = None
        self._model_error: str | None = None
        self._load_future: concurrent.futures.Future | None = None
        if config.choice == "off":
            self._model_error = "speech-to-text is switched off (TRANSCRIPTION=off)"
        self.model_label = ""

    # -- state ---------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Pieces of audio accepted and not finished yet."""
        return self._pending

    @property
    def unavailable_reason(self) -> str | None:
        return self._model_error

    def preload(self) -> concurrent.futures.Future:
        """Load the model in a worker thread now (idempotent); the future ends when ready."""
        with self._lock:
            if self._load_future is None:
                self._load_future = self._pool.submit(self._ensure_model)
            return self._load_future

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the model is loaded (True) or known to be unavailable (False)."""
        if self._model_error is not None:
            return False
        try:
            self.preload().result(timeout)
        except TranscriberUnavailable:
            return False
        return self._model is not None

    # -- work ----------------------------------------------------------------------------
    def submit(self, pcm: bytes) -> concurrent.futures.Future:
        """Transcribe 24 kHz PCM16 off the caller's thread; raises at once if it cannot."""
        if self._model_error is not None:
            raise TranscriberUnavailable(self._model_error)
        with self._lock:
            if self._pending >= self.config.queue_limit:
                raise QueueFull(
                    f"{self._pending} pieces of audio are already waiting for speech-to-text"
                )
            self._pending += 1
        self.preload()
        try:
            future = self._pool.submit(self._run, pcm)
        except RuntimeError as exc:  # the pool was shut down
            self._finished(None)
            raise TranscriberUnavailable(str(exc)) from exc
        future.add_done_callback(self._finished)
        return future

    def transcribe(self, pcm: bytes) -> Transcription:
        """Blocking form of ``submit`` for commands and benchmarks."""
        return self.submit(pcm).result()

    def _finished(self, _future) -> None:
        with self._lock:
            self._pending -= 1

    def _run(self, pcm: bytes) -> Transcription:
        model = self._ensure_model()
        started = time.monotonic()
        audio = pcm16_to_whisper(pcm)
        segments, _info = model.transcribe(
            audio,
            language=LANGUAGE,
            beam_size=self.config.beam_size,
            vad_filter=False,  # the turn detector already cut the speech out
            condition_on_previous_text=False,
        )
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcription(
            text=text,
            audio_seconds=len(pcm) / 2 / INPUT_RATE,
            busy_seconds=time.monotonic() - started,
        )

    def _unavailable(self, exc: BaseException) -> TranscriberUnavailable:
        """Remember why recognition cannot run and say so, once."""
        self._model_error = f"speech-to-text model unavailable: {exc}"
        logger.error(
            "%s. Candidate turns are stored as not transcribed; after fixing it, "
            "run `manage.py transcribe_interview <id>` for the interviews affected.",
            self._model_error,
        )
        return TranscriberUnavailable(self._model_error)

    def _verified_source(self) -> ModelSource:
        with self._load_lock:
            if self._source is not None:
                return self._source
            if self._model_error is not None:
                raise TranscriberUnavailable(self._model_error)
            try:
                self._source = resolve(
                    self.config.choice, self.config.model_dir, self.config.cache_dir
                )
            except (ModelUnavailable, OSError) as exc:
                raise self._unavailable(exc) from exc
            return self._source

    def _ensure_model(self):
        if self._model is not None:
            return self._model
        source = self._verified_source()
        with self._load_lock:
            if self._model is not None:
                return self._model
            if self._model_error is not None:
                raise TranscriberUnavailable(self._model_error)
            started = time.monotonic()
            try:
                self._model = _load_whisper(source, self.config)
            except (ImportError, RuntimeError, ValueError, OSError) as exc:
                raise self._unavailable(exc) from exc
            self._source = None  # loaded: the bytes a folder-less source held can go
            self.model_label = source.label
            logger.info(
                "Speech-to-text model %s loaded in %.1f s (%d worker(s), %d thread(s))",
                source.label,
                time.monotonic() - started,
                self.config.workers,
                self.config.threads,
            )
            return self._model

    def close(self, wait: bool = False) -> None:
        """Drop queued work; ``wait`` also waits for the piece (or the load) in progress."""
        self._pool.shutdown(wait=wait, cancel_futures=True)


def _load_whisper(source: ModelSource, config: TranscriberConfig):
    from faster_whisper import WhisperModel

    options = {
        "device": "cpu",
        "compute_type": "int8",
        "cpu_threads": config.threads,
        "num_workers": config.workers,
    }
    if source.directory is not None:
        return WhisperModel(str(source.directory), **options)
    return WhisperModel(source.label, files=dict(source.files or {}), **options)


_transcribers: dict[TranscriberConfig, Transcriber] = {}
_registry_lock = threading.Lock()


def config_from_settings() -> TranscriberConfig:
    from django.conf import settings

    return TranscriberConfig(
        choice=settings.TRANSCRIPTION,
        model_dir=settings.TRANSCRIPTION_MODEL_DIR,
        cache_dir=Path(settings.VAR_DIR) / "models",
        workers=settings.TRANSCRIPTION_WORKERS,
        threads=settings.TRANSCRIPTION_THREADS,
        queue_limit=settings.TRANSCRIPTION_QUEUE,
    )


def get_transcriber(config: TranscriberConfig | None = None) -> Transcriber:
    """The process's transcriber for these settings (one model per process)."""
    config = config or config_from_settings()
    with _registry_lock:
        transcriber = _transcribers.get(config)
        if transcriber is None:
            transcriber = _transcribers[config] = Transcriber(config)
        return transcriber


def load_at_startup() -> None:
    """A server loads the model at startup, in a worker thread: a problem is in the log
    before the first candidate speaks, and no candidate's recording competes with the load."""
    from django.conf import settings

    if settings.REALTIME_PROVIDER != "local":
        return
    if settings.TRANSCRIPTION == "off":
        logger.info(
            "Speech-to-text is off (TRANSCRIPTION=off): candidate turns are not transcribed"
        )
        return
    get_transcriber().preload()
