"""A provider for the proxy benchmark: talks in bursts of real-time AI audio, hears nothing.

Selected only by ``bench/_realtime_settings.py`` (``REALTIME_PROVIDER = "scripted"``), so
the benchmark measures the proxy, not speech synthesis or a network API.
"""

from __future__ import annotations

import asyncio
import base64
import itertools

import numpy as np

from realtime.providers.base import RealtimeProvider, SessionSeed

_t = np.arange(2400) / 24000
_CHUNK_B64 = base64.b64encode(
    (3000 * np.sin(2 * np.pi * 200 * _t)).astype("<i2").tobytes()
).decode()
_ids = itertools.count(1)


class ScriptedProvider(RealtimeProvider):
    name = "scripted"

    def __init__(self, talk_ms: int = 2000, pause_ms: int = 2000):
        super().__init__()
        self.talk_ms = talk_ms
        self.pause_ms = pause_ms
        self.received_bytes = 0
        self._task: asyncio.Task | None = None

    async def start(self, seed: SessionSeed) -> None:
        self._task = asyncio.get_running_loop().create_task(self._talk())

    async def _talk(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closed:
            n = next(_ids)
            response_id, item_id = f"resp_b{n}", f"item_b{n}"
            self.emit({"type": "response.created", "response": {"id": response_id}})
            start = loop.time()
            for i in range(self.talk_ms // 100):
                await asyncio.sleep(max(0.0, start + i * 0.1 - loop.time()))
                self.emit(
                    {
                        "type": "response.output_audio.delta",
                        "response_id": response_id,
                        "item_id": item_id,
                        "delta": _CHUNK_B64,
                    }
                )
            self.emit(
                {"type": "response.done", "response": {"id": response_id, "status": "completed"}}
            )
            await asyncio.sleep(self.pause_ms / 1000)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await super().close()

    async def append_audio(self, pcm: bytes) -> None:
        self.received_bytes += len(pcm)

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        return None

    async def cancel_response(self) -> None:
        return None

    async def resume_after_drop(self) -> None:
        return None
