"""The fake Realtime server's ears: a crude server VAD and scripted transcription.

Like OpenAI's, ``audio_start_ms`` includes the prefix padding, each turn is committed and
echoed as a user item, a reply starts at once, and the transcript arrives after it began
(deltas, then ``completed`` with usage, or ``failed``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import numpy as np

from . import fake_openai_events as ev

if TYPE_CHECKING:
    from .fake_openai import Connection

RATE = 24000


class HearsCandidate:
    """Mixed into ``FakeRealtimeServer``: what happens to appended audio."""

    async def _on_audio(self, conn: Connection, pcm: bytes) -> None:
        samples = np.frombuffer(pcm, "<i2").astype(np.float64)
        loud = len(samples) and np.sqrt(np.mean(samples**2)) > 1000
        ms = len(samples) / RATE * 1000
        start = conn.input_ms
        conn.input_ms += ms
        if loud and not conn.speaking:
            conn.speaking, conn.quiet_ms = True, 0.0
            conn.speech_start_ms = start
            conn.user_item = self._id("item")
            if self._responding(conn):
                conn.response_task.cancel()  # interrupt_response
            await self._emit(
                conn,
                {
                    "type": "input_audio_buffer.speech_started",
                    # Like OpenAI: the start includes the prefix padding before the speech.
                    "audio_start_ms": int(max(0.0, start - self.prefix_padding_ms)),
                    "item_id": conn.user_item,
                },
            )
        elif conn.speaking:
            conn.quiet_ms = 0.0 if loud else conn.quiet_ms + ms
            if conn.quiet_ms >= self.silence_ms:
                conn.speaking = False
                await self._end_turn(conn, conn.user_item, conn.input_ms - conn.speech_start_ms)

    async def _end_turn(self, conn: Connection, item_id: str, spoken_ms: float) -> None:
        await self._emit(
            conn,
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": int(conn.input_ms),
                "item_id": item_id,
            },
        )
        await self._emit(conn, {"type": "input_audio_buffer.committed", "item_id": item_id})
        item = {
            "id": item_id,
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        conn.known_items.add(item_id)
        await self._emit(conn, {"type": "conversation.item.added", "item": item})
        await self._emit(conn, {"type": "conversation.item.done", "item": item})
        self.turns += 1
        self._respond(conn)
        # Transcription lands after the reply has started, as it does for real.
        outcome = self.transcription_results.popleft() if self.transcription_results else ""
        asyncio.get_running_loop().create_task(self._transcribe(conn, item_id, spoken_ms, outcome))

    async def _transcribe(self, conn: Connection, item_id: str, spoken_ms: float, outcome: str):
        await asyncio.sleep(0.05)
        if outcome == "failed":
            await self._emit(
                conn,
                {
                    "type": "conversation.item.input_audio_transcription.failed",
                    "item_id": item_id,
                    "content_index": 0,
                    "error": {
                        "type": "transcription_error",
                        "code": "audio_unintelligible",
                        "message": "Audio could not be transcribed.",
                    },
                },
            )
            return
        text = next(self.transcripts)
        words = text.split(" ")
        for part in (" ".join(words[: len(words) // 2]), " " + " ".join(words[len(words) // 2 :])):
            await self._emit(
                conn,
                {
                    "type": "conversation.item.input_audio_transcription.delta",
                    "item_id": item_id,
                    "content_index": 0,
                    "delta": part,
                },
            )
        await self._emit(
            conn,
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "content_index": 0,
                "transcript": text,
                "usage": ev.transcription_usage(spoken_ms, text),
            },
        )
