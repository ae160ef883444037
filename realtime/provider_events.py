"""Provider events → what the session does: audio to the browser, timeline marks, transcript.

Providers speak OpenAI Realtime's server-event vocabulary (``providers/base.py``); this
module decides what each event means for one live session and keeps the little
per-item memory that needs (when a candidate's speech started and stopped, where an
interviewer item was cut).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from interviews.models import TranscriptEntry

from . import services

if TYPE_CHECKING:
    from .session import LiveSession

logger = logging.getLogger("realtime.session")

ROLE_CANDIDATE = TranscriptEntry.Role.CANDIDATE.value
ROLE_INTERVIEWER = TranscriptEntry.Role.INTERVIEWER.value


def provider_error_code(error: dict) -> str:
    code = str(error.get("code") or "")
    kind = str(error.get("type") or "")
    if "rate_limit" in code or "rate_limit" in kind:
        return "rate_limited"
    return "provider_error"


def remember(store: OrderedDict, key, value, limit: int = 256) -> None:
    """Bounded memory: keep the newest ``limit`` keys."""
    store[key] = value
    while len(store) > limit:
        store.popitem(last=False)


class ProviderEvents:
    """Handles one session's provider events, in order."""

    def __init__(self, session: LiveSession):
        self.session = session
        self.speech: OrderedDict[str, list] = OrderedDict()  # user item → [start_t, end_t]
        self.cuts: OrderedDict[str, float] = OrderedDict()  # AI item → client time of the cut
        self.dropped_ai_chunks = 0
        self._handlers = {
            "response.output_audio.delta": self._on_audio,
            "input_audio_buffer.speech_started": self._on_speech_started,
            "input_audio_buffer.speech_stopped": self._on_speech_stopped,
            "response.created": self._on_response_created,
            "response.done": self._on_response_done,
            "conversation.item.done": self._on_item_done,
            "conversation.item.input_audio_transcription.completed": self._on_transcription,
            "conversation.item.input_audio_transcription.failed": self._on_transcription_failed,
            "conversation.item.truncated": self._on_truncated,
            "error": self._on_error,
            "provider.disconnected": self._on_disconnected,
            "provider.failed": self._on_failed,
            "provider.interview_complete": self._on_interview_complete,
        }

    async def handle(self, event: dict) -> None:
        handler = self._handlers.get(event.get("type"))
        if handler is not None:
            await handler(event)

    def remember_cut(self, item_id: str, cut_t: float) -> None:
        remember(self.cuts, item_id, cut_t)

    # -- audio and turn marks --------------------------------------------------
    async def _on_audio(self, event: dict) -> None:
        session = self.session
        delta = event.get("delta")
        try:
            pcm = base64.b64decode(delta or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            logger.warning("Session %s: provider sent undecodable audio", session.session_id)
            return
        if not pcm or len(pcm) % 2:
            return
        if session.peer is None:
            self.dropped_ai_chunks += 1  # nobody can hear it: not part of the timeline
            return
        now = time.monotonic()
        received_t = session.clock.to_client(now)
        seq = session.buffer.add_ai_chunk(
            pcm, str(event.get("item_id") or ""), str(event.get("response_id") or ""), received_t
        )
        session.latency.ai_audio(seq, now, received_t)
        await session.send({"event": "tts_chunk", "seq": seq, "audio_b64": delta})

    async def _on_speech_started(self, event: dict) -> None:
        session = self.session
        item_id = str(event.get("item_id") or "")
        start_t = session.input_map.to_client(float(event.get("audio_start_ms") or 0))
        remember(self.speech, item_id, [start_t, None])
        session.latency.speech_started()
        session.buffer.event("speech_started", start_t, item_id=item_id)
        now_t = session.clock.now()
        if now_t < session.buffer.playback_end():
            session.buffer.event("playback_stop", now_t, item_id=item_id)
            await session.send({"event": "playback_stop"})

    async def _on_speech_stopped(self, event: dict) -> None:
        session = self.session
        item_id = str(event.get("item_id") or "")
        end_t = session.input_map.to_client(float(event.get("audio_end_ms") or 0))
        speech_end = None
        if end_t is not None:
            speech_end = max(0.0, end_t - session.provider.turn_silence_ms / 1000)
        span = self.speech.get(item_id)
        if span is not None:
            span[1] = speech_end
        session.buffer.event("speech_stopped", end_t, item_id=item_id, speech_end=speech_end)
        session.latency.speech_stopped(speech_end, time.monotonic(), session.clock.now())

    async def _on_response_created(self, event: dict) -> None:
        response = event.get("response") or {}
        self.session.buffer.event(
            "response_started", self.session.clock.now(), response_id=response.get("id")
        )

    async def _on_response_done(self, event: dict) -> None:
        response = event.get("response") or {}
        self.session.buffer.event(
            "response_done",
            self.session.clock.now(),
            response_id=response.get("id"),
            status=response.get("status"),
        )

    # -- transcript ------------------------------------------------------------
    async def _on_item_done(self, event: dict) -> None:
        session = self.session
        item = event.get("item") or {}
        item_id = str(item.get("id") or "")
        role = item.get("role")
        if item.get("type") != "message" or not item_id:
            return
        text = " ".join(
            str(part.get("transcript") or part.get("text") or "").strip()
            for part in item.get("content") or []
            if isinstance(part, dict)
        ).strip()
        if role == "assistant" and text:
            start, end = session.buffer.item_span(item_id)
            end = self.cuts.get(item_id, end)
            if await services.save_transcript(
                session.interview_id, ROLE_INTERVIEWER, item_id, text, start, end
            ):
                await session.send(
                    {"event": "transcript", "role": ROLE_INTERVIEWER, "text": text, "final": True}
                )
        elif role == "user" and text:
            await self._save_candidate(item_id, text)

    async def _on_transcription(self, event: dict) -> None:
        await self._save_candidate(str(event.get("item_id") or ""), event.get("transcript"))

    async def _on_transcription_failed(self, event: dict) -> None:
        error = event.get("error") or {}
        logger.warning(
            "Session %s: transcription failed for %s: %s %s",
            self.session.session_id,
            event.get("item_id"),
            error.get("code"),
            error.get("message"),
        )
        # The turn happened: keep its place and times, and say what its text lacks.
        if error.get("code") == "transcription_unavailable":
            text, flag = "[not transcribed]", TranscriptEntry.Flag.NOT_TRANSCRIBED
        else:
            text, flag = "[inaudible]", TranscriptEntry.Flag.INAUDIBLE
        await self._save_candidate(str(event.get("item_id") or ""), text, flag=flag.value)

    async def _save_candidate(self, item_id: str, text, flag: str = "") -> None:
        session = self.session
        text = str(text or "").strip()
        if not item_id or not text:
            return
        start, end = self.speech.get(item_id, (None, None))
        if await services.save_transcript(
            session.interview_id, ROLE_CANDIDATE, item_id, text, start, end, flag=flag
        ):
            await session.send(
                {"event": "transcript", "role": ROLE_CANDIDATE, "text": text, "final": True}
            )

    async def _on_truncated(self, event: dict) -> None:
        item_id = str(event.get("item_id") or "")
        text = event.get("transcript")
        await services.update_transcript(
            self.session.interview_id,
            ROLE_INTERVIEWER,
            item_id,
            end_seconds=self.cuts.get(item_id),
            text=str(text).strip() if isinstance(text, str) and text.strip() else None,
        )

    # -- the provider's own life -----------------------------------------------
    async def _on_error(self, event: dict) -> None:
        error = event.get("error") or {}
        await self.session.send_error(
            provider_error_code(error), str(error.get("message") or "AI provider error")
        )

    async def _on_disconnected(self, event: dict) -> None:
        await self.session.send_error("provider_disconnected", str(event.get("message") or ""))

    async def _on_failed(self, event: dict) -> None:
        await self.session.provider_failed(str(event.get("message") or ""))

    async def _on_interview_complete(self, event: dict) -> None:
        self.session.interviewer_finished()
