"""What an interview cost: OpenAI token usage summed per interview, and its estimated price.

Usage arrives with each ``response.done`` (the interviewer's turns) and each completed
input transcription (the candidate's turns). It is stored as plain counters on the
interview; prices live in ``settings.OPENAI_PRICES`` (dollars per million tokens) so the
estimate follows the current price list without touching stored data.
"""

from __future__ import annotations

from collections.abc import Mapping

COUNTERS = (
    "responses",
    "text_input_tokens",
    "cached_text_input_tokens",
    "audio_input_tokens",
    "cached_audio_input_tokens",
    "text_output_tokens",
    "audio_output_tokens",
    "transcriptions",
    "transcription_input_tokens",
    "transcription_output_tokens",
    "transcription_seconds",
)


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def from_response(usage: Mapping | None) -> dict:
    """Counters of one ``response.done.response.usage``."""
    if not isinstance(usage, Mapping):
        return {}
    inputs = usage.get("input_token_details") or {}
    outputs = usage.get("output_token_details") or {}
    cached = inputs.get("cached_tokens_details") or {}
    cached_text = _int(cached.get("text_tokens"))
    cached_audio = _int(cached.get("audio_tokens"))
    if not cached and _int(inputs.get("cached_tokens")):
        cached_text = _int(inputs.get("cached_tokens"))  # no split given: count it as text
    return {
        "responses": 1,
        "text_input_tokens": _int(inputs.get("text_tokens")),
        "cached_text_input_tokens": cached_text,
        "audio_input_tokens": _int(inputs.get("audio_tokens")),
        "cached_audio_input_tokens": cached_audio,
        "text_output_tokens": _int(outputs.get("text_tokens")),
        "audio_output_tokens": _int(outputs.get("audio_tokens")),
    }


def from_transcription(usage: Mapping | None) -> dict:
    """Counters of one input transcription's ``usage`` (tokens, or seconds of audio)."""
    if not isinstance(usage, Mapping):
        return {}
    if usage.get("type") == "duration":
        seconds = usage.get("seconds")
        ok = isinstance(seconds, int | float) and seconds > 0
        return {"transcriptions": 1, "transcription_seconds": float(seconds) if ok else 0.0}
    return {
        "transcriptions": 1,
        "transcription_input_tokens": _int(usage.get("input_tokens")),
        "transcription_output_tokens": _int(usage.get("output_tokens")),
    }


def added(total: Mapping | None, more: Mapping) -> dict:
    result = {name: (total or {}).get(name, 0) for name in COUNTERS}
    for name in COUNTERS:
        result[name] += more.get(name, 0)
    return result


def estimated_cost(usage: Mapping | None, prices: Mapping[str, float]) -> float:
    """Dollars, from the counters and a price list per million tokens.

    Cached input tokens are part of the input tokens; they are billed at the cached price.
    """
    u = {name: (usage or {}).get(name, 0) for name in COUNTERS}
    billed = {
        "text_input": u["text_input_tokens"] - u["cached_text_input_tokens"],
        "cached_text_input": u["cached_text_input_tokens"],
        "audio_input": u["audio_input_tokens"] - u["cached_audio_input_tokens"],
        "cached_audio_input": u["cached_audio_input_tokens"],
        "text_output": u["text_output_tokens"],
        "audio_output": u["audio_output_tokens"],
        "transcription_input": u["transcription_input_tokens"],
        "transcription_output": u["transcription_output_tokens"],
    }
    return sum(max(0, tokens) * prices.get(kind, 0.0) for kind, tokens in billed.items()) / 1e6
