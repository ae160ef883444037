"""Provider events → what the session does: audio to the browser, timeline marks, transcript.

Providers speak OpenAI Realtime's server-event vocabulary (``providers/base.py``); this
module decides what each event means for one live session and keeps the little
per-item memory that needs (when a candidate's speech started and stopped, where an
interviewer item was cut and what of it was heard).

Upstream errors never reach the candidate as they are: the provider settles what it can,
the rest is logged, and the candidate sees one of the fixed notices of ``notices.py``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from interviews import usage
from interviews.models import TranscriptEntry

from . import notices, services
from .protocol import EVENT_CAPTION

if TYPE_CHECKING:
    from .session import LiveSession

logger = logging.getLogger("realtime.session")

#: An upstream reconnect shorter than this goes unmentioned to the candidate.
RECONNECT_NOTICE_SECONDS = 1.5

ROLE_CANDIDATE = TranscriptEntry.Role.CANDIDATE.value
ROLE_INTERVIEWER = TranscriptEntry.Role.INTERVIEWER.value


def heard_text(text: str, heard_ms: float, total_ms: float) -> str:
    """The words of ``text`` the candidate heard, estimated from the share of audio played.

    Over a websocket nothing better is known: OpenAI's ``conversation.item.truncated``
    carries no transcript and the transcript deltas carry no timings.
    """
    words = text.split()
    if total_ms <= 0 or heard_ms >= total_ms:
        return text.strip()
    return " ".join(words[: round(len(words) * max(0.0, heard_ms) / total_ms)])


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
        self.texts: OrderedDict[str, str] = OrderedDict()  # AI item → its full text so far
        self.heard: OrderedDict[str, str] = OrderedDict()  # AI item → the words heard of it
        self.dropped_ai_chunks = 0
        self._reconnect_notice: asyncio.Task | None = None
        self._handlers = {
            "response.output_audio.delta": self._on_audio,
            "response.output_audio_transcript.delta": self._on_interviewer_words,
            "conversation.item.input_audio_transcription.delta": self._on_candidate_words,
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
            "provider.reconnected": self._on_reconnected,
            "provider.failed": self._on_failed,
            "provider.response_failed": self._on_response_failed,
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

    # -- live captions ---------------------------------------------------------
    async def _on_interviewer_words(self, event: dict) -> None:
        item_id, delta = str(event.get("item_id") or ""), event.get("delta")
        if not item_id or not isinstance(delta, str) or not delta:
            return
        remember(self.texts, item_id, self.texts.get(item_id, "") + delta)
        await self._caption(ROLE_INTERVIEWER, item_id, delta)

    async def _on_candidate_words(self, event: dict) -> None:
        item_id, delta = str(event.get("item_id") or ""), event.get("delta")
        if item_id and isinstance(delta, str) and delta:
            await self._caption(ROLE_CANDIDATE, item_id, delta)

    async def _caption(self, role: str, item_id: str, delta: str) -> None:
        message = {"event": EVENT_CAPTION, "role": role, "item_id": item_id, "delta": delta}
        await self.session.send(message)

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
        await self._count(usage.from_response(response.get("usage")))
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
            remember(self.texts, item_id, text)
            start, end = session.buffer.item_span(item_id)
            end = self.cuts.get(item_id, end)
            flag = ""
            if item_id in self.heard:
                text, flag = self.heard[item_id], TranscriptEntry.Flag.INTERRUPTED.value
            if text and await services.save_transcript(
                session.interview_id, ROLE_INTERVIEWER, item_id, text, start, end, flag=flag
            ):
                await session.send(
                    {"event": "transcript", "role": ROLE_INTERVIEWER, "text": text, "final": True}
                )
        elif role == "user" and text:
            await self._save_candidate(item_id, text)

    async def _count(self, counters: dict) -> None:
        if counters:
            await services.add_usage(interview_id=self.session.interview_id, counters=counters)

    async def _on_transcription(self, event: dict) -> None:
        await self._count(usage.from_transcription(event.get("usage")))
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
        text = event.get("transcript")  # only providers that know their word timings send it
        if not isinstance(text, str):
            full = self.texts.get(item_id, "")
            heard_ms = float(event.get("audio_end_ms") or 0)
            text = heard_text(full, heard_ms, self.session.buffer.item_audio_ms(item_id))
        text = text.strip()
        remember(self.heard, item_id, text)
        await services.update_transcript(
            self.session.interview_id,
            ROLE_INTERVIEWER,
            item_id,
            end_seconds=self.cuts.get(item_id),
            text=text,  # empty when nothing was heard: no words are kept then
            flag=TranscriptEntry.Flag.INTERRUPTED.value,
        )

    # -- the provider's own life -----------------------------------------------
    async def _on_error(self, event: dict) -> None:
        error = event.get("error") or {}
        logger.info(
            "Session %s: provider error %s not shown to the candidate",
            self.session.session_id,
            error.get("code"),
        )

    async def _on_disconnected(self, event: dict) -> None:
        """Most reconnects take a moment: tell the candidate only of one that takes longer."""
        if self._reconnect_notice is None or self._reconnect_notice.done():
            self._reconnect_notice = asyncio.get_running_loop().create_task(
                self._notice_reconnecting()
            )

    async def _notice_reconnecting(self) -> None:
        await asyncio.sleep(RECONNECT_NOTICE_SECONDS)
        await self.session.send(notices.notice(notices.RECONNECTING))

    async def _on_reconnected(self, event: dict) -> None:
        self.stop()

    def stop(self) -> None:
        if self._reconnect_notice is not None:
            self._reconnect_notice.cancel()

    async def _on_failed(self, event: dict) -> None:
        self.stop()
        message = str(event.get("message") or "The AI provider is unavailable.")
        if event.get("final"):
            await self.session.fail(message)
        else:
            await self.session.provider_failed(message)

    async def _on_response_failed(self, event: dict) -> None:
        await self.session.send(notices.notice(notices.REPEAT))

    async def _on_interview_complete(self, event: dict) -> None:
        self.session.interviewer_finished()
