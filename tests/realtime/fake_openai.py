"""A loopback stand-in for the OpenAI Realtime (GA) websocket, as strict as the real server.

It checks what a real server checks (bearer key, ``model`` query, no beta header, the
``session.update`` shape with 24 kHz PCM and a known voice, truncation of unknown items or
past the audio sent, one response at a time, cancelling nothing), echoes every item a
client creates, runs a crude server VAD on the appended audio, transcribes each turn with
scripted text (deltas, then ``completed`` with usage, or ``failed``) and answers every turn
with scripted audio, its transcript and usage. Every event either way is held against the
SDK's types (``sdk_events.py``). Tests can inject events, drop the TCP connection, refuse
new connections, make responses fail, expire sessions after a few seconds, or answer every
new connection with a quota or key error and a close, the way OpenAI does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus

import numpy as np
import websockets
from websockets.asyncio.server import ServerConnection

from . import fake_openai_events as ev
from . import sdk_events

RATE = 24000
API_KEY = "sk-test-fake"


def tone(ms: int, freq: float = 220.0, amplitude: int = 6000) -> bytes:
    t = np.arange(RATE * ms // 1000) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


@dataclass
class Connection:
    ws: ServerConnection
    path: str
    headers: dict
    received: list[dict] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)
    items: dict[str, float] = field(default_factory=dict)  # assistant item → audio ms sent
    known_items: set[str] = field(default_factory=set)
    configured: bool = False
    unconfigured_responses: int = 0  # response.create before any accepted session.update
    input_ms: float = 0.0
    speaking: bool = False
    speech_start_ms: float = 0.0
    quiet_ms: float = 0.0
    response_task: asyncio.Task | None = None
    response_id: str = ""
    user_item: str = ""


class FakeRealtimeServer:
    def __init__(
        self,
        reply_ms: int = 600,
        silence_ms: int = 500,
        end_after_turns: int | None = None,
        session_cap_seconds: float | None = None,
        prefix_padding_ms: int = 300,
    ):
        self.reply_ms = reply_ms
        self.silence_ms = silence_ms
        self.end_after_turns = end_after_turns
        self.session_cap_seconds = session_cap_seconds
        self.prefix_padding_ms = prefix_padding_ms
        self.connections: list[Connection] = []
        self.refuse = False
        #: A code of ``fake_openai_events.FINAL_ERRORS``: every new connection gets that
        #: ``error`` right after ``session.created``, then a close.
        self.final_error: str | None = None
        #: Statuses for the next responses ("failed", "incomplete"); then "completed".
        self.response_statuses: deque[str] = deque()
        #: Outcomes for the next transcriptions ("failed"); then they complete.
        self.transcription_results: deque[str] = deque()
        self.transcripts = itertools.cycle(["I built a billing service.", "I test with pytest."])
        self._ids = itertools.count(1)
        self._server = None
        self.port = 0
        self.turns = 0

    # -- control ---------------------------------------------------------------
    async def __aenter__(self) -> FakeRealtimeServer:
        self._server = await websockets.serve(
            self._handle, "127.0.0.1", 0, process_request=self._check_request, max_size=16 * 2**20
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def latest(self) -> Connection:
        return self.connections[-1]

    async def send(self, event: dict, connection: Connection | None = None) -> None:
        await self._emit(connection or self.latest(), event)

    def drop(self) -> None:
        """Abort the TCP connection without a close frame (a network drop: 1006)."""
        self.latest().ws.transport.abort()

    async def wait_for(self, predicate, timeout: float = 5.0, connection: Connection | None = None):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for conn in [connection] if connection else list(self.connections):
                for event in conn.received:
                    if predicate(event):
                        return event
            await asyncio.sleep(0.01)
        raise AssertionError("the fake server never received the expected event")

    # -- protocol --------------------------------------------------------------
    def _check_request(self, connection, request):
        if self.refuse:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "unavailable\n")
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad key\n")
        if not request.path.startswith("/v1/realtime?") or "model=" not in request.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        if request.headers.get("OpenAI-Beta"):
            return connection.respond(HTTPStatus.BAD_REQUEST, "beta header refused\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        conn = Connection(ws, ws.request.path, dict(ws.request.headers))
        self.connections.append(conn)
        await self._emit(conn, {"type": "session.created", "session": {"type": "realtime"}})
        if self.final_error:
            kind, message = ev.FINAL_ERRORS[self.final_error]
            await self._emit(conn, ev.error(self.final_error, message, kind=kind))
            await ws.close(1008, self.final_error)
            return
        expiry = None
        if self.session_cap_seconds is not None:
            expiry = asyncio.get_running_loop().create_task(self._expire(conn))
        try:
            async for raw in ws:
                event = json.loads(raw)
                conn.received.append(event)
                problem = sdk_events.record("client", event)
                if problem:
                    await self._emit(conn, ev.error("invalid_event", problem[:500]))
                    continue
                await self._on_event(conn, event)
        except websockets.ConnectionClosed:
            pass
        finally:
            if conn.response_task:
                conn.response_task.cancel()
            if expiry is not None:
                expiry.cancel()

    async def _expire(self, conn: Connection) -> None:
        await asyncio.sleep(self.session_cap_seconds)
        minutes = self.session_cap_seconds / 60
        await self._emit(
            conn,
            ev.error(
                "session_expired",
                f"Your session hit the maximum duration of {minutes:g} minutes.",
            ),
        )
        await conn.ws.close(1000, "session expired")

    async def _on_event(self, conn: Connection, event: dict) -> None:
        kind = event["type"]
        if kind == "session.update":
            problem = ev.session_problem(event["session"])
            if problem:
                await self._emit(conn, ev.error("invalid_value", problem, "session"))
            else:
                conn.configured = True
                await self._emit(conn, {"type": "session.updated", "session": event["session"]})
        elif kind == "input_audio_buffer.append":
            await self._on_audio(conn, base64.b64decode(event["audio"]))
        elif kind == "conversation.item.create":
            item = {**event["item"], "status": "completed"}
            item.setdefault("id", self._id("item"))
            conn.known_items.add(item["id"])
            await self._emit(conn, {"type": "conversation.item.added", "item": item})
            await self._emit(conn, {"type": "conversation.item.done", "item": item})
        elif kind == "response.create":
            if self._responding(conn):
                await self._error_active(conn)
            else:
                if not conn.configured:
                    conn.unconfigured_responses += 1
                self._respond(conn)
        elif kind == "response.cancel":
            if self._responding(conn):
                conn.response_task.cancel()
            else:
                await self._emit(
                    conn,
                    ev.error(
                        "response_cancel_not_active", "Cancellation failed: no active response."
                    ),
                )
        elif kind == "conversation.item.truncate":
            await self._truncate(conn, event["item_id"], event["audio_end_ms"])
        else:
            await self._emit(conn, ev.error("unknown_event", f"Unsupported event {kind}", "type"))

    async def _error_active(self, conn: Connection) -> None:
        await self._emit(
            conn,
            ev.error(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {conn.response_id}. "
                "Wait until the response is finished before creating a new one.",
            ),
        )

    async def _truncate(self, conn: Connection, item_id: str, end: int) -> None:
        if item_id not in conn.items:
            await self._emit(
                conn,
                ev.error("item_not_found", f"Item with item_id not found: {item_id}", "item_id"),
            )
        elif end > conn.items[item_id]:
            await self._emit(
                conn,
                ev.error(
                    "invalid_value", "audio_end_ms is longer than the item's audio", "audio_end_ms"
                ),
            )
        else:
            # Like OpenAI: no transcript here, the cut text is the client's business.
            await self._emit(
                conn,
                {
                    "type": "conversation.item.truncated",
                    "item_id": item_id,
                    "content_index": 0,
                    "audio_end_ms": end,
                },
            )

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

    @staticmethod
    def _responding(conn: Connection) -> bool:
        return conn.response_task is not None and not conn.response_task.done()

    def _respond(self, conn: Connection) -> None:
        if self._responding(conn):
            conn.response_task.cancel()
        conn.response_id = self._id("resp")
        conn.response_task = asyncio.get_running_loop().create_task(
            self._response(conn, conn.response_id)
        )

    async def _response(self, conn: Connection, response_id: str) -> None:
        item_id = self._id("item")
        finishing = self.end_after_turns is not None and self.turns >= self.end_after_turns
        text = "Thank you, goodbye." if finishing else f"Question number {self.turns + 1}?"
        status = self.response_statuses.popleft() if self.response_statuses else "completed"
        await self._emit(
            conn,
            {"type": "response.created", "response": {"id": response_id, "status": "in_progress"}},
        )
        output, sent_ms = [], 0.0
        if status == "completed":
            try:
                output, sent_ms = await self._speak(conn, response_id, item_id, text)
            except asyncio.CancelledError:
                status = "cancelled"
                output = [self._assistant_item(item_id, text, "incomplete")]
                sent_ms = conn.items.get(item_id, 0.0)
        if finishing and status == "completed":
            output.append(
                {
                    "type": "function_call",
                    "id": self._id("item"),
                    "name": "end_interview",
                    "call_id": "call_1",
                    "arguments": "{}",
                    "status": "completed",
                }
            )
        response = {"id": response_id, "status": status, "output": output}
        details = ev.status_details(status)
        if details:
            response["status_details"] = details
        response["usage"] = ev.response_usage(sent_ms, text if output else "")
        await self._emit(conn, {"type": "response.done", "response": response})
        await self._emit(conn, ev.rate_limits(remaining_requests=999 - len(conn.items)))

    def _assistant_item(self, item_id: str, text: str, status: str) -> dict:
        return {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": [{"type": "output_audio", "transcript": text}],
        }

    async def _speak(self, conn: Connection, response_id: str, item_id: str, text: str):
        where = {"response_id": response_id, "item_id": item_id, "output_index": 0}
        where["content_index"] = 0
        item = {**self._assistant_item(item_id, text, "in_progress"), "content": []}
        await self._emit(conn, {"type": "conversation.item.added", "item": item})
        conn.items[item_id] = 0.0
        conn.known_items.add(item_id)
        audio = tone(self.reply_ms, freq=330.0)
        words = text.split(" ")
        pieces = range(0, len(audio), 4800)
        try:
            for index, offset in enumerate(pieces):
                piece = audio[offset : offset + 4800]
                if index < len(words):  # the words run ahead of the audio, as they do
                    delta = words[index] if index == 0 else " " + words[index]
                    await self._emit(
                        conn,
                        {"type": "response.output_audio_transcript.delta", **where, "delta": delta},
                    )
                await self._emit(
                    conn,
                    {
                        "type": "response.output_audio.delta",
                        **where,
                        "delta": base64.b64encode(piece).decode(),
                    },
                )
                conn.items[item_id] += len(piece) / 48
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            await self._emit(
                conn,
                {
                    "type": "conversation.item.done",
                    "item": self._assistant_item(item_id, text, "incomplete"),
                },
            )
            raise
        rest = " ".join(words[len(pieces) :])
        if rest:
            await self._emit(
                conn,
                {"type": "response.output_audio_transcript.delta", **where, "delta": " " + rest},
            )
        await self._emit(conn, {"type": "response.output_audio.done", **where})
        await self._emit(
            conn, {"type": "response.output_audio_transcript.done", **where, "transcript": text}
        )
        done = self._assistant_item(item_id, text, "completed")
        await self._emit(conn, {"type": "conversation.item.done", "item": done})
        return [done], conn.items[item_id]

    async def _emit(self, conn: Connection, event: dict) -> None:
        event = {"event_id": self._id("event"), **event}
        sdk_events.record("server", event)
        conn.sent.append(event)
        with contextlib.suppress(websockets.ConnectionClosed):
            await conn.ws.send(json.dumps(event))

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"
