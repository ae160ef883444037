"""Optional in-process timing of the proxy's hot path, for the benchmark.

Off unless ``REALTIME_METRICS_FILE`` is set (only the benchmark's settings do). Then
each mic chunk's handling time (frame handed to the consumer → validated, spooled,
buffered and passed to the provider) goes into a log-bucket histogram, a ticker
measures event-loop lag every 10 ms (how long a frame could wait before its handler
runs) and garbage-collector pauses; all are written with the process CPU time to the file twice a second.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import time

from django.conf import settings

_BUCKETS_PER_DECADE = 50
_MIN_EXP = -7  # 100 ns


class Histogram:
    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0

    def add(self, seconds: float) -> None:
        index = math.floor((math.log10(max(seconds, 1e-7)) - _MIN_EXP) * _BUCKETS_PER_DECADE)
        self.counts[index] = self.counts.get(index, 0) + 1
        self.total += 1

    @staticmethod
    def bucket_upper(index: int) -> float:
        return 10 ** (_MIN_EXP + (index + 1) / _BUCKETS_PER_DECADE)


class _Metrics:
    def __init__(self) -> None:
        self.path = getattr(settings, "REALTIME_METRICS_FILE", None)
        self.enabled = bool(self.path)
        self.mic = Histogram()
        self.lag = Histogram()
        self.gc_pause = Histogram()
        self._gc_started = 0.0
        self._task: asyncio.Task | None = None

    def ensure_started(self) -> None:
        if self.enabled and self._task is None:
            gc.callbacks.append(self._on_gc)
            self._task = asyncio.get_running_loop().create_task(self._run())

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            self.gc_pause.add(time.perf_counter() - self._gc_started)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_dump = loop.time()
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            self.lag.add(max(0.0, loop.time() - before - 0.01))
            if loop.time() - last_dump >= 0.5:
                last_dump = loop.time()
                self.dump()

    def dump(self) -> None:
        times = os.times()
        data = {
            "mic": self.mic.counts,
            "lag": self.lag.counts,
            "gc": self.gc_pause.counts,
            "loadavg": os.getloadavg()[0],
            "cpu_seconds": times.user + times.system,
            "wall": time.time(),
        }
        tmp = f"{self.path}.tmp"
        with open(tmp, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, self.path)


_metrics: _Metrics | None = None


def metrics() -> _Metrics:
    global _metrics
    if _metrics is None:
        _metrics = _Metrics()
    return _metrics
