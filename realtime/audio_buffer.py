"""Timeline bookkeeping for one session's audio, written through to the spool as it arrives.

PCM goes straight to ``media_export.spool.SpoolWriter`` (append-only files); this class
keeps only small, bounded metadata: which mic seqs arrived (a watermark plus the few
above it), and for recent AI chunks their item, offset in the item, duration and
timestamp. That is enough to drop duplicates, place out-of-order chunks, rewrite AI
timestamps from client telemetry and turn a barge-in into ``audio_end_ms``.
A resumed session (same ``session_id``) restores this state from the spool itself.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from media_export.spool import SAMPLE_RATE, SessionSpool, SpoolWriter

logger = logging.getLogger("realtime.audio_buffer")

BYTES_PER_MS = SAMPLE_RATE * 2 / 1000  # 48 bytes of PCM16 per millisecond


class UnknownSeq(LookupError):
    """Telemetry names an AI chunk the server never sent."""


class SeqOutOfWindow(ValueError):
    """A mic seq too far beyond the highest one received: refused, nothing moves."""


@dataclass(slots=True)
class AiChunk:
    seq: int
    item_id: str
    response_id: str
    item_offset_ms: float  # where this chunk starts within its item's audio
    duration_ms: float
    t: float  # client-clock start: provisional until the client reports playback
    played: bool = False
    cut_ms: float | None = None


@dataclass(slots=True)
class AiItem:
    item_id: str
    received_ms: float = 0.0  # audio received for the item so far
    first_seq: int = -1
    start_t: float | None = None
    end_t: float | None = None


@dataclass(frozen=True)
class Truncation:
    item_id: str
    audio_end_ms: int  # what the candidate heard of the item, never past what was received
    cut_t: float  # client-clock time of the cut


class AudioBuffer:
    def __init__(
        self,
        spool: SpoolWriter,
        *,
        restore: SessionSpool | None = None,
        max_mic_gap: int = 600,
        ai_window: int = 1200,
        item_window: int = 64,
    ):
        self.spool = spool
        self.max_mic_gap = max_mic_gap
        self._mic_next = 0  # every mic seq below this has been received
        self._mic_ahead: set[int] = set()  # received seqs at or above the watermark
        self._mic_high = 0  # one past the highest mic seq received
        self._ai_next = 0
        self._ai: OrderedDict[int, AiChunk] = OrderedDict()
        self._items: OrderedDict[str, AiItem] = OrderedDict()
        self._ai_window = ai_window
        self._item_window = item_window
        self._tail_end = 0.0  # client-clock end of the last AI chunk sent
        self.mic_chunks = 0
        self.ai_chunks = 0
        self.recording_started_at: float | None = None
        if restore is not None:
            self._restore(restore)

    # -- mic -------------------------------------------------------------------
    @property
    def resume_from_seq(self) -> int:
        """The next mic seq the server wants: everything below it has arrived."""
        return self._mic_next

    def has_mic(self, seq: int) -> bool:
        return seq < self._mic_next or seq in self._mic_ahead

    def add_mic_chunk(self, seq: int, timestamp: float, pcm: bytes) -> bool:
        """Store a mic chunk at its client timestamp. Returns False for a duplicate."""
        if self.has_mic(seq):
            return False
        if seq > self._mic_high + self.max_mic_gap:
            # A seq from far ahead would drag the de-duplication watermark with it and
            # turn the real chunks that follow into "duplicates".
            raise SeqOutOfWindow(seq)
        self.spool.add_mic(seq, timestamp, pcm)
        self.mic_chunks += 1
        self._mark_mic(seq)
        return True

    def _mark_mic(self, seq: int) -> None:
        self._mic_high = max(self._mic_high, seq + 1)
        self._mic_ahead.add(seq)
        if seq - self._mic_next > self.max_mic_gap:
            # A gap the client never fills must not pin the watermark (and memory) forever.
            self._mic_next = min(self._mic_ahead)
        while self._mic_next in self._mic_ahead:
            self._mic_ahead.discard(self._mic_next)
            self._mic_next += 1

    # -- AI --------------------------------------------------------------------
    @property
    def next_ai_seq(self) -> int:
        return self._ai_next

    def add_ai_chunk(self, pcm: bytes, item_id: str, response_id: str, received_t: float) -> int:
        """Store an AI delta and return its ``ai_seq``.

        The provisional timestamp is the receive time on the client clock, or the end
        of the previous chunk if that is later (the player queues chunks back to back).
        """
        seq = self._ai_next
        self._ai_next += 1
        duration = len(pcm) / BYTES_PER_MS
        item = self._items.get(item_id)
        if item is None:
            item = AiItem(item_id=item_id, first_seq=seq)
            self._items[item_id] = item
            while len(self._items) > self._item_window:
                self._items.popitem(last=False)
        t = max(received_t, self._tail_end)
        chunk = AiChunk(seq, item_id, response_id, item.received_ms, duration, t)
        item.received_ms += duration
        if item.start_t is None:
            item.start_t = t
        item.end_t = t + duration / 1000
        self._tail_end = t + duration / 1000
        self._ai[seq] = chunk
        while len(self._ai) > self._ai_window:
            self._ai.popitem(last=False)
        self.spool.add_ai(seq, t, pcm, item_id, response_id)
        self.ai_chunks += 1
        return seq

    def _known(self, seq: int) -> AiChunk | None:
        if seq < 0 or seq >= self._ai_next:
            raise UnknownSeq(seq)
        return self._ai.get(seq)  # None: sent long ago, its metadata already dropped

    def update_ai_timestamp(self, seq: int, timestamp: float) -> bool:
        """Client telemetry: chunk ``seq`` was scheduled to play at ``timestamp``.

        Returns False when that chunk's playback was already reported (first report wins).
        """
        chunk = self._known(seq)
        if chunk is not None:
            if chunk.played:
                return False
            logger.debug("Updated AI chunk timestamp seq=%d %.3f -> %.3f", seq, chunk.t, timestamp)
            chunk.t = timestamp
            chunk.played = True
            item = self._items.get(chunk.item_id)
            if item is not None:
                if seq == item.first_seq:
                    item.start_t = timestamp
                item.end_t = max(item.end_t or 0.0, timestamp + chunk.duration_ms / 1000)
            self._tail_end = max(self._tail_end, timestamp + chunk.duration_ms / 1000)
        else:
            logger.debug(
                "Updated AI chunk timestamp seq=%d -> %.3f (metadata expired)", seq, timestamp
            )
        self.spool.ai_played(seq, timestamp)
        return True

    def truncate_ai(self, seq: int, played_ms: float) -> Truncation | None:
        """Barge-in: chunk ``seq`` was cut after ``played_ms`` and nothing later was heard.

        Returns what to tell the provider, or None for a repeated report.
        """
        chunk = self._known(seq)
        if chunk is None or chunk.cut_ms is not None:
            return None
        played = max(0.0, min(float(played_ms), chunk.duration_ms))
        chunk.cut_ms = played
        item = self._items.get(chunk.item_id)
        received = (
            item.received_ms if item is not None else chunk.item_offset_ms + chunk.duration_ms
        )
        audio_end = int(min(chunk.item_offset_ms + played, received))
        cut_t = chunk.t + played / 1000
        if item is not None:
            item.end_t = cut_t
        self._tail_end = cut_t
        self.spool.ai_cut(seq, played)
        return Truncation(chunk.item_id, audio_end, cut_t)

    def cut_at(self, now_t: float) -> Truncation | None:
        """The browser vanished mid-reply: cut the chunk playing at ``now_t`` (an estimate)."""
        for chunk in reversed(self._ai.values()):
            if chunk.t <= now_t:
                if now_t >= chunk.t + chunk.duration_ms / 1000:
                    return None  # everything sent had finished playing
                return self.truncate_ai(chunk.seq, (now_t - chunk.t) * 1000)
        return None

    def item_audio_ms(self, item_id: str) -> float:
        item = self._items.get(item_id)
        return item.received_ms if item is not None else 0.0

    def item_span(self, item_id: str) -> tuple[float | None, float | None]:
        item = self._items.get(item_id)
        return (item.start_t, item.end_t) if item is not None else (None, None)

    def response_of(self, seq: int) -> str | None:
        chunk = self._ai.get(seq)
        return chunk.response_id if chunk is not None else None

    def playback_end(self) -> float:
        """Client-clock time at which the AI audio sent so far stops playing."""
        return self._tail_end

    # -- marks -----------------------------------------------------------------
    def recording_started(self, timestamp: float, segment: int | None = None) -> None:
        self.recording_started_at = timestamp
        self.spool.recording_started(timestamp, segment)

    def event(self, name: str, timestamp: float | None, **data) -> None:
        self.spool.event(name, timestamp, **data)

    def close(self, ended: bool) -> None:
        """Flush to disk; ``ended`` writes the clean-end record first."""
        if self.spool.closed:
            return
        if ended:
            self.spool.end()
        self.spool.close()

    # -- resume ----------------------------------------------------------------
    def _restore(self, spool: SessionSpool) -> None:
        for chunk in sorted(spool.mic, key=lambda c: c.seq):
            self._mark_mic(chunk.seq)
        self.mic_chunks = len(spool.mic)
        offsets: dict[str, float] = {}
        for chunk in spool.ai:
            duration = chunk.length / BYTES_PER_MS
            offset = offsets.get(chunk.item_id, 0.0)
            offsets[chunk.item_id] = offset + duration
            t = chunk.played_at if chunk.played_at is not None else chunk.timestamp
            meta = AiChunk(
                chunk.seq,
                chunk.item_id,
                chunk.response_id,
                offset,
                duration,
                t,
                played=chunk.played_at is not None,
                cut_ms=chunk.played_ms,
            )
            self._ai[chunk.seq] = meta
            item = self._items.setdefault(
                chunk.item_id, AiItem(chunk.item_id, first_seq=chunk.seq, start_t=t)
            )
            item.received_ms = offset + duration
            item.end_t = t + duration / 1000
            self._tail_end = max(self._tail_end, t + duration / 1000)
            self._ai_next = max(self._ai_next, chunk.seq + 1)
        while len(self._ai) > self._ai_window:
            self._ai.popitem(last=False)
        while len(self._items) > self._item_window:
            self._items.popitem(last=False)
        self.ai_chunks = len(spool.ai)
        self.recording_started_at = spool.recording_started
