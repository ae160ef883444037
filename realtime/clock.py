"""Mapping between the server's monotonic clock and the client's interview clock.

Every mic chunk says when its audio was captured on the client clock. It cannot reach
the server before its last sample was captured, so ``server_time - (t + duration)`` is
the clock offset plus the network delay; the smallest value over recent chunks is the
best estimate of the offset (the chunk that travelled fastest). Before any mic chunk
the client clock is assumed to start when ``start`` arrived.
"""

from __future__ import annotations

import time
from collections import deque


class ClientClock:
    def __init__(self, window: int = 300, now: float | None = None):
        self._origin = time.monotonic() if now is None else now
        self._offsets: deque[float] = deque(maxlen=window)
        self._cached: float | None = None

    def observe(self, client_end: float, server_now: float | None = None) -> None:
        """A chunk whose capture ended at ``client_end`` (client s) arrived now."""
        server_now = time.monotonic() if server_now is None else server_now
        offset = server_now - client_end
        if len(self._offsets) == self._offsets.maxlen:
            self._cached = None  # the evicted value may have been the minimum
        self._offsets.append(offset)
        if self._cached is not None and offset < self._cached:
            self._cached = offset

    @property
    def offset(self) -> float:
        if not self._offsets:
            return self._origin
        if self._cached is None:
            self._cached = min(self._offsets)
        return self._cached

    def to_client(self, server_time: float) -> float:
        return max(0.0, server_time - self.offset)

    def now(self) -> float:
        return self.to_client(time.monotonic())


class InputAudioMap:
    """Maps the provider's input-audio milliseconds to client-clock seconds.

    Mic chunks are forwarded to the provider in arrival order; each forwarded chunk
    covers ``[ms, ms + duration)`` of the provider's input stream and starts at its
    client timestamp. Only recent chunks are kept; older positions are extrapolated.
    """

    def __init__(self, window: int = 3000):
        self._chunks: deque[tuple[float, float, float]] = deque(
            maxlen=window
        )  # (ms, dur_ms, client_t)
        self.total_ms = 0.0

    def add(self, client_t: float, duration_ms: float) -> None:
        self._chunks.append((self.total_ms, duration_ms, client_t))
        self.total_ms += duration_ms

    def to_client(self, audio_ms: float) -> float | None:
        if not self._chunks:
            return None
        # Walk back from the newest chunk: lookups are almost always recent.
        for start_ms, _dur, client_t in reversed(self._chunks):
            if audio_ms >= start_ms:
                return client_t + (audio_ms - start_ms) / 1000.0
        start_ms, _dur, client_t = self._chunks[0]
        return max(0.0, client_t + (audio_ms - start_ms) / 1000.0)
