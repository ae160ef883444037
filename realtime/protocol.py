"""The /ws/session wire protocol: parsing and validating client frames.

Every rejection is a ``ProtocolError`` carrying a stable ``code`` the browser (and the
tests) can rely on; validation never touches session state, so a bad frame changes
nothing already buffered.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass

# A recording segment number is the recording parts API's own.
from media_export.recording import MAX_SEGMENT

# PCM is spooled exactly as it arrives, so the wire format is the spool's.
from media_export.spool import SAMPLE_RATE

#: Where the session websocket is served (routing mounts it; the candidate page gets it in its config).
SESSION_PATH = "/ws/session"

MAX_FRAME_BYTES = 64 * 1024
CHUNK_MS = 100
#: Query parameter of the websocket URL carrying the session id, so a load balancer can
#: route every connection of one session to the same node (the server itself ignores it).
ROUTING_PARAM = "session"
MAX_CHUNK_BYTES = SAMPLE_RATE * 2  # one second of 24 kHz PCM16

#: A session id names a spool folder: no dots, no slashes, so it can never leave that folder.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_SESSION_ID = re.compile(SESSION_ID_PATTERN)

# Close codes (4000–4999 are the application's own).
CLOSE_NORMAL = 1000
# A frame over MAX_FRAME_BYTES: the client reconnects and resumes. Not 1009: daphne lets an
# application close only with 1000 or 3000-4999 (anything else turns into 1011).
CLOSE_TOO_BIG = 4413
CLOSE_SUPERSEDED = 4000
CLOSE_UNAUTHORIZED = 4401
CLOSE_FINISHED = 4409
CLOSE_PROVIDER_UNAVAILABLE = 4503
#: After these a reconnect cannot help, so the browser stops trying (4503 is worth a retry).
FINAL_CLOSE_CODES = (CLOSE_NORMAL, CLOSE_SUPERSEDED, CLOSE_UNAUTHORIZED, CLOSE_FINISHED)


# Server → browser events the page reacts to by name (passed to it in the page's config).
EVENT_CAPTION = "caption"  # {role, item_id, delta}: words as they are spoken or recognised


class ProtocolError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Start:
    session_id: str
    interview_id: int
    token: str


@dataclass(frozen=True)
class MicChunk:
    seq: int
    timestamp: float
    pcm: bytes


@dataclass(frozen=True)
class AiChunkPlayed:
    seq: int
    timestamp: float


@dataclass(frozen=True)
class PlaybackInterrupted:
    seq: int
    played_ms: float
    leaving: bool = False  # the page is going away (reload, closed tab): no barge-in


@dataclass(frozen=True)
class RecordingStarted:
    timestamp: float
    segment: int | None = None  # the recording segment this page load uploads


@dataclass(frozen=True)
class End:
    pass


Message = Start | MicChunk | AiChunkPlayed | PlaybackInterrupted | RecordingStarted | End


def decode_frame(text_data: str | None, bytes_data: bytes | None) -> dict:
    if text_data is None:
        size = len(bytes_data or b"")
        if size > MAX_FRAME_BYTES:
            raise ProtocolError(
                "frame_too_large", f"Frame of {size} bytes is over {MAX_FRAME_BYTES}."
            )
        raise ProtocolError(
            "binary_frame", "Binary frames are not accepted: send JSON text frames."
        )
    if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode("utf-8")) > MAX_FRAME_BYTES:
        raise ProtocolError("frame_too_large", f"Frame is over {MAX_FRAME_BYTES} bytes.")
    try:
        data = json.loads(text_data)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_json", f"Frame is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_message", "A message must be a JSON object.")
    return data


def _field(data: dict, name: str):
    if name not in data:
        raise ProtocolError("missing_field", f"Field {name!r} is required.")
    return data[name]


def _int(data: dict, name: str) -> int:
    value = _field(data, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError("invalid_field", f"Field {name!r} must be a non-negative integer.")
    return value


def _timestamp(data: dict, name: str = "timestamp") -> float:
    value = _field(data, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError("invalid_field", f"Field {name!r} must be a number.")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ProtocolError("invalid_timestamp", f"Field {name!r} must be a finite number >= 0.")
    return value


def _segment(data: dict) -> int | None:
    """Optional ``segment`` of ``recording_started``: 0..MAX_SEGMENT, like the parts API."""
    if "segment" not in data:
        return None
    value = data["segment"]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEGMENT:
        raise ProtocolError(
            "invalid_field", f"Field 'segment' must be an integer from 0 to {MAX_SEGMENT}."
        )
    return value


def _audio(data: dict) -> bytes:
    value = _field(data, "audio_b64")
    if not isinstance(value, str):
        raise ProtocolError("invalid_field", "Field 'audio_b64' must be a base64 string.")
    if len(value) > (MAX_CHUNK_BYTES * 4) // 3 + 4:
        raise ProtocolError("chunk_too_long", "A mic chunk may hold at most 1 s of audio.")
    try:
        pcm = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("invalid_base64", "Field 'audio_b64' is not valid base64.") from None
    if not pcm:
        raise ProtocolError("empty_audio", "A mic chunk must hold audio.")
    if len(pcm) % 2:
        raise ProtocolError("odd_byte_count", "PCM16 audio must have an even number of bytes.")
    if len(pcm) > MAX_CHUNK_BYTES:
        raise ProtocolError("chunk_too_long", "A mic chunk may hold at most 1 s of audio.")
    return pcm


def event_name(data: dict) -> str:
    """The frame's ``event``; anything but a string is ``bad_event``."""
    event = _field(data, "event")
    if not isinstance(event, str):
        raise ProtocolError("bad_event", "Field 'event' must be a string.")
    return event


def parse_message(data: dict) -> Message:
    event = event_name(data)
    if event == "mic_chunk":
        seq = _int(data, "seq")
        timestamp = _timestamp(data)
        return MicChunk(seq, timestamp, _audio(data))
    if event == "ai_chunk_played":
        return AiChunkPlayed(_int(data, "seq"), _timestamp(data))
    if event == "ai_playback_interrupted":
        seq = _int(data, "seq")
        played = _field(data, "played_ms")
        if (
            isinstance(played, bool)
            or not isinstance(played, int | float)
            or not math.isfinite(played)
            or played < 0
        ):
            raise ProtocolError("invalid_field", "Field 'played_ms' must be a finite number >= 0.")
        leaving = data.get("leaving", False)
        if not isinstance(leaving, bool):
            raise ProtocolError("invalid_field", "Field 'leaving' must be true or false.")
        return PlaybackInterrupted(seq, float(played), leaving)
    if event == "recording_started":
        return RecordingStarted(_timestamp(data), _segment(data))
    if event == "end":
        return End()
    if event == "start":
        session_id = _field(data, "session_id")
        if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
            raise ProtocolError(
                "invalid_field", "Field 'session_id' must be 1-64 characters of A-Z a-z 0-9 _ -"
            )
        raw_id = _field(data, "interview_id")
        if isinstance(raw_id, str) and raw_id.isdigit():
            raw_id = int(raw_id)
        if isinstance(raw_id, bool) or not isinstance(raw_id, int) or raw_id <= 0:
            raise ProtocolError("invalid_field", "Field 'interview_id' must be a positive integer.")
        token = _field(data, "token")
        if not isinstance(token, str) or not token:
            raise ProtocolError("invalid_field", "Field 'token' must be a non-empty string.")
        return Start(session_id, raw_id, token)
    raise ProtocolError("unknown_event", f"Unknown event {event[:40]!r}.")
