"""The offline interviewer's voice: each reply synthesised by eSpeak NG and streamed as
OpenAI Realtime's audio deltas, paced to real time (``LocalTiming.speed``) a lead ahead of
playback, with its words revealed as caption deltas in step with what the listener hears.

``LocalInterviewer`` mixes this in; the attributes used here (``timing``, ``_tts``, ``_ids``,
``_prefix``, the current and last replies, ``emit``) are the interviewer's.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

from .tts import OUTPUT_RATE, Speech


@dataclass
class Reply:
    """One interviewer reply being spoken: its ids, its audio, how much was sent and heard."""

    item_id: str
    response_id: str
    speech: Speech
    kind: str  # "question" | "closing" | "other"
    sent_ms: float = 0.0
    heard_ms: float | None = None  # set by truncate
    cancelled: bool = False
    captioned: str = ""  # the words already sent as captions


class SpokenReplies:
    def _start_reply(self, text: str, kind: str) -> None:
        self._stop_reply()
        self._reply_task = asyncio.get_running_loop().create_task(self._speak(text, kind))

    def _stop_reply(self) -> None:
        task = self._reply_task
        if task is not None and not task.done():
            task.cancel()
        self._playback_end = 0.0

    def _find_reply(self, item_id: str) -> Reply | None:
        for reply in (self._reply, self._last_question):
            if reply is not None and reply.item_id == item_id:
                return reply
        return None

    async def _speak(self, text: str, kind: str) -> None:
        speech = await asyncio.to_thread(self._tts.synthesize, text)
        reply = Reply(
            item_id=f"item_{self._prefix}_{next(self._ids)}",
            response_id=f"resp_{self._prefix}_{next(self._ids)}",
            speech=speech,
            kind=kind,
        )
        self._reply = reply
        if kind == "question":
            self._last_question = reply
        item = {
            "id": reply.item_id,
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        self.emit(
            {
                "type": "response.created",
                "response": {"id": reply.response_id, "status": "in_progress"},
            }
        )
        self.emit({"type": "conversation.item.added", "item": item})
        t = self.timing
        loop = asyncio.get_running_loop()
        chunk_bytes = OUTPUT_RATE * 2 * t.chunk_ms // 1000
        start = loop.time()
        self._playback_end = start + speech.duration_ms / 1000 / t.speed
        status = "completed"
        try:
            for offset in range(0, len(speech.pcm), chunk_bytes):
                piece = speech.pcm[offset : offset + chunk_bytes]
                due = start + max(0.0, reply.sent_ms - t.lead_ms) / 1000 / t.speed
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                # The listener is about one lead behind what is sent: caption what they hear.
                self._caption(reply, reply.sent_ms - t.lead_ms)
                self.emit(
                    {
                        "type": "response.output_audio.delta",
                        "response_id": reply.response_id,
                        "item_id": reply.item_id,
                        "output_index": 0,
                        "content_index": 0,
                        "delta": base64.b64encode(piece).decode("ascii"),
                    }
                )
                reply.sent_ms += len(piece) / 2 / OUTPUT_RATE * 1000
        except asyncio.CancelledError:
            status = "cancelled"
            reply.cancelled = True
        transcript = speech.text if status == "completed" else speech.text_until(reply.sent_ms)
        self.emit(
            {
                "type": "response.output_audio.done",
                "response_id": reply.response_id,
                "item_id": reply.item_id,
            }
        )
        self.emit(
            {
                "type": "response.output_audio_transcript.done",
                "response_id": reply.response_id,
                "item_id": reply.item_id,
                "transcript": transcript,
            }
        )
        done_item = {
            **item,
            "status": "completed" if status == "completed" else "incomplete",
            "content": [{"type": "output_audio", "transcript": transcript}],
        }
        self.emit({"type": "conversation.item.done", "item": done_item})
        self.emit(
            {"type": "response.done", "response": {"id": reply.response_id, "status": status}}
        )
        if kind == "closing" and status == "completed":
            loop = asyncio.get_running_loop()
            self._complete_task = loop.create_task(self._complete_when_transcribed())

    def _caption(self, reply: Reply, heard_ms: float) -> None:
        """Reveal the reply's words in step with playback, as OpenAI's transcript deltas do."""
        words = reply.speech.text_until(heard_ms)
        if len(words) <= len(reply.captioned) or not words.startswith(reply.captioned):
            return
        delta, reply.captioned = words[len(reply.captioned) :], words
        self.emit(
            {
                "type": "response.output_audio_transcript.delta",
                "response_id": reply.response_id,
                "item_id": reply.item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": delta,
            }
        )
