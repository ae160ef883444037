"""OpenAI Realtime (GA) through the official SDK's websocket connection.

The SDK opens ``<ws base>/realtime?model=…`` with the bearer key. We configure the
session (PCM16 24 kHz both ways, server VAD, input transcription, the job's
instructions and an ``end_interview`` tool the model calls after saying goodbye),
forward mic audio with ``input_audio_buffer.append`` and pass server events through
unchanged. When the socket drops (network, the 60-minute cap, ``session_expired``) we
reconnect with exponential backoff, a limited number of times, and re-seed the new
session with the instructions and the transcript so far.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable

from .base import HistoryEntry, RealtimeProvider, SessionSeed

logger = logging.getLogger("realtime.providers.openai")

END_TOOL = {
    "type": "function",
    "name": "end_interview",
    "description": "End the interview after thanking the candidate and saying goodbye.",
    "parameters": {"type": "object", "properties": {}, "required": []},
}


class OpenAIRealtimeProvider(RealtimeProvider):
    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "gpt-realtime",
        base_url: str | None = None,
        voice: str = "marin",
        transcription_model: str = "gpt-4o-mini-transcribe",
        silence_duration_ms: int = 500,
        max_reconnects: int = 4,
        initial_backoff: float = 0.5,
        max_backoff: float = 8.0,
        history_loader: Callable[[], Awaitable[list[HistoryEntry]]] | None = None,
        max_pending_audio_ms: int = 5000,
    ):
        super().__init__()
        self.api_key = api_key
        self.model = model
        self.base_url = base_url
        self.voice = voice
        self.transcription_model = transcription_model
        self.turn_silence_ms = silence_duration_ms
        self.max_reconnects = max_reconnects
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.history_loader = history_loader
        self._seed = SessionSeed()
        self._client = None
        self._conn = None
        self._reader: asyncio.Task | None = None
        self._dead = False
        self._reconnecting = False
        self._pending_audio: deque[bytes] = deque(maxlen=max(1, max_pending_audio_ms // 100))
        # Input audio ms handed to us in total, and where the current upstream session's
        # audio began: speech events are rewritten onto one continuous input clock.
        self._handed_ms = 0.0
        self._base_ms = 0.0

    @property
    def alive(self) -> bool:
        return not self.closed and not self._dead

    # -- lifecycle -------------------------------------------------------------
    async def start(self, seed: SessionSeed) -> None:
        from openai import AsyncOpenAI

        self._seed = seed
        self._client = AsyncOpenAI(
            api_key=self.api_key or "missing-key", base_url=self.base_url, max_retries=0
        )
        await self._open(seed.history)
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def close(self) -> None:
        if self.closed:
            return
        await super().close()
        if self._reader is not None:
            self._reader.cancel()
        if self._conn is not None:
            try:
                await self._conn.close()
            except Exception:  # already gone
                logger.debug("OpenAI Realtime close failed", exc_info=True)

    def session_config(self, resumed: bool = False) -> dict:
        instructions = self._seed.full_instructions()
        if resumed:
            instructions += (
                "\n\nThe connection was re-established. The conversation so far is in the history: "
                "continue from where it stopped, without greeting again."
            )
        return {
            "type": "realtime",
            "instructions": instructions,
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": 24000},
                    "transcription": {"model": self.transcription_model},
                    "noise_reduction": {"type": "near_field"},
                    "turn_detection": {
                        "type": "server_vad",
                        "threshold": 0.5,
                        "prefix_padding_ms": 300,
                        "silence_duration_ms": self.turn_silence_ms,
                        "create_response": True,
                        "interrupt_response": True,
                    },
                },
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": self.voice},
            },
            "tools": [END_TOOL],
            "tool_choice": "auto",
        }

    async def _open(self, history: list[HistoryEntry]) -> None:
        conn = await self._client.realtime.connect(model=self.model).enter()
        try:
            await conn.session.update(session=self.session_config(resumed=bool(history)))
            for entry in history:
                role = "user" if entry.role == "candidate" else "assistant"
                kind = "input_text" if role == "user" else "output_text"
                await conn.conversation.item.create(
                    item={
                        "type": "message",
                        "role": role,
                        "content": [{"type": kind, "text": entry.text}],
                    }
                )
            if not history or history[-1].role == "candidate":
                await conn.response.create()  # greet, or answer the turn the drop interrupted
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    # -- input -----------------------------------------------------------------
    async def append_audio(self, pcm: bytes) -> None:
        if not self.alive:
            return
        self._handed_ms += len(pcm) / 48.0
        await self._forward(pcm)

    async def _forward(self, pcm: bytes) -> None:
        if self._reconnecting or self._conn is None:
            self._pending_audio.append(pcm)
            return
        try:
            await self._conn.input_audio_buffer.append(audio=base64.b64encode(pcm).decode("ascii"))
        except Exception:
            self._pending_audio.append(pcm)  # the reader notices the drop and reconnects

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        await self._send(
            lambda c: c.conversation.item.truncate(
                item_id=item_id, content_index=0, audio_end_ms=int(audio_end_ms)
            )
        )

    async def cancel_response(self) -> None:
        await self._send(lambda c: c.response.cancel())

    async def resume_after_drop(self) -> None:
        async def ask(conn):
            await conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [
                        {
                            "type": "input_text",
                            "text": "(My connection dropped for a moment while you were speaking. "
                            "Please repeat your last question briefly.)",
                        }
                    ],
                }
            )
            await conn.response.create()

        await self._send(ask)

    async def _send(self, action) -> None:
        if not self.alive or self._reconnecting or self._conn is None:
            return
        try:
            await action(self._conn)
        except Exception as exc:
            logger.warning("OpenAI Realtime send failed: %s", exc)

    # -- output ----------------------------------------------------------------
    async def _read_loop(self) -> None:
        from websockets.exceptions import ConnectionClosed

        while not self.closed:
            try:
                raw = await self._conn.recv_bytes()
            except ConnectionClosed as exc:
                if self.closed:
                    return
                code = exc.rcvd.code if exc.rcvd is not None else 1006
                logger.warning("OpenAI Realtime connection closed (code %s); reconnecting", code)
                self.emit(
                    {
                        "type": "provider.disconnected",
                        "message": f"The AI provider connection closed (code {code}); reconnecting.",
                    }
                )
                if await self._reconnect():
                    continue
                self._dead = True
                logger.error(
                    "OpenAI Realtime: giving up after %d reconnect attempts", self.max_reconnects
                )
                self.emit(
                    {"type": "provider.failed", "message": "The AI provider could not be reached."}
                )
                return
            try:
                event = json.loads(raw)
            except ValueError:
                logger.warning("OpenAI Realtime sent a frame that is not JSON (%d bytes)", len(raw))
                continue
            if not isinstance(event, dict):
                continue
            self._observe(event)
            self.emit(event)
            if event.get("type") == "response.done" and _calls_end_tool(event):
                self.emit({"type": "provider.interview_complete"})

    def _observe(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "input_audio_buffer.speech_started" and "audio_start_ms" in event:
            event["audio_start_ms"] = int(event["audio_start_ms"] + self._base_ms)
        elif kind == "input_audio_buffer.speech_stopped" and "audio_end_ms" in event:
            event["audio_end_ms"] = int(event["audio_end_ms"] + self._base_ms)
        elif kind == "error":
            err = event.get("error") or {}
            logger.warning(
                "OpenAI Realtime error %s (%s): %s",
                err.get("code"),
                err.get("type"),
                err.get("message"),
            )
        elif kind == "rate_limits.updated":
            for limit in event.get("rate_limits") or []:
                if isinstance(limit, dict) and limit.get("remaining") == 0:
                    logger.warning(
                        "OpenAI Realtime rate limit %s exhausted; resets in %ss",
                        limit.get("name"),
                        limit.get("reset_seconds"),
                    )

    async def _reconnect(self) -> bool:
        self._reconnecting = True
        try:
            for attempt in range(1, self.max_reconnects + 1):
                delay = min(self.initial_backoff * 2 ** (attempt - 1), self.max_backoff)
                await asyncio.sleep(delay * (0.75 + random.random() * 0.25))
                if self.closed:
                    return False
                try:
                    history = (
                        await self.history_loader() if self.history_loader else self._seed.history
                    )
                    await self._open(list(history))
                except Exception as exc:
                    logger.warning(
                        "OpenAI Realtime reconnect attempt %d/%d failed: %s",
                        attempt,
                        self.max_reconnects,
                        exc,
                    )
                    continue
                logger.info("OpenAI Realtime reconnected (attempt %d) and re-seeded", attempt)
                self.emit({"type": "provider.reconnected"})
                pending = list(self._pending_audio)
                self._pending_audio.clear()
                self._base_ms = self._handed_ms - sum(len(p) for p in pending) / 48.0
                self._reconnecting = False
                for pcm in pending:
                    await self._forward(pcm)
                return True
            return False
        finally:
            self._reconnecting = False


def _calls_end_tool(event: dict) -> bool:
    response = event.get("response") or {}
    for item in response.get("output") or []:
        if (
            isinstance(item, dict)
            and item.get("type") == "function_call"
            and item.get("name") == END_TOOL["name"]
        ):
            return True
    return False
