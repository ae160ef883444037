"""What the OpenAI Realtime session is configured with, and the texts it is seeded with."""

from __future__ import annotations

from dataclasses import dataclass

#: A current GA model (the SDK marks ``gpt-realtime`` itself deprecated).
DEFAULT_MODEL = "gpt-realtime-1.5"

#: Audio the server keeps before detected speech; ``audio_start_ms`` includes it.
PREFIX_PADDING_MS = 300

END_TOOL = {
    "type": "function",
    "name": "end_interview",
    "description": "End the interview after thanking the candidate and saying goodbye.",
    "parameters": {"type": "object", "properties": {}, "required": []},
}

RESEEDED_NOTE = (
    "The connection was re-established. The conversation so far is in the history: "
    "continue from where it stopped, without greeting again."
)
RESUME_NOTE = (
    "The candidate's connection dropped while you were speaking, so they may have missed "
    "the end of it. Repeat your last question briefly, without greeting again."
)


@dataclass(frozen=True)
class TurnDetection:
    """How the server decides the candidate has finished.

    ``semantic_vad`` with low eagerness waits for the end of a thought, not for a pause:
    candidates pause while thinking, and ``server_vad`` with 500 ms of silence cut them
    off mid-answer. ``server_vad`` stays available with a longer silence.
    """

    kind: str = "semantic_vad"
    eagerness: str = "low"
    silence_ms: int = 500

    def __post_init__(self):
        if self.kind not in ("semantic_vad", "server_vad"):
            raise ValueError("turn detection must be 'semantic_vad' or 'server_vad'")
        if self.eagerness not in ("low", "medium", "high", "auto"):
            raise ValueError("eagerness must be low, medium, high or auto")

    @property
    def silence_before_stop_ms(self) -> int:
        """How long after the speech ``speech_stopped`` comes (unknown, so 0, for semantic)."""
        return self.silence_ms if self.kind == "server_vad" else 0

    def config(self) -> dict:
        common = {"create_response": True, "interrupt_response": True}
        if self.kind == "semantic_vad":
            return {"type": "semantic_vad", "eagerness": self.eagerness, **common}
        return {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": PREFIX_PADDING_MS,
            "silence_duration_ms": self.silence_ms,
            **common,
        }


def session_config(
    instructions: str, *, voice: str, transcription_model: str, turns: TurnDetection
) -> dict:
    return {
        "type": "realtime",
        "instructions": instructions,
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": transcription_model},
                "noise_reduction": {"type": "near_field"},
                "turn_detection": turns.config(),
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": voice},
        },
        "tools": [END_TOOL],
        "tool_choice": "auto",
    }


def calls_end_tool(event: dict) -> bool:
    response = event.get("response") or {}
    return any(
        isinstance(item, dict)
        and item.get("type") == "function_call"
        and item.get("name") == END_TOOL["name"]
        for item in response.get("output") or []
    )
