"""Server events of the fake Realtime server, shaped as OpenAI sends them (GA names)."""

from __future__ import annotations

VOICES = {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}

#: Codes OpenAI sends as an ``error`` event right after a good handshake, then closes.
FINAL_ERRORS = {
    "insufficient_quota": (
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    "invalid_api_key": ("invalid_request_error", "Incorrect API key provided: sk-****."),
    "model_not_found": ("invalid_request_error", "The model does not exist."),
}


def error(code: str, message: str, param: str | None = None, kind: str = "invalid_request_error"):
    return {
        "type": "error",
        "error": {"type": kind, "code": code, "message": message, "param": param},
    }


def session_problem(session) -> str | None:
    """What OpenAI refuses in a ``session.update`` that the SDK's types let through."""
    if not isinstance(session, dict) or session.get("type") != "realtime":
        return "session.type must be 'realtime'"
    audio = session.get("audio") or {}
    for direction in ("input", "output"):
        fmt = (audio.get(direction) or {}).get("format") or {}
        if fmt.get("type") != "audio/pcm" or fmt.get("rate") != 24000:
            return f"audio.{direction}.format must be audio/pcm at 24000 Hz"
    voice = (audio.get("output") or {}).get("voice")
    if voice is not None and voice not in VOICES:
        return f"Invalid value: '{voice}'. Supported values are: {', '.join(sorted(VOICES))}."
    return None


def response_usage(audio_ms: float, text: str) -> dict:
    """Token counts in the shape of ``response.done.response.usage``."""
    text_out = max(1, len(text.split()))
    audio_out = int(audio_ms / 50)  # roughly 20 audio tokens a second
    return {
        "total_tokens": 120 + 10 + text_out + audio_out,
        "input_tokens": 130,
        "output_tokens": text_out + audio_out,
        "input_token_details": {
            "text_tokens": 100,
            "audio_tokens": 30,
            "cached_tokens": 64,
            "cached_tokens_details": {"text_tokens": 64, "audio_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }


def transcription_usage(audio_ms: float, text: str) -> dict:
    audio_in = max(1, int(audio_ms / 100))
    out = max(1, len(text.split()))
    return {
        "type": "tokens",
        "input_tokens": audio_in,
        "output_tokens": out,
        "total_tokens": audio_in + out,
        "input_token_details": {"audio_tokens": audio_in, "text_tokens": 0},
    }


def rate_limits(remaining_requests: int) -> dict:
    return {
        "type": "rate_limits.updated",
        "rate_limits": [
            {
                "name": "requests",
                "limit": 1000,
                "remaining": remaining_requests,
                "reset_seconds": 1,
            },
            {"name": "tokens", "limit": 50000, "remaining": 49000, "reset_seconds": 0.5},
        ],
    }


def status_details(status: str) -> dict | None:
    if status == "cancelled":
        return {"type": "cancelled", "reason": "turn_detected"}
    if status == "incomplete":
        return {"type": "incomplete", "reason": "max_output_tokens"}
    if status == "failed":
        return {
            "type": "failed",
            "error": {"type": "server_error", "code": "server_error", "message": "Upstream error"},
        }
    return None
