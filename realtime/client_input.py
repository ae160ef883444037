"""What the browser tells a live session: mic audio, playback reports, barge-in, recording start.

Each message is checked against what the session can have seen (its real elapsed time,
the AI chunks it sent, the de-duplication window) before it touches the timeline, so a
forged or absurd value gets a protocol error and never a bigger WAV. ``LiveSession``
mixes this in; the attributes used here (``state``, ``buffer``, ``clock``, ``provider``,
``latency``, ``events``, ``opened_wall``) are the session's own.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from . import services
from .audio_buffer import SeqOutOfWindow, UnknownSeq
from .protocol import SAMPLE_RATE, ProtocolError

logger = logging.getLogger("realtime.session")


class ClientInput:
    def _gone(self, what: str) -> bool:
        """Frames still in flight when the session ended are dropped, quietly."""
        if not self.state.finished:
            return False
        logger.debug("Session %s: %s after the session ended, dropped", self.session_id, what)
        return True

    def check_timestamp(self, timestamp: float, ahead: float = 0.0) -> None:
        """Refuse a client time that cannot have happened yet (or past the interview's cap).

        ``ahead``: how far the client may legitimately schedule beyond now (AI audio
        already sent and queued for playback). Bounded inputs keep the mix bounded: one
        chunk stamped two hours ahead would otherwise make hours of WAV.
        """
        elapsed = time.time() - self.opened_wall
        limit = min(
            elapsed + settings.CLIENT_CLOCK_SLACK_SECONDS + ahead,
            settings.MAX_INTERVIEW_SECONDS,
        )
        if timestamp > limit:
            raise ProtocolError(
                "timestamp_out_of_range",
                f"Timestamp {timestamp:.3f} s is later than the session can have run "
                f"({limit:.1f} s).",
            )

    async def on_mic(self, seq: int, timestamp: float, pcm: bytes) -> None:
        if self._gone("mic chunk"):
            return
        now = time.monotonic()
        self.check_timestamp(timestamp)
        try:
            fresh = self.buffer.add_mic_chunk(seq, timestamp, pcm)
        except SeqOutOfWindow:
            raise ProtocolError(
                "seq_out_of_window",
                f"Mic seq {seq} is too far ahead of the last one received; "
                f"send from {self.buffer.resume_from_seq}.",
            ) from None
        if not fresh:
            return  # duplicate (e.g. resent after a reconnect): already stored and forwarded
        duration_ms = len(pcm) / (SAMPLE_RATE * 2 / 1000)
        self.clock.observe(timestamp + duration_ms / 1000, now)
        self.input_map.add(timestamp, duration_ms)
        if self.provider is not None:
            await self.provider.append_audio(pcm)

    async def on_ai_played(self, seq: int, timestamp: float) -> None:
        if self._gone("playback report"):
            return
        queued = max(0.0, self.buffer.playback_end() - self.clock.now())
        self.check_timestamp(timestamp, ahead=queued)
        try:
            fresh = self.buffer.update_ai_timestamp(seq, timestamp)
        except UnknownSeq:
            raise ProtocolError("unknown_seq", f"No AI chunk with seq {seq} was sent.") from None
        if not fresh:
            return
        figures = self.latency.ai_played(seq, timestamp)
        if figures is not None:
            self.buffer.event(
                "turn_latency", timestamp, **{k: v for k, v in figures.items() if v is not None}
            )
            await services.save_latency(self.interview_id, self.latency.summary())

    async def on_interrupted(self, seq: int, played_ms: float, *, leaving: bool = False) -> None:
        if self._gone("interruption"):
            return
        try:
            cut = self.buffer.truncate_ai(seq, played_ms)
        except UnknownSeq:
            raise ProtocolError("unknown_seq", f"No AI chunk with seq {seq} was sent.") from None
        if cut is None:
            return
        if leaving:
            # The page's own word on where playback stood as it went away: the detach that
            # follows tells the provider, and the reply is asked again on the resume.
            self.buffer.event("page_left", cut.cut_t, item_id=cut.item_id)
            self.leaving_cut = cut
            return
        self.buffer.event("barge_in", cut.cut_t, item_id=cut.item_id, audio_end_ms=cut.audio_end_ms)
        self.events.remember_cut(cut.item_id, cut.cut_t)
        if self.provider is not None:
            await self.provider.truncate(cut.item_id, cut.audio_end_ms)

    def on_recording_started(self, timestamp: float, segment: int | None = None) -> None:
        if self._gone("recording start"):
            return
        self.check_timestamp(timestamp)
        self.buffer.recording_started(timestamp, segment)
