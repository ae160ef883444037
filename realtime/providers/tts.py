"""Offline speech synthesis: eSpeak NG (from ``espeakng-loader``) through ctypes, resampled to 24 kHz.

eSpeak NG keeps global state and is not thread-safe, so one lock serialises every
synthesis call. It renders far faster than real time (a few ms per sentence), so a
whole utterance is synthesised at once in a worker thread and then streamed.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

from ..resample import resample_pcm16

OUTPUT_RATE = 24000

# espeak_AUDIO_OUTPUT / espeak_EVENT_TYPE / espeak_POSITION_TYPE values from speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_int64),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class Word:
    """A spoken word: character span in the text and where its audio starts (ms)."""

    start_char: int
    end_char: int
    audio_ms: float


@dataclass(frozen=True)
class Speech:
    pcm: bytes  # 24 kHz mono PCM16 little-endian
    text: str
    words: tuple[Word, ...]

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) / 2 / OUTPUT_RATE * 1000

    def text_until(self, audio_ms: float) -> str:
        """The words whose audio started before ``audio_ms``: what a listener heard."""
        end = 0
        for word in self.words:
            if word.audio_ms < audio_ms:
                end = word.end_char
        return self.text[:end].strip()


class EspeakSynthesizer:
    """One process-wide eSpeak NG instance (synchronous mode, callback collects PCM)."""

    _lock = threading.Lock()
    _initialised = False
    _lib = None
    _native_rate = 0
    _chunks: list[bytes] = []
    _events: list[tuple[int, int, int, int]] = []
    _callback = None

    def __init__(self, voice: str = "en-us", words_per_minute: int = 165):
        self.voice = voice
        self.words_per_minute = words_per_minute

    @classmethod
    def _ensure(cls) -> None:
        if cls._initialised:
            return
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0
        )
        if rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise (data path missing?)")

        def collect(wav, count, events):
            if count > 0:
                cls._chunks.append(ctypes.string_at(wav, count * 2))
            i = 0
            while events[i].type != _EVENT_LIST_TERMINATED:
                ev = events[i]
                cls._events.append((ev.type, ev.text_position, ev.length, ev.audio_position))
                i += 1
            return 0

        cls._callback = _Callback(collect)  # keep a reference: ctypes does not
        lib.espeak_SetSynthCallback(cls._callback)
        cls._lib = lib
        cls._native_rate = rate
        cls._initialised = True

    def synthesize(self, text: str) -> Speech:
        """Render ``text`` to 24 kHz PCM16 with word timings (blocking; call in a thread)."""
        data = text.encode("utf-8")
        with self._lock:
            self._ensure()
            lib = self._lib
            if lib.espeak_SetVoiceByName(self.voice.encode()) != 0:
                raise RuntimeError(f"eSpeak NG voice {self.voice!r} is not available")
            lib.espeak_SetParameter(_PARAM_RATE, int(self.words_per_minute), 0)
            type(self)._chunks = []
            type(self)._events = []
            status = lib.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            if status != 0:
                raise RuntimeError(f"eSpeak NG synthesis failed with status {status}")
            raw = b"".join(self._chunks)
            events = list(self._events)
            native = self._native_rate
        samples = np.frombuffer(raw, dtype="<i2")
        pcm = resample_pcm16(samples, native, OUTPUT_RATE).tobytes()
        words = []
        for kind, position, length, audio_ms in events:
            if kind == _EVENT_WORD:
                # text_position counts bytes from 1; map back to characters.
                start = len(data[: max(position - 1, 0)].decode("utf-8", "ignore"))
                end = len(data[: max(position - 1 + length, 0)].decode("utf-8", "ignore"))
                words.append(Word(start, end, float(audio_ms)))
        return Speech(pcm=pcm, text=text, words=tuple(words))
