"""Speech-to-text for the offline interviewer: Whisper (CTranslate2) with no network.

- ``models``: which model (``TRANSCRIPTION``, ``TRANSCRIPTION_MODEL_DIR``), verified by SHA-256.
- ``service``: one model per process behind a bounded worker pool and queue.
- ``turns``: a candidate turn's audio and its OpenAI-style transcription events.
- ``spool_turns``: the same turns read back from the spool, for ``transcribe_interview``.
- ``quality``: word error rate, as tests and the benchmark measure it.
"""

from .service import (
    QueueFull,
    Transcriber,
    TranscriberConfig,
    TranscriberUnavailable,
    Transcription,
    get_transcriber,
    load_at_startup,
)

__all__ = [
    "QueueFull",
    "Transcriber",
    "TranscriberConfig",
    "TranscriberUnavailable",
    "Transcription",
    "get_transcriber",
    "load_at_startup",
]
