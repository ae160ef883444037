"""Shared helpers for the realtime tests: a scripted browser and test audio."""

from __future__ import annotations

import asyncio
import base64
import json
from functools import lru_cache

import numpy as np
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from realtime.providers.tts import EspeakSynthesizer
from realtime.routing import websocket_urlpatterns

RATE = 24000
CHUNK = RATE // 10  # 100 ms


def application():
    return URLRouter(websocket_urlpatterns)


@lru_cache(maxsize=4)
def speech_pcm(
    text: str = "I fixed a billing bug that double charged customers last month.",
) -> bytes:
    """Real speech (eSpeak NG) at 24 kHz, used as the candidate's voice."""
    return EspeakSynthesizer(voice="en-us").synthesize(text).pcm


def silence_pcm(ms: int) -> bytes:
    return bytes(RATE * 2 * ms // 1000)


def noise_pcm(ms: int, dbfs: float = -45.0, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    amplitude = 32768 * 10 ** (dbfs / 20)
    samples = rng.normal(0, amplitude, RATE * ms // 1000)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def mix(a: bytes, b: bytes) -> bytes:
    x = np.frombuffer(a, "<i2").astype(np.int32)
    y = np.frombuffer(b, "<i2").astype(np.int32)
    n = min(len(x), len(y))
    return np.clip(x[:n] + y[:n], -32768, 32767).astype("<i2").tobytes()


def chunks(pcm: bytes, size: int = CHUNK * 2):
    for offset in range(0, len(pcm) - len(pcm) % 2, size):
        yield pcm[offset : offset + size]


class Browser:
    """Speaks the /ws/session protocol the way the page does, on a simulated clock."""

    def __init__(self, path: str = "/ws/session"):
        self.ws = WebsocketCommunicator(application(), path)
        self.seq = 0
        self.clock = 0.0  # seconds of mic audio sent: the client's interview clock
        self.play_at = 0.0  # when the next AI chunk would start playing
        self.messages: list[dict] = []
        self.tts: list[dict] = []
        self.auto_play = True
        self._cursor = 0  # messages before this index were already matched by expect()

    async def connect(self):
        connected, _ = await self.ws.connect()
        assert connected
        return self

    async def start(self, interview_id, token, session_id="sess-1"):
        await self.send(
            {
                "event": "start",
                "session_id": session_id,
                "interview_id": interview_id,
                "token": token,
            }
        )
        return await self.expect("session_ready")

    async def send(self, data: dict):
        await self.ws.send_to(text_data=json.dumps(data))

    async def send_raw(self, text=None, binary=None):
        await self.ws.send_to(text_data=text, bytes_data=binary)

    async def send_audio(self, pcm: bytes, drain: bool = True):
        for piece in chunks(pcm):
            await self.send(
                {
                    "event": "mic_chunk",
                    "seq": self.seq,
                    "audio_b64": base64.b64encode(piece).decode(),
                    "timestamp": round(self.clock, 6),
                }
            )
            self.seq += 1
            self.clock += len(piece) / 2 / RATE
            if drain:
                await self.drain()

    async def receive(self, timeout: float = 5.0) -> dict:
        message = await self.ws.receive_json_from(timeout=timeout)
        self.messages.append(message)
        if message.get("event") == "tts_chunk":
            self.tts.append(message)
            if self.auto_play:
                start = max(self.play_at, self.clock)
                duration = len(base64.b64decode(message["audio_b64"])) / 2 / RATE
                self.play_at = start + duration
                await self.send(
                    {"event": "ai_chunk_played", "seq": message["seq"], "timestamp": start}
                )
        return message

    async def drain(self) -> list[dict]:
        """Handle whatever the server has sent so far, without waiting."""
        got = []
        while not await self.ws.receive_nothing(timeout=0.001, interval=0.001):
            got.append(await self.receive())
        return got

    async def expect(self, event: str, timeout: float = 5.0, **match) -> dict:
        """The next message of this kind, including ones already received by drain()."""

        def matches(message):
            return message.get("event") == event and all(
                message.get(k) == v for k, v in match.items()
            )

        for index in range(self._cursor, len(self.messages)):
            if matches(self.messages[index]):
                self._cursor = index + 1
                return self.messages[index]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"no {event} {match or ''} within {timeout}s; got {self.events()}"
                )
            try:
                message = await self.receive(timeout=remaining)
            except TimeoutError:
                raise AssertionError(
                    f"no {event} {match or ''} within {timeout}s; got {self.events()}"
                ) from None
            if matches(message):
                self._cursor = len(self.messages)
                return message

    async def wait_ai_quiet(self, quiet: float = 0.3, timeout: float = 10.0):
        """Receive until no tts_chunk arrived for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await self.ws.receive_nothing(timeout=quiet, interval=0.01):
                return
            await self.receive()
        raise AssertionError("AI audio never stopped")

    def events(self) -> list[str]:
        return [m.get("event") for m in self.messages]

    async def close(self):
        await self.ws.disconnect()


async def catch_up(browser: Browser, extra_ms: int = 200):
    """Send silence until the client clock passes the end of the AI audio it was playing."""
    behind_ms = int(max(0.0, browser.play_at - browser.clock) * 1000) + extra_ms
    behind_ms -= behind_ms % 100
    await browser.send_audio(silence_pcm(behind_ms))


async def settle(live, browser: Browser, timeout: float = 3.0):
    """Wait until the server has processed every mic chunk the browser sent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while live.buffer.resume_from_seq < browser.seq:
        assert loop.time() < deadline, (
            f"server stuck at seq {live.buffer.resume_from_seq} < {browser.seq}"
        )
        await asyncio.sleep(0.005)
