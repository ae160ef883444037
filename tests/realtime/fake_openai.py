"""A loopback stand-in for the OpenAI Realtime (GA) websocket, faithful to its event shapes.

It checks what a real server checks (bearer key, ``model`` query, ``session.update``
shape with 24 kHz PCM, truncation past the received audio), runs a crude server VAD
on the appended audio, transcribes each turn with scripted text and answers every
turn with scripted audio. Tests can inject events, drop the TCP connection or refuse
new connections.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from http import HTTPStatus

import numpy as np
import websockets
from websockets.asyncio.server import ServerConnection

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
    items: dict[str, float] = field(default_factory=dict)  # assistant item → audio ms sent
    input_ms: float = 0.0
    speaking: bool = False
    speech_start_ms: float = 0.0
    quiet_ms: float = 0.0
    response_task: asyncio.Task | None = None
    user_item: str = ""


class FakeRealtimeServer:
    def __init__(
        self, reply_ms: int = 600, silence_ms: int = 500, end_after_turns: int | None = None
    ):
        self.reply_ms = reply_ms
        self.silence_ms = silence_ms
        self.end_after_turns = end_after_turns
        self.connections: list[Connection] = []
        self.refuse = False
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

    async def wait_for(self, predicate, timeout: float = 5.0):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for conn in list(self.connections):
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
        await self._emit(
            conn,
            {"type": "session.created", "session": {"type": "realtime", "id": self._id("sess")}},
        )
        try:
            async for raw in ws:
                event = json.loads(raw)
                conn.received.append(event)
                await self._on_event(conn, event)
        except websockets.ConnectionClosed:
            pass
        finally:
            if conn.response_task:
                conn.response_task.cancel()

    async def _on_event(self, conn: Connection, event: dict) -> None:
        kind = event.get("type")
        if kind == "session.update":
            problem = _session_problem(event.get("session"))
            if problem:
                await self._error(conn, "invalid_value", problem, "session")
            else:
                await self._emit(conn, {"type": "session.updated", "session": event["session"]})
        elif kind == "input_audio_buffer.append":
            await self._on_audio(conn, base64.b64decode(event["audio"]))
        elif kind == "conversation.item.create":
            item = {**event["item"], "id": self._id("item"), "status": "completed"}
            await self._emit(conn, {"type": "conversation.item.added", "item": item})
            await self._emit(conn, {"type": "conversation.item.done", "item": item})
        elif kind == "response.create":
            self._respond(conn)
        elif kind == "response.cancel":
            if conn.response_task and not conn.response_task.done():
                conn.response_task.cancel()
        elif kind == "conversation.item.truncate":
            item_id, end = event.get("item_id"), event.get("audio_end_ms", 0)
            if item_id not in conn.items:
                await self._error(conn, "item_not_found", f"Item {item_id} not found", "item_id")
            elif end > conn.items[item_id]:
                await self._error(
                    conn,
                    "invalid_value",
                    "audio_end_ms is longer than the item's audio",
                    "audio_end_ms",
                )
            else:
                await self._emit(
                    conn,
                    {
                        "type": "conversation.item.truncated",
                        "item_id": item_id,
                        "content_index": 0,
                        "audio_end_ms": end,
                    },
                )
        else:
            await self._error(conn, "unknown_event", f"Unknown event {kind}", "type")

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
            if conn.response_task and not conn.response_task.done():
                conn.response_task.cancel()  # interrupt_response
            await self._emit(
                conn,
                {
                    "type": "input_audio_buffer.speech_started",
                    "audio_start_ms": int(start),
                    "item_id": conn.user_item,
                },
            )
        elif conn.speaking:
            conn.quiet_ms = 0.0 if loud else conn.quiet_ms + ms
            if conn.quiet_ms >= self.silence_ms:
                conn.speaking = False
                item_id = conn.user_item
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
                await self._emit(conn, {"type": "conversation.item.added", "item": item})
                await self._emit(conn, {"type": "conversation.item.done", "item": item})
                self.turns += 1
                self._respond(conn)
                # Transcription lands after the reply has started, as it does for real.
                asyncio.get_running_loop().call_later(
                    0.05,
                    lambda: asyncio.ensure_future(
                        self._emit(
                            conn,
                            {
                                "type": "conversation.item.input_audio_transcription.completed",
                                "item_id": item_id,
                                "content_index": 0,
                                "transcript": next(self.transcripts),
                            },
                        )
                    ),
                )

    def _respond(self, conn: Connection) -> None:
        if conn.response_task and not conn.response_task.done():
            conn.response_task.cancel()
        conn.response_task = asyncio.get_running_loop().create_task(self._response(conn))

    async def _response(self, conn: Connection) -> None:
        response_id, item_id = self._id("resp"), self._id("item")
        finishing = self.end_after_turns is not None and self.turns >= self.end_after_turns
        text = "Thank you, goodbye." if finishing else f"Question number {self.turns + 1}?"
        await self._emit(
            conn,
            {"type": "response.created", "response": {"id": response_id, "status": "in_progress"}},
        )
        item = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        await self._emit(conn, {"type": "conversation.item.added", "item": item})
        conn.items[item_id] = 0.0
        status = "completed"
        audio = tone(self.reply_ms, freq=330.0)
        try:
            for offset in range(0, len(audio), 4800):
                piece = audio[offset : offset + 4800]
                await self._emit(
                    conn,
                    {
                        "type": "response.output_audio.delta",
                        "response_id": response_id,
                        "item_id": item_id,
                        "output_index": 0,
                        "content_index": 0,
                        "delta": base64.b64encode(piece).decode(),
                    },
                )
                conn.items[item_id] += len(piece) / 48
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            status = "cancelled"
        done_item = {**item, "status": "completed" if status == "completed" else "incomplete"}
        done_item["content"] = [{"type": "output_audio", "transcript": text}]
        await self._emit(
            conn,
            {"type": "response.output_audio.done", "response_id": response_id, "item_id": item_id},
        )
        await self._emit(conn, {"type": "conversation.item.done", "item": done_item})
        output = [done_item]
        if finishing and status == "completed":
            output.append(
                {
                    "type": "function_call",
                    "name": "end_interview",
                    "call_id": "call_1",
                    "arguments": "{}",
                }
            )
        await self._emit(
            conn,
            {
                "type": "response.done",
                "response": {"id": response_id, "status": status, "output": output},
            },
        )

    async def _error(
        self, conn: Connection, code: str, message: str, param: str | None = None
    ) -> None:
        await self._emit(
            conn,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": code,
                    "message": message,
                    "param": param,
                },
            },
        )

    async def _emit(self, conn: Connection, event: dict) -> None:
        event = {"event_id": self._id("event"), **event}
        with contextlib.suppress(websockets.ConnectionClosed):
            await conn.ws.send(json.dumps(event))

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"


def _session_problem(session) -> str | None:
    if not isinstance(session, dict) or session.get("type") != "realtime":
        return "session.type must be 'realtime'"
    audio = session.get("audio") or {}
    for direction in ("input", "output"):
        fmt = (audio.get(direction) or {}).get("format") or {}
        if fmt.get("type") != "audio/pcm" or fmt.get("rate") != 24000:
            return f"audio.{direction}.format must be audio/pcm at 24000 Hz"
    return None
